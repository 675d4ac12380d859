// The node lifecycle controller's visible work: the unschedulable taint follows spec.unschedulable,
// the not-ready / unreachable taints follow the Ready condition, and pods of a node that stops
// being Ready are marked not Ready (the kubelet role makes them Ready again when it returns).
import { R } from '../resources.ts';
import type { ChangeEvent, Obj } from '../store.ts';
import { isMirrorPod, nodeReadyStatus, timeNow } from '../util.ts';
import type { Controller, ControllerContext } from './loop.ts';

const UNSCHEDULABLE = 'node.kubernetes.io/unschedulable';
const NOT_READY = 'node.kubernetes.io/not-ready';
const UNREACHABLE = 'node.kubernetes.io/unreachable';
const managed = new Set([UNSCHEDULABLE, NOT_READY, UNREACHABLE]);

function signature(node: Obj | undefined): string {
  if (!node) return '';
  return JSON.stringify([node.spec?.unschedulable === true, nodeReadyStatus(node), node.spec?.taints ?? []]);
}

function wantedTaints(node: Obj): Obj[] {
  const out: Obj[] = [];
  if (node.spec?.unschedulable) out.push({ key: UNSCHEDULABLE, effect: 'NoSchedule' });
  const ready = nodeReadyStatus(node);
  const key = ready === 'False' ? NOT_READY : ready === 'Unknown' ? UNREACHABLE : undefined;
  if (key) out.push({ key, effect: 'NoSchedule' }, { key, effect: 'NoExecute' });
  return out;
}

function sameTaint(a: Obj, b: Obj): boolean {
  return a.key === b.key && a.effect === b.effect;
}

export function nodeLifecycleController(ctx: ControllerContext): Controller {
  const lastReady = new Map<string, string | undefined>();

  function markPodsNotReady(nodeName: string): void {
    for (const pod of ctx.store.podsOnNode(R.pods, nodeName)) {
      if (isMirrorPod(pod) || pod.metadata.deletionTimestamp) continue;
      const conditions = (pod.status?.conditions ?? []) as Obj[];
      if (!conditions.some((c) => c.type === 'Ready' && c.status === 'True')) continue;
      const next = structuredClone(pod);
      next.status.conditions = conditions.map((c) => (c.type === 'Ready' ? { ...c, status: 'False', lastTransitionTime: timeNow() } : c));
      ctx.api.write(R.pods, next);
    }
  }

  return {
    name: 'node-lifecycle',
    watch(event: ChangeEvent, enqueue) {
      if (event.def !== R.nodes) return;
      if (event.type === 'DELETED') {
        lastReady.delete(event.object.metadata.name);
        return;
      }
      const name = event.object.metadata.name;
      if (!lastReady.has(name) && event.old) lastReady.set(name, nodeReadyStatus(event.old));
      if (signature(event.old) !== signature(event.object)) enqueue(name);
    },
    reconcile(name) {
      const node = ctx.store.get(R.nodes, undefined, name);
      if (!node) return;
      const ready = nodeReadyStatus(node);
      if (lastReady.get(name) === 'True' && ready !== 'True') markPodsNotReady(name);
      lastReady.set(name, ready);
      const current = (node.spec?.taints ?? []) as Obj[];
      const wanted = wantedTaints(node);
      const kept = current.filter((t) => !managed.has(t.key) || wanted.some((w) => sameTaint(w, t)));
      const added = wanted.filter((w) => !current.some((t) => sameTaint(w, t))).map((w) => ({ ...w, timeAdded: timeNow() }));
      if (added.length === 0 && kept.length === current.length) return;
      const taints = [...kept, ...added];
      const spec = { ...node.spec, taints };
      if (taints.length === 0) delete spec.taints;
      ctx.api.write(R.nodes, { ...node, spec });
    },
  };
}
