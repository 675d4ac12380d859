// The kubelet's part for ordinary pods on every Ready node: a bound pod shows ContainerCreating, then
// becomes Running after delays.podStartMs and Ready delays.podReadyMs later (its readiness probe); a
// terminating pod disappears when its containers exit: delays.podStopMs after the delete (they stop on
// SIGTERM), or at the end of its grace period when the pod is annotated IGNORES_SIGTERM_ANNOTATION (they
// are killed then), never later than the grace period; a Job's pod completes after running podStartMs.
// Nothing happens on a node that is not Ready (as with a stopped kubelet). Mirror pods belong to the
// node supervisors: only their deletion is finished here. Pods bound to a node that no longer exists
// are removed, as the pod garbage collector does.
import { R } from '../resources.ts';
import type { ChangeEvent, Obj } from '../store.ts';
import { controllerRef, isMirrorPod, nodeReadyStatus, podReady, timeNow } from '../util.ts';
import type { Controller, ControllerContext } from './loop.ts';

const ORPHAN_GRACE_MS = 5000;

/** A pod annotated with this (value "true") has containers that ignore SIGTERM: it stays its whole grace period. */
export const IGNORES_SIGTERM_ANNOTATION = 'sim.kubeadm-upgrade-action.io/ignores-sigterm';

/** When a terminating pod's containers have exited: podStopMs after the delete, capped by the grace period. */
function podExitsAt(pod: Obj, podStopMs: number | undefined): number {
  const deadline = Date.parse(pod.metadata.deletionTimestamp);
  const started = deadline - (pod.metadata.deletionGracePeriodSeconds ?? 0) * 1000;
  if (podStopMs === undefined || pod.metadata.annotations?.[IGNORES_SIGTERM_ANNOTATION] === 'true') return deadline;
  return Math.min(deadline, started + podStopMs);
}

function condition(type: string, status: boolean, reason?: string): Obj {
  const c: Obj = { type, status: status ? 'True' : 'False', lastProbeTime: null, lastTransitionTime: timeNow() };
  if (reason) c.reason = reason;
  return c;
}

function hostIP(node: Obj): string | undefined {
  return ((node.status?.addresses ?? []) as Obj[]).find((a) => a.type === 'InternalIP')?.address;
}

let ipCounter = 0;
function nextPodIP(): string {
  ipCounter += 1;
  return `10.${244 + (ipCounter >> 16)}.${(ipCounter >> 8) & 255}.${ipCounter & 255}`;
}

function imageId(image: string): string {
  return `${image.split('@')[0]}@sha256:${Buffer.from(image).toString('hex').padEnd(64, '0').slice(0, 64)}`;
}

function runningContainer(c: Obj, startedAt: string, restartCount = 0): Obj {
  return {
    name: c.name,
    image: c.image,
    imageID: imageId(String(c.image ?? '')),
    containerID: `containerd://${Math.random().toString(16).slice(2).padEnd(16, '0')}`,
    ready: true,
    started: true,
    restartCount,
    state: { running: { startedAt } },
    lastState: {},
  };
}

export function kubeletController(ctx: ControllerContext): Controller {
  /** when each pod (by uid) is due for its next step */
  const due = new Map<string, number>();
  const wakes = new Map<string, number>();

  function wake(key: string, at: number): void {
    const now = Date.now();
    const scheduled = wakes.get(key);
    if (scheduled !== undefined && scheduled > now && scheduled <= at) return;
    wakes.set(key, at);
    ctx.later(at - now, () => {
      if (wakes.get(key) === at) wakes.delete(key);
      ctx.enqueue('kubelet', key);
    });
  }

  /** Returns true when the step of this pod is due now; otherwise makes sure we wake up for it. */
  function dueNow(pod: Obj, key: string, delayMs: number): boolean {
    const uid = pod.metadata.uid;
    let at = due.get(uid);
    if (at === undefined) {
      at = Date.now() + delayMs;
      due.set(uid, at);
    }
    if (Date.now() >= at) {
      due.delete(uid);
      return true;
    }
    wake(key, at);
    return false;
  }

  function finishDeletion(pod: Obj, key: string): void {
    if (pod.metadata.finalizers?.length > 0) return;
    const at = podExitsAt(pod, ctx.delays.podStopMs);
    if (Date.now() >= at) ctx.store.remove(R.pods, pod.metadata.namespace, pod.metadata.name);
    else wake(key, at);
  }

  function containerCreating(pod: Obj, node: Obj): void {
    const waiting = ((pod.spec?.containers ?? []) as Obj[]).map((c) => ({
      name: c.name,
      image: c.image,
      imageID: '',
      ready: false,
      started: false,
      restartCount: 0,
      state: { waiting: { reason: 'ContainerCreating' } },
      lastState: {},
    }));
    const scheduled = ((pod.status?.conditions ?? []) as Obj[]).find((c) => c.type === 'PodScheduled') ?? condition('PodScheduled', true);
    const status = {
      ...pod.status,
      phase: 'Pending',
      hostIP: hostIP(node),
      hostIPs: hostIP(node) ? [{ ip: hostIP(node) }] : undefined,
      startTime: pod.status?.startTime ?? timeNow(),
      conditions: [
        condition('PodReadyToStartContainers', false),
        condition('Initialized', true),
        condition('Ready', false, 'ContainersNotReady'),
        condition('ContainersReady', false, 'ContainersNotReady'),
        scheduled,
      ],
      containerStatuses: waiting,
    };
    ctx.api.write(R.pods, { ...pod, status });
  }

  /** Containers started; the pod is Ready at once unless a readiness delay (podReadyMs) holds it back. */
  function running(pod: Obj, node: Obj): void {
    const now = timeNow();
    const ready = !(ctx.delays.podReadyMs ?? 0);
    const ip = pod.spec?.hostNetwork ? hostIP(node) : (pod.status?.podIP ?? nextPodIP());
    const scheduled = ((pod.status?.conditions ?? []) as Obj[]).find((c) => c.type === 'PodScheduled') ?? condition('PodScheduled', true);
    const status = {
      ...pod.status,
      phase: 'Running',
      hostIP: hostIP(node),
      hostIPs: hostIP(node) ? [{ ip: hostIP(node) }] : undefined,
      podIP: ip,
      podIPs: ip ? [{ ip }] : undefined,
      startTime: pod.status?.startTime ?? now,
      conditions: [
        condition('PodReadyToStartContainers', true),
        condition('Initialized', true),
        condition('Ready', ready, ready ? undefined : 'ContainersNotReady'),
        condition('ContainersReady', ready, ready ? undefined : 'ContainersNotReady'),
        scheduled,
      ],
      containerStatuses: ((pod.spec?.containers ?? []) as Obj[]).map((c) => ({ ...runningContainer(c, now), ready })),
    };
    ctx.api.write(R.pods, { ...pod, status });
  }

  function readyAgain(pod: Obj): void {
    const conditions = ((pod.status?.conditions ?? []) as Obj[]).map((c) =>
      c.type === 'Ready' || c.type === 'ContainersReady'
        ? { type: c.type, status: 'True', lastProbeTime: null, lastTransitionTime: timeNow() }
        : c,
    );
    const containerStatuses = ((pod.status?.containerStatuses ?? []) as Obj[]).map((c) => ({ ...c, ready: true }));
    ctx.api.write(R.pods, { ...pod, status: { ...pod.status, conditions, containerStatuses } });
  }

  function succeeded(pod: Obj): void {
    const now = timeNow();
    const containerStatuses = ((pod.status?.containerStatuses ?? []) as Obj[]).map((c) => ({
      ...c,
      ready: false,
      started: false,
      state: { terminated: { exitCode: 0, reason: 'Completed', startedAt: c.state?.running?.startedAt ?? now, finishedAt: now } },
    }));
    const conditions = ((pod.status?.conditions ?? []) as Obj[]).map((c) =>
      c.type === 'Ready' || c.type === 'ContainersReady' ? { ...c, status: 'False', reason: 'PodCompleted', lastTransitionTime: now } : c,
    );
    ctx.api.write(R.pods, { ...pod, status: { ...pod.status, phase: 'Succeeded', conditions, containerStatuses } });
  }

  function orphaned(pod: Obj, key: string): void {
    if (dueNow(pod, key, ORPHAN_GRACE_MS)) ctx.store.remove(R.pods, pod.metadata.namespace, pod.metadata.name);
  }

  function reconcilePod(pod: Obj, key: string): void {
    const node = ctx.store.get(R.nodes, undefined, pod.spec.nodeName);
    if (!node) {
      orphaned(pod, key);
      return;
    }
    if (nodeReadyStatus(node) !== 'True') {
      due.delete(pod.metadata.uid);
      return;
    }
    if (pod.metadata.deletionTimestamp) {
      finishDeletion(pod, key);
      return;
    }
    if (isMirrorPod(pod)) return;
    const phase = pod.status?.phase ?? 'Pending';
    if (phase === 'Pending') {
      const creating = ((pod.status?.containerStatuses ?? []) as Obj[]).some((c) => c.state?.waiting?.reason === 'ContainerCreating');
      if (!creating) containerCreating(pod, node);
      if (dueNow(pod, key, ctx.delays.podStartMs)) running(ctx.store.getByKey(R.pods, key)!, node);
    } else if (phase === 'Running' && !podReady(pod)) {
      if (dueNow(pod, key, ctx.delays.podReadyMs || ctx.delays.podStartMs)) readyAgain(pod);
    } else if (phase === 'Running' && controllerRef(pod)?.kind === 'Job') {
      if (dueNow(pod, key, ctx.delays.podStartMs)) succeeded(pod);
    }
  }

  return {
    name: 'kubelet',
    watch(event: ChangeEvent, enqueue) {
      if (event.def === R.pods) {
        if (event.type === 'DELETED') due.delete(event.object.metadata.uid);
        else if (event.object.spec?.nodeName) enqueue(`${event.object.metadata.namespace}/${event.object.metadata.name}`);
      } else if (event.def === R.nodes) {
        const before = event.old ? nodeReadyStatus(event.old) : undefined;
        const after = event.type === 'DELETED' ? undefined : nodeReadyStatus(event.object);
        if (before === after && event.type === 'MODIFIED') return;
        for (const pod of ctx.store.podsOnNode(R.pods, event.object.metadata.name)) {
          enqueue(`${pod.metadata.namespace}/${pod.metadata.name}`);
        }
      }
    },
    reconcile(key) {
      const pod = ctx.store.getByKey(R.pods, key);
      if (pod?.spec?.nodeName) reconcilePod(pod, key);
    },
  };
}
