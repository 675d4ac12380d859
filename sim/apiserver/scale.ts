// The scale subresource of Deployments and ReplicaSets (autoscaling/v1 Scale), as `kubectl scale` uses it.
import { conflict } from './errors.ts';
import type { ObjectApi } from './objects.ts';
import { isPlainObject, jsonPatch, mergePatch } from './patch.ts';
import type { ResourceDef } from './resources.ts';
import type { Obj } from './store.ts';
import { unsupportedPatchType, badRequest } from './errors.ts';

function selectorText(selector: Obj | undefined): string {
  const parts = Object.entries((selector?.matchLabels ?? {}) as Record<string, string>).map(([k, v]) => `${k}=${v}`);
  for (const e of (selector?.matchExpressions ?? []) as Obj[]) {
    if (e.operator === 'Exists') parts.push(e.key);
    else if (e.operator === 'DoesNotExist') parts.push(`!${e.key}`);
    else parts.push(`${e.key} ${e.operator === 'In' ? 'in' : 'notin'} (${(e.values ?? []).join(',')})`);
  }
  return parts.join(',');
}

export function scaleOf(obj: Obj): Obj {
  const { name, namespace, uid, resourceVersion, creationTimestamp } = obj.metadata;
  return {
    kind: 'Scale',
    apiVersion: 'autoscaling/v1',
    metadata: { name, namespace, uid, resourceVersion, creationTimestamp },
    spec: { replicas: obj.spec?.replicas ?? 1 },
    status: { replicas: obj.status?.replicas ?? 0, selector: selectorText(obj.spec?.selector) },
  };
}

function applyScale(api: ObjectApi, def: ResourceDef, obj: Obj, scale: Obj): Obj {
  const rv = scale.metadata?.resourceVersion;
  if (rv && rv !== obj.metadata.resourceVersion) throw conflict(def, obj.metadata.name);
  const replicas = scale.spec?.replicas;
  if (typeof replicas !== 'number' || replicas < 0) throw badRequest('spec.replicas must be a non-negative integer');
  return scaleOf(api.write(def, { ...obj, spec: { ...obj.spec, replicas } }));
}

export function updateScale(api: ObjectApi, def: ResourceDef, namespace: string, name: string, body: unknown): Obj {
  if (!isPlainObject(body)) throw badRequest('the body of the request is not a JSON object');
  return applyScale(api, def, api.get(def, namespace, name), body);
}

export function patchScale(api: ObjectApi, def: ResourceDef, namespace: string, name: string, contentType: string, raw: string): Obj {
  const obj = api.get(def, namespace, name);
  const type = contentType.split(';')[0]!.trim();
  let patch: unknown;
  try {
    patch = JSON.parse(raw);
  } catch (error) {
    throw badRequest(`error decoding patch: ${(error as Error).message}`);
  }
  const current = scaleOf(obj);
  let next: Obj;
  if (type === 'application/json-patch+json') next = jsonPatch(current, patch);
  else if (type === 'application/merge-patch+json' || type === 'application/strategic-merge-patch+json')
    next = mergePatch(current, patch) as Obj;
  else throw unsupportedPatchType(type, true);
  return applyScale(api, def, obj, next);
}
