// Legacy discovery documents (/api, /api/v1, /apis, /apis/G, /apis/G/V) and /version. kubectl asks for
// aggregated discovery first and falls back to these when the answer is plain application/json.
import { apiGroups, resources, type ResourceDef } from './resources.ts';
import type { Obj } from './store.ts';

const verbs = ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'];

function resourceEntries(def: ResourceDef): Obj[] {
  const main: Obj = { name: def.plural, singularName: def.singular, namespaced: def.namespaced, kind: def.kind, verbs };
  if (def.shortNames) main.shortNames = def.shortNames;
  if (def.categories) main.categories = def.categories;
  const subs = def.subresources.map((sub) => {
    if (sub === 'eviction')
      return {
        name: `${def.plural}/eviction`,
        singularName: '',
        namespaced: true,
        group: 'policy',
        version: 'v1',
        kind: 'Eviction',
        verbs: ['create'],
      };
    if (sub === 'scale')
      return {
        name: `${def.plural}/scale`,
        singularName: '',
        namespaced: true,
        group: 'autoscaling',
        version: 'v1',
        kind: 'Scale',
        verbs: ['get', 'patch', 'update'],
      };
    if (sub === 'binding') return { name: `${def.plural}/binding`, singularName: '', namespaced: true, kind: 'Binding', verbs: ['create'] };
    return {
      name: `${def.plural}/${sub}`,
      singularName: '',
      namespaced: def.namespaced,
      kind: def.kind,
      verbs: ['get', 'patch', 'update'],
    };
  });
  return [main, ...subs];
}

export function resourceList(group: string, version: string): Obj | undefined {
  const defs = resources.filter((r) => r.group === group && r.version === version);
  if (defs.length === 0) return undefined;
  return {
    kind: 'APIResourceList',
    apiVersion: 'v1',
    groupVersion: group ? `${group}/${version}` : version,
    resources: defs.flatMap(resourceEntries),
  };
}

export function coreVersions(serverAddress: string): Obj {
  return { kind: 'APIVersions', versions: ['v1'], serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress }] };
}

function groupEntry(name: string, version: string): Obj {
  const gv = { groupVersion: `${name}/${version}`, version };
  return { name, versions: [gv], preferredVersion: gv };
}

export function groupList(): Obj {
  return { kind: 'APIGroupList', apiVersion: 'v1', groups: apiGroups().map((g) => groupEntry(g.name, g.version)) };
}

export function group(name: string): Obj | undefined {
  const found = apiGroups().find((g) => g.name === name);
  return found ? { kind: 'APIGroup', apiVersion: 'v1', ...groupEntry(found.name, found.version) } : undefined;
}

export function versionInfo(clusterVersion: string): Obj {
  const [major, minor] = clusterVersion.split('.');
  return {
    major: major ?? '1',
    minor: minor ?? '0',
    gitVersion: `v${clusterVersion}`,
    gitCommit: '0000000000000000000000000000000000000000',
    gitTreeState: 'clean',
    buildDate: '2024-08-14T00:00:00Z',
    goVersion: 'go1.22.6',
    compiler: 'gc',
    platform: 'linux/amd64',
  };
}
