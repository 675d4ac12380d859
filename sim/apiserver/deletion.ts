// DELETE semantics: graceful pod deletion (deletionTimestamp = now + grace; unbound pods go at once),
// finalizers, namespaces that terminate, and the answer bodies (pods and namespaces return the object,
// other kinds a Success Status).
import { failure, type StatusBody } from './errors.ts';
import type { ObjectApi } from './objects.ts';
import { isPlainObject } from './patch.ts';
import { R, type ResourceDef } from './resources.ts';
import type { Obj } from './store.ts';
import { timeNow } from './util.ts';

export interface DeleteOptions {
  gracePeriodSeconds?: number;
  propagationPolicy?: string;
  preconditions?: { uid?: string; resourceVersion?: string };
  dryRun?: boolean;
}

export interface DeleteResult {
  code: number;
  body: Obj | StatusBody;
  /** the object is gone from the store (not just marked for deletion) */
  removed: boolean;
}

/** Kinds whose DELETE answers with the object rather than a Status. */
const returnsObject = new Set(['Pod', 'Namespace']);

export function parseDeleteOptions(body: unknown, query: URLSearchParams): DeleteOptions {
  const options: DeleteOptions = isPlainObject(body) ? { ...(body as DeleteOptions) } : {};
  const grace = query.get('gracePeriodSeconds');
  if (grace !== null && grace !== '') options.gracePeriodSeconds = Number(grace);
  const policy = query.get('propagationPolicy');
  if (policy) options.propagationPolicy = policy;
  if (query.getAll('dryRun').includes('All')) options.dryRun = true;
  if (isPlainObject(body) && Array.isArray((body as Obj).dryRun) && (body as Obj).dryRun.includes('All')) options.dryRun = true;
  return options;
}

function checkPreconditions(def: ResourceDef, obj: Obj, options: DeleteOptions): void {
  const pre = options.preconditions;
  if (!pre) return;
  const name = obj.metadata.name;
  const what = def.group ? `${def.plural}.${def.group}` : def.plural;
  if (pre.uid && pre.uid !== obj.metadata.uid) {
    throw failure(
      409,
      'Conflict',
      `Operation cannot be fulfilled on ${what} "${name}": Precondition failed: UID in precondition: ${pre.uid}, UID in object meta: ${obj.metadata.uid}`,
      {
        name,
        kind: def.plural,
        ...(def.group ? { group: def.group } : {}),
      },
    );
  }
  if (pre.resourceVersion && pre.resourceVersion !== obj.metadata.resourceVersion) {
    throw failure(
      409,
      'Conflict',
      `Operation cannot be fulfilled on ${what} "${name}": Precondition failed: ResourceVersion in precondition: ${pre.resourceVersion}, ResourceVersion in object meta: ${obj.metadata.resourceVersion}`,
      {
        name,
        kind: def.plural,
        ...(def.group ? { group: def.group } : {}),
      },
    );
  }
}

function answer(def: ResourceDef, obj: Obj, removed: boolean): DeleteResult {
  if (returnsObject.has(def.kind) || !removed) return { code: 200, body: obj, removed };
  const details: Obj = { name: obj.metadata.name, kind: def.plural, uid: obj.metadata.uid };
  if (def.group) details.group = def.group;
  return {
    code: 200,
    body: { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', details, code: 200 } as StatusBody,
    removed,
  };
}

/** The grace period a pod deletion gets: unbound and finished pods get 0, as the pod strategy says. */
export function podGracePeriod(pod: Obj, requested: number | undefined): number {
  if (!pod.spec?.nodeName) return 0;
  if (pod.status?.phase === 'Succeeded' || pod.status?.phase === 'Failed') return 0;
  const grace = requested ?? pod.spec?.terminationGracePeriodSeconds ?? 30;
  return Math.max(0, Math.floor(grace));
}

function deletePod(api: ObjectApi, pod: Obj, options: DeleteOptions): DeleteResult {
  const grace = podGracePeriod(pod, options.gracePeriodSeconds);
  const current = pod.metadata.deletionGracePeriodSeconds as number | undefined;
  if (pod.metadata.deletionTimestamp && grace !== 0 && current !== undefined && grace >= current) {
    return answer(R.pods, pod, false);
  }
  if (grace === 0) {
    const final = {
      ...pod,
      metadata: { ...pod.metadata, deletionTimestamp: pod.metadata.deletionTimestamp ?? timeNow(), deletionGracePeriodSeconds: 0 },
    };
    if (options.dryRun) return answer(R.pods, final, true);
    const removed = api.store.remove(R.pods, pod.metadata.namespace, pod.metadata.name);
    return answer(R.pods, { ...final, metadata: { ...final.metadata, resourceVersion: removed?.metadata.resourceVersion } }, true);
  }
  const marked = {
    ...pod,
    metadata: { ...pod.metadata, deletionTimestamp: timeNow(grace * 1000), deletionGracePeriodSeconds: grace },
  };
  if (options.dryRun) return answer(R.pods, marked, false);
  return answer(R.pods, api.store.replace(R.pods, marked), false);
}

function markForDeletion(
  api: ObjectApi,
  def: ResourceDef,
  obj: Obj,
  options: DeleteOptions,
  extra: (o: Obj) => void = () => {},
): DeleteResult {
  if (obj.metadata.deletionTimestamp) return answer(def, obj, false);
  const marked = structuredClone(obj);
  marked.metadata.deletionTimestamp = timeNow();
  marked.metadata.deletionGracePeriodSeconds = 0;
  extra(marked);
  if (options.dryRun) return answer(def, marked, false);
  return answer(def, api.store.replace(def, marked), false);
}

/** Deletes (or starts deleting) one object. Dependents are collected by the garbage collector. */
export function deleteObject(
  api: ObjectApi,
  def: ResourceDef,
  namespace: string | undefined,
  name: string,
  options: DeleteOptions,
): DeleteResult {
  const obj = api.get(def, namespace, name);
  checkPreconditions(def, obj, options);
  if (def.kind === 'Pod' && !(obj.metadata.finalizers?.length > 0)) return deletePod(api, obj, options);
  if (def.kind === 'Namespace') {
    return markForDeletion(api, def, obj, options, (ns) => {
      ns.status = { ...ns.status, phase: 'Terminating' };
    });
  }
  if (obj.metadata.finalizers?.length > 0) return markForDeletion(api, def, obj, options);
  if (options.dryRun) return answer(def, obj, true);
  const removed = api.store.remove(def, namespace, name)!;
  return answer(def, removed, true);
}
