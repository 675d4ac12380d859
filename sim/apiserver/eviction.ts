// POST pods/NAME/eviction as pkg/registry/core/pod/storage/eviction.go answers it.
import { deleteObject, parseDeleteOptions } from './deletion.ts';
import { badRequest, bareServerError, failure, success, type StatusBody } from './errors.ts';
import type { ObjectApi } from './objects.ts';
import { isPlainObject } from './patch.ts';
import { R } from './resources.ts';
import { labelSelectorMatcher } from './selectors.ts';
import type { Obj } from './store.ts';
import { podReady } from './util.ts';

export interface EvictionHooks {
  /** true when a pdb-blocks fault names this PDB */
  blockedByFault(namespace: string, pdbName: string): boolean;
}

function tooManyRequests(reason: string): Error {
  return failure(429, 'TooManyRequests', "Cannot evict pod as it would violate the pod's disruption budget.", {
    causes: [{ reason: 'DisruptionBudget', message: reason }],
  });
}

function budgetMessage(pdb: Obj): string {
  const status = pdb.status ?? {};
  return `The disruption budget ${pdb.metadata.name} needs ${status.desiredHealthy ?? 0} healthy pods and has ${status.currentHealthy ?? 0} currently`;
}

/** Pods that may go regardless of budgets: finished, pending, or already terminating. */
function canIgnoreBudget(pod: Obj): boolean {
  const phase = pod.status?.phase;
  return phase === 'Succeeded' || phase === 'Failed' || phase === 'Pending' || pod.metadata.deletionTimestamp !== undefined;
}

export function budgetsFor(api: ObjectApi, pod: Obj): Obj[] {
  const out: Obj[] = [];
  for (const pdb of api.store.iterate(R.pdbs, pod.metadata.namespace)) {
    const selector = pdb.spec?.selector;
    if (!selector) continue;
    if (labelSelectorMatcher(selector)(pod.metadata.labels)) out.push(pdb);
  }
  return out;
}

/** Checks the budget and takes one disruption from it, as checkAndDecrement does. */
function takeDisruption(api: ObjectApi, pdb: Obj, podName: string, dryRun: boolean): void {
  if ((pdb.status?.observedGeneration ?? 0) < (pdb.metadata.generation ?? 1)) {
    throw failure(429, 'TooManyRequests', "Cannot evict pod as it would violate the pod's disruption budget.", {
      causes: [
        { reason: 'DisruptionBudget', message: `The disruption budget ${pdb.metadata.name} is still being processed by the server.` },
      ],
    });
  }
  const allowed = pdb.status?.disruptionsAllowed ?? 0;
  if (allowed < 0)
    throw failure(403, 'Forbidden', `poddisruptionbudgets.policy "${pdb.metadata.name}" is forbidden: pdb disruptions allowed is negative`);
  if (allowed === 0) throw tooManyRequests(budgetMessage(pdb));
  if (dryRun) return;
  const next = structuredClone(pdb);
  next.status.disruptionsAllowed = allowed - 1;
  next.status.disruptedPods = { ...next.status.disruptedPods, [podName]: new Date().toISOString().replace(/\.\d+Z$/, 'Z') };
  if (next.status.disruptionsAllowed === 0) {
    next.status.conditions = ((next.status.conditions ?? []) as Obj[]).map((c) =>
      c.type === 'DisruptionAllowed'
        ? { ...c, status: 'False', reason: 'InsufficientPods', lastTransitionTime: new Date().toISOString().replace(/\.\d+Z$/, 'Z') }
        : c,
    );
  }
  api.store.replace(R.pdbs, next);
}

export function evictPod(
  api: ObjectApi,
  namespace: string,
  name: string,
  body: unknown,
  query: URLSearchParams,
  hooks: EvictionHooks,
): StatusBody {
  if (!isPlainObject(body)) throw badRequest('the body of the request is not a JSON object');
  if (body.metadata?.name !== undefined && body.metadata.name !== name)
    throw badRequest('name in URL does not match name in Eviction object');
  const pod = api.get(R.pods, namespace, name);
  const deleteOptions = parseDeleteOptions(body.deleteOptions, query);
  const dryRun = deleteOptions.dryRun === true;
  const evict = (): StatusBody => {
    if (!dryRun) deleteObject(api, R.pods, namespace, name, deleteOptions);
    return success(201);
  };
  const budgets = budgetsFor(api, pod);
  // The pdb-blocks fault stands for a budget that never allows a disruption, whatever its status says.
  const faulted = budgets.find((b) => hooks.blockedByFault(namespace, b.metadata.name));
  if (faulted) throw tooManyRequests(budgetMessage(faulted));
  if (canIgnoreBudget(pod)) return evict();
  if (budgets.length > 1)
    throw bareServerError('This pod has more than one PodDisruptionBudget, which the eviction subresource does not support.');
  const pdb = budgets[0];
  if (!pdb) return evict();
  // A running pod that is not ready does not count as healthy: it may go while the budget holds.
  const status = pdb.status ?? {};
  const policy = pdb.spec?.unhealthyPodEvictionPolicy;
  if (!podReady(pod)) {
    if (policy === 'AlwaysAllow') return evict();
    if ((status.currentHealthy ?? 0) >= (status.desiredHealthy ?? 0) && (status.desiredHealthy ?? 0) > 0) return evict();
  }
  takeDisruption(api, pdb, name, dryRun);
  return evict();
}
