// The disruption controller: PodDisruptionBudget status (currentHealthy, desiredHealthy, expectedPods,
// disruptionsAllowed, observedGeneration, the DisruptionAllowed condition), computed the way
// pkg/controller/disruption does, plus the simulator's record of the lowest Ready count each budgeted
// workload ever had after it first reached its desired count (served at /sim/status).
import { R } from '../resources.ts';
import { labelSelectorMatcher } from '../selectors.ts';
import type { ChangeEvent, Obj } from '../store.ts';
import { controllerRef, intOrPercent, podReady, timeNow } from '../util.ts';
import type { Controller, ControllerContext } from './loop.ts';

export interface BudgetRecord {
  namespace: string;
  name: string;
  /** the workload's desired pod count (its controllers' scale), as last computed */
  workloadDesired: number;
  desiredHealthy: number;
  currentHealthy: number;
  /** when Ready pods first reached workloadDesired */
  reachedAt?: string;
  /** lowest Ready count seen since reachedAt (undefined before) */
  lowestReady?: number;
  lowestReadyAt?: string;
}

interface Computed {
  expected: number;
  desiredHealthy: number;
  currentHealthy: number;
  workloadDesired: number;
  error?: string;
}

export class BudgetTracker {
  readonly records = new Map<string, BudgetRecord>();

  record(namespace: string, name: string): BudgetRecord {
    const key = `${namespace}/${name}`;
    let r = this.records.get(key);
    if (!r) {
      r = { namespace, name, workloadDesired: 0, desiredHealthy: 0, currentHealthy: 0 };
      this.records.set(key, r);
    }
    return r;
  }

  observe(r: BudgetRecord, ready: number): void {
    r.currentHealthy = ready;
    if (r.reachedAt === undefined) {
      if (r.workloadDesired > 0 && ready >= r.workloadDesired) {
        r.reachedAt = new Date().toISOString();
        r.lowestReady = ready;
        r.lowestReadyAt = r.reachedAt;
      }
      return;
    }
    if (ready < (r.lowestReady ?? Infinity)) {
      r.lowestReady = ready;
      r.lowestReadyAt = new Date().toISOString();
    }
  }
}

function matchingPods(ctx: ControllerContext, pdb: Obj): Obj[] {
  const matcher = pdb.spec?.selector ? labelSelectorMatcher(pdb.spec.selector) : () => false;
  const out: Obj[] = [];
  for (const pod of ctx.store.iterate(R.pods, pdb.metadata.namespace)) if (matcher(pod.metadata.labels)) out.push(pod);
  return out;
}

function healthy(pods: Obj[]): number {
  return pods.filter((p) => !p.metadata.deletionTimestamp && podReady(p)).length;
}

/** Desired pod count of a pod's controller: Deployment/ReplicaSet replicas or DaemonSet desiredNumberScheduled. */
function controllerScale(ctx: ControllerContext, pod: Obj): { uid: string; scale: number } | undefined {
  const ref = controllerRef(pod);
  if (!ref) return undefined;
  const ns = pod.metadata.namespace;
  if (ref.kind === 'ReplicaSet') {
    const rs = ctx.store.get(R.replicasets, ns, ref.name);
    if (!rs) return undefined;
    const dref = controllerRef(rs);
    const d = dref?.kind === 'Deployment' ? ctx.store.get(R.deployments, ns, dref.name) : undefined;
    return d ? { uid: d.metadata.uid, scale: d.spec.replicas ?? 1 } : { uid: rs.metadata.uid, scale: rs.spec.replicas ?? 1 };
  }
  if (ref.kind === 'DaemonSet') {
    const ds = ctx.store.get(R.daemonsets, ns, ref.name);
    return ds ? { uid: ds.metadata.uid, scale: ds.status?.desiredNumberScheduled ?? 0 } : undefined;
  }
  return undefined;
}

function compute(ctx: ControllerContext, pdb: Obj, pods: Obj[]): Computed {
  const currentHealthy = healthy(pods);
  const scales = new Map<string, number>();
  let missing: Obj | undefined;
  for (const pod of pods) {
    const s = controllerScale(ctx, pod);
    if (s) scales.set(s.uid, s.scale);
    else missing ??= pod;
  }
  const controllersTotal = [...scales.values()].reduce((a, b) => a + b, 0);
  const { minAvailable, maxUnavailable } = pdb.spec ?? {};
  const needsScale = maxUnavailable !== undefined || (typeof minAvailable === 'string' && minAvailable.endsWith('%'));
  const workloadDesired = missing ? pods.length : controllersTotal;
  if (needsScale && missing) {
    return {
      expected: 0,
      desiredHealthy: 0,
      currentHealthy,
      workloadDesired,
      error: `found no controllers for pod "${missing.metadata.name}"`,
    };
  }
  if (maxUnavailable !== undefined) {
    const expected = controllersTotal;
    return {
      expected,
      desiredHealthy: Math.max(0, expected - intOrPercent(maxUnavailable, expected, true)),
      currentHealthy,
      workloadDesired,
    };
  }
  if (needsScale) {
    const expected = controllersTotal;
    return { expected, desiredHealthy: intOrPercent(minAvailable, expected, true), currentHealthy, workloadDesired };
  }
  // Neither field set: the real controller expects no pods and so allows no disruption.
  if (minAvailable === undefined) return { expected: 0, desiredHealthy: 0, currentHealthy, workloadDesired };
  return { expected: pods.length, desiredHealthy: intOrPercent(minAvailable, pods.length, true), currentHealthy, workloadDesired };
}

export function disruptionController(ctx: ControllerContext, tracker: BudgetTracker): Controller {
  function budgetsIn(namespace: string): Obj[] {
    return [...ctx.store.iterate(R.pdbs, namespace)];
  }

  /** Counts Ready pods for every budget a pod change touches, synchronously, so no dip is missed. */
  function observePodChange(event: ChangeEvent): void {
    const ns = event.object.metadata.namespace;
    const budgets = budgetsIn(ns);
    if (budgets.length === 0) return;
    for (const pdb of budgets) {
      const matcher = labelSelectorMatcher(pdb.spec?.selector);
      if (!matcher(event.object.metadata.labels) && !(event.old && matcher(event.old.metadata.labels))) continue;
      tracker.observe(tracker.record(ns, pdb.metadata.name), healthy(matchingPods(ctx, pdb)));
    }
  }

  function reconcile(key: string): void {
    const pdb = ctx.store.getByKey(R.pdbs, key);
    if (!pdb) {
      tracker.records.delete(key);
      return;
    }
    const pods = matchingPods(ctx, pdb);
    const c = compute(ctx, pdb, pods);
    const record = tracker.record(pdb.metadata.namespace, pdb.metadata.name);
    record.workloadDesired = c.workloadDesired;
    record.desiredHealthy = c.desiredHealthy;
    tracker.observe(record, c.currentHealthy);
    const allowed = c.error || c.expected <= 0 ? 0 : Math.max(0, c.currentHealthy - c.desiredHealthy);
    const reason = c.error ? 'SyncFailed' : allowed > 0 ? 'SufficientPods' : 'InsufficientPods';
    const prev = ((pdb.status?.conditions ?? []) as Obj[]).find((x) => x.type === 'DisruptionAllowed');
    const condStatus = allowed > 0 ? 'True' : 'False';
    const condition: Obj = {
      type: 'DisruptionAllowed',
      status: condStatus,
      reason,
      message: c.error ?? '',
      observedGeneration: pdb.metadata.generation,
      lastTransitionTime: prev?.status === condStatus ? prev.lastTransitionTime : timeNow(),
    };
    // Evictions recorded in disruptedPods are forgotten once the pod is terminating or gone.
    const disrupted = { ...pdb.status?.disruptedPods };
    for (const name of Object.keys(disrupted)) {
      const pod = ctx.store.get(R.pods, pdb.metadata.namespace, name);
      if (!pod || pod.metadata.deletionTimestamp) delete disrupted[name];
    }
    const status: Obj = {
      observedGeneration: pdb.metadata.generation,
      disruptionsAllowed: allowed,
      currentHealthy: c.currentHealthy,
      desiredHealthy: c.desiredHealthy,
      expectedPods: c.expected,
      conditions: [condition],
    };
    if (Object.keys(disrupted).length > 0) status.disruptedPods = disrupted;
    ctx.api.write(R.pdbs, { ...pdb, status });
  }

  return {
    name: 'disruption',
    watch(event: ChangeEvent, enqueue) {
      const def = event.def;
      if (def === R.pdbs) {
        if (event.type === 'DELETED') tracker.records.delete(`${event.object.metadata.namespace}/${event.object.metadata.name}`);
        else enqueue(`${event.object.metadata.namespace}/${event.object.metadata.name}`);
        return;
      }
      if (def !== R.pods && def !== R.deployments && def !== R.replicasets && def !== R.daemonsets) return;
      if (def === R.pods) observePodChange(event);
      for (const pdb of budgetsIn(event.object.metadata.namespace)) enqueue(`${pdb.metadata.namespace}/${pdb.metadata.name}`);
    },
    reconcile,
  };
}
