// The resources this API server serves, with what discovery and the handlers need to know about each.

export interface ResourceDef {
  group: string; // '' for core
  version: string;
  plural: string;
  singular: string;
  kind: string;
  namespaced: boolean;
  shortNames?: string[];
  categories?: string[];
  /** subresources served: status, eviction, binding */
  subresources: string[];
  /** metadata.generation is bumped when anything but status/metadata changes */
  generation: boolean;
}

type Spec = Omit<ResourceDef, 'subresources' | 'generation' | 'singular'> &
  Partial<Pick<ResourceDef, 'subresources' | 'generation' | 'singular'>>;

function def(spec: Spec): ResourceDef {
  return { subresources: [], generation: false, singular: spec.kind.toLowerCase(), ...spec };
}

export const resources: ResourceDef[] = [
  def({
    group: '',
    version: 'v1',
    plural: 'namespaces',
    kind: 'Namespace',
    namespaced: false,
    shortNames: ['ns'],
    subresources: ['status'],
  }),
  def({ group: '', version: 'v1', plural: 'nodes', kind: 'Node', namespaced: false, shortNames: ['no'], subresources: ['status'] }),
  def({
    group: '',
    version: 'v1',
    plural: 'pods',
    kind: 'Pod',
    namespaced: true,
    shortNames: ['po'],
    categories: ['all'],
    subresources: ['status', 'eviction', 'binding'],
  }),
  def({ group: '', version: 'v1', plural: 'configmaps', kind: 'ConfigMap', namespaced: true, shortNames: ['cm'] }),
  def({ group: '', version: 'v1', plural: 'secrets', kind: 'Secret', namespaced: true }),
  def({ group: '', version: 'v1', plural: 'serviceaccounts', kind: 'ServiceAccount', namespaced: true, shortNames: ['sa'] }),
  def({ group: '', version: 'v1', plural: 'events', kind: 'Event', namespaced: true, shortNames: ['ev'] }),
  def({ group: '', version: 'v1', plural: 'endpoints', kind: 'Endpoints', namespaced: true, shortNames: ['ep'], singular: 'endpoints' }),
  def({
    group: '',
    version: 'v1',
    plural: 'services',
    kind: 'Service',
    namespaced: true,
    shortNames: ['svc'],
    categories: ['all'],
    subresources: ['status'],
  }),
  def({
    group: 'apps',
    version: 'v1',
    plural: 'deployments',
    kind: 'Deployment',
    namespaced: true,
    shortNames: ['deploy'],
    categories: ['all'],
    subresources: ['status', 'scale'],
    generation: true,
  }),
  def({
    group: 'apps',
    version: 'v1',
    plural: 'replicasets',
    kind: 'ReplicaSet',
    namespaced: true,
    shortNames: ['rs'],
    categories: ['all'],
    subresources: ['status', 'scale'],
    generation: true,
  }),
  def({
    group: 'apps',
    version: 'v1',
    plural: 'daemonsets',
    kind: 'DaemonSet',
    namespaced: true,
    shortNames: ['ds'],
    categories: ['all'],
    subresources: ['status'],
    generation: true,
  }),
  def({ group: 'apps', version: 'v1', plural: 'controllerrevisions', kind: 'ControllerRevision', namespaced: true }),
  def({
    group: 'policy',
    version: 'v1',
    plural: 'poddisruptionbudgets',
    kind: 'PodDisruptionBudget',
    namespaced: true,
    shortNames: ['pdb'],
    subresources: ['status'],
    generation: true,
  }),
  def({ group: 'coordination.k8s.io', version: 'v1', plural: 'leases', kind: 'Lease', namespaced: true }),
  def({
    group: 'batch',
    version: 'v1',
    plural: 'jobs',
    kind: 'Job',
    namespaced: true,
    categories: ['all'],
    subresources: ['status'],
    generation: true,
  }),
  def({ group: 'events.k8s.io', version: 'v1', plural: 'events', kind: 'Event', namespaced: true, shortNames: ['ev'] }),
  def({ group: 'rbac.authorization.k8s.io', version: 'v1', plural: 'clusterroles', kind: 'ClusterRole', namespaced: false }),
  def({ group: 'rbac.authorization.k8s.io', version: 'v1', plural: 'clusterrolebindings', kind: 'ClusterRoleBinding', namespaced: false }),
  def({ group: 'rbac.authorization.k8s.io', version: 'v1', plural: 'roles', kind: 'Role', namespaced: true }),
  def({ group: 'rbac.authorization.k8s.io', version: 'v1', plural: 'rolebindings', kind: 'RoleBinding', namespaced: true }),
];

/** "pods", "apps/deployments": the store's key for a resource. */
export function resourceKey(group: string, plural: string): string {
  return group ? `${group}/${plural}` : plural;
}

const byKey = new Map(resources.map((r) => [resourceKey(r.group, r.plural), r]));

export function findResource(group: string, version: string, plural: string): ResourceDef | undefined {
  const found = byKey.get(resourceKey(group, plural));
  return found && found.version === version ? found : undefined;
}

export function mustResource(group: string, plural: string): ResourceDef {
  const found = byKey.get(resourceKey(group, plural));
  if (!found) throw new Error(`unknown resource ${resourceKey(group, plural)}`);
  return found;
}

export function apiVersionOf(r: ResourceDef): string {
  return r.group ? `${r.group}/${r.version}` : r.version;
}

/** The groups served under /apis, in discovery order, with their single version. */
export function apiGroups(): { name: string; version: string }[] {
  const seen = new Map<string, string>();
  for (const r of resources) if (r.group && !seen.has(r.group)) seen.set(r.group, r.version);
  return [...seen].map(([name, version]) => ({ name, version }));
}

/** Well-known resource keys used by controllers. */
export const R = {
  namespaces: mustResource('', 'namespaces'),
  nodes: mustResource('', 'nodes'),
  pods: mustResource('', 'pods'),
  configmaps: mustResource('', 'configmaps'),
  events: mustResource('', 'events'),
  services: mustResource('', 'services'),
  deployments: mustResource('apps', 'deployments'),
  replicasets: mustResource('apps', 'replicasets'),
  daemonsets: mustResource('apps', 'daemonsets'),
  pdbs: mustResource('policy', 'poddisruptionbudgets'),
  leases: mustResource('coordination.k8s.io', 'leases'),
  jobs: mustResource('batch', 'jobs'),
};
