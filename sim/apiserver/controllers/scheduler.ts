// The default scheduler, reduced to what a drain notices: an unbound pod goes to a Ready, schedulable
// node whose taints it tolerates, that matches its selector/affinity and has room for its requests.
// Among those it prefers nodes with fewer pods of the same owner, then fewer pods (spreading).
import { R } from '../resources.ts';
import type { ChangeEvent, Obj } from '../store.ts';
import { controllerRef, nodeReadyStatus, timeNow } from '../util.ts';
import type { Controller, ControllerContext } from './loop.ts';
import { allocatable, nodeMatchesPod, podRequests, toleratesNode, type Usage } from './scheduling.ts';

function schedulable(pod: Obj | undefined): boolean {
  return (
    pod !== undefined &&
    !pod.spec?.nodeName &&
    !pod.metadata.deletionTimestamp &&
    (pod.spec?.schedulerName ?? 'default-scheduler') === 'default-scheduler' &&
    pod.status?.phase !== 'Succeeded' &&
    pod.status?.phase !== 'Failed'
  );
}

/** DaemonSet pods and finished pods do not take room the scheduler counts. */
function countsForRoom(pod: Obj): boolean {
  if (controllerRef(pod)?.kind === 'DaemonSet') return false;
  return pod.status?.phase !== 'Succeeded' && pod.status?.phase !== 'Failed';
}

function nodeSignature(node: Obj | undefined): string {
  if (!node) return '';
  return JSON.stringify([
    nodeReadyStatus(node),
    node.spec?.unschedulable,
    node.spec?.taints,
    node.metadata.labels,
    node.status?.allocatable,
  ]);
}

export function schedulerController(ctx: ControllerContext): Controller {
  const unbound = new Set<string>();
  const usageCache = new Map<string, Usage>();

  function usage(nodeName: string): Usage {
    let u = usageCache.get(nodeName);
    if (!u) {
      u = { cpu: 0, memory: 0, pods: 0 };
      for (const pod of ctx.store.podsOnNode(R.pods, nodeName)) {
        if (!countsForRoom(pod)) continue;
        const r = podRequests(pod);
        u.cpu += r.cpu;
        u.memory += r.memory;
        u.pods += 1;
      }
      usageCache.set(nodeName, u);
    }
    return u;
  }

  /** How many pods of one owner sit on each node (for spreading). */
  function ownerSpread(ownerUid: string | undefined): Map<string, number> {
    const counts = new Map<string, number>();
    if (!ownerUid) return counts;
    for (const p of ctx.store.ownedBy(R.pods, ownerUid)) {
      if (p.spec?.nodeName) counts.set(p.spec.nodeName, (counts.get(p.spec.nodeName) ?? 0) + 1);
    }
    return counts;
  }

  /** Why a node does not fit, or undefined when it does. */
  function misfit(pod: Obj, node: Obj, request: Usage): string | undefined {
    if (node.spec?.unschedulable) return 'node(s) were unschedulable';
    if (!toleratesNode((pod.spec?.tolerations ?? []) as Obj[], node)) return 'node(s) had untolerated taint';
    if (nodeReadyStatus(node) !== 'True') return 'node(s) were not ready';
    if (!nodeMatchesPod(pod.spec ?? {}, node)) return "node(s) didn't match Pod's node affinity/selector";
    const room = allocatable(node);
    const used = usage(node.metadata.name);
    if (used.pods + 1 > room.pods) return 'Too many pods';
    if (used.cpu + request.cpu > room.cpu) return 'Insufficient cpu';
    if (used.memory + request.memory > room.memory) return 'Insufficient memory';
    return undefined;
  }

  function markUnschedulable(pod: Obj, total: number, reasons: Map<string, number>): void {
    const parts = [...reasons].map(([why, n]) => `${n} ${why}`).sort();
    const message = `0/${total} nodes are available: ${parts.join(', ')}.`;
    const conditions = (pod.status?.conditions ?? []) as Obj[];
    if (conditions.some((c) => c.type === 'PodScheduled' && c.message === message)) return;
    const condition = {
      type: 'PodScheduled',
      status: 'False',
      lastProbeTime: null,
      lastTransitionTime: timeNow(),
      reason: 'Unschedulable',
      message,
    };
    ctx.api.write(R.pods, {
      ...pod,
      status: { ...pod.status, conditions: [...conditions.filter((c) => c.type !== 'PodScheduled'), condition] },
    });
  }

  function bind(pod: Obj, nodeName: string): void {
    const conditions = ((pod.status?.conditions ?? []) as Obj[]).filter((c) => c.type !== 'PodScheduled');
    conditions.push({ type: 'PodScheduled', status: 'True', lastProbeTime: null, lastTransitionTime: timeNow() });
    ctx.api.write(R.pods, { ...pod, spec: { ...pod.spec, nodeName }, status: { ...pod.status, conditions } });
  }

  function enqueueAll(enqueue: (key: string) => void): void {
    for (const key of unbound) enqueue(key);
  }

  return {
    name: 'scheduler',
    watch(event: ChangeEvent, enqueue) {
      if (event.def === R.pods) {
        const key = `${event.object.metadata.namespace}/${event.object.metadata.name}`;
        for (const p of [event.old, event.object]) if (p?.spec?.nodeName) usageCache.delete(p.spec.nodeName);
        if (event.type !== 'DELETED' && schedulable(event.object)) {
          unbound.add(key);
          enqueue(key);
        } else unbound.delete(key);
        // A pod leaving a node frees room for the pods still waiting.
        if (event.type === 'DELETED' && event.object.spec?.nodeName && unbound.size > 0) enqueueAll(enqueue);
      } else if (event.def === R.nodes && nodeSignature(event.old) !== nodeSignature(event.type === 'DELETED' ? undefined : event.object)) {
        enqueueAll(enqueue);
      }
    },
    reconcile(key) {
      const pod = ctx.store.getByKey(R.pods, key);
      if (!schedulable(pod)) {
        unbound.delete(key);
        return;
      }
      const request = podRequests(pod!);
      const spread = ownerSpread(controllerRef(pod!)?.uid);
      const reasons = new Map<string, number>();
      let best: { name: string; score: number } | undefined;
      let total = 0;
      for (const node of ctx.store.iterate(R.nodes)) {
        total += 1;
        const why = misfit(pod!, node, request);
        if (why) {
          reasons.set(why, (reasons.get(why) ?? 0) + 1);
          continue;
        }
        const score = (spread.get(node.metadata.name) ?? 0) * 1000 + usage(node.metadata.name).pods;
        if (!best || score < best.score || (score === best.score && node.metadata.name < best.name))
          best = { name: node.metadata.name, score };
      }
      if (best) bind(pod!, best.name);
      else markUnschedulable(pod!, total, reasons);
    },
  };
}
