// A minimal OpenAPI v3 (/openapi/v3 and /openapi/v3/<group-version>): no schemas, only the PATCH
// operations with x-kubernetes-group-version-kind and the fieldValidation parameter. That is what
// kubectl 1.32 looks for to leave field validation to the server, so `kubectl apply/create -f`
// work without a full schema download.
import { createHash } from 'node:crypto';
import { resources } from './resources.ts';
import type { Obj } from './store.ts';

function gvPath(group: string, version: string): string {
  return group ? `apis/${group}/${version}` : `api/${version}`;
}

export function openApiRoot(): Obj {
  const paths: Obj = {};
  for (const r of resources) {
    const path = gvPath(r.group, r.version);
    const hash = createHash('sha256').update(path).digest('hex').slice(0, 32).toUpperCase();
    paths[path] = { serverRelativeURL: `/openapi/v3/${path}?hash=${hash}` };
  }
  return { paths };
}

export function openApiGroupVersion(path: string, clusterVersion: string): Obj | undefined {
  const defs = resources.filter((r) => gvPath(r.group, r.version) === path);
  if (defs.length === 0) return undefined;
  const paths: Obj = {};
  for (const r of defs) {
    const prefix = `/${path}${r.namespaced ? '/namespaces/{namespace}' : ''}/${r.plural}/{name}`;
    paths[prefix] = {
      patch: {
        operationId: `patch${r.kind}`,
        'x-kubernetes-action': 'patch',
        'x-kubernetes-group-version-kind': { group: r.group, version: r.version, kind: r.kind },
        parameters: ['dryRun', 'fieldManager', 'fieldValidation', 'force'].map((name) => ({
          name,
          in: 'query',
          schema: { type: name === 'force' ? 'boolean' : 'string', uniqueItems: true },
        })),
        responses: { '200': { description: 'OK' } },
      },
    };
  }
  return { openapi: '3.0.0', info: { title: 'Kubernetes', version: `v${clusterVersion}` }, paths, components: { schemas: {} } };
}
