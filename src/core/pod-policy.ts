// The one pod policy: what a drain does with each pod, by kubectl drain's rules, with every drain input applied.
// The plan's forecast and the drain itself both ask classifyPod, so the plan can never promise a drain the run
// would refuse, nor refuse one the run would do.
import type { PodObservation } from './cluster-state.ts';
import { parseLabelSelector, selectorSelects, type Requirement } from './label-selector.ts';

export interface DrainPolicy {
  /** delete-emptydir-data: pods with emptyDir volumes may be evicted (their emptyDir data is lost) */
  deleteEmptyDirData: boolean;
  /** force-drain-unmanaged: pods without a controller, and pods whose DaemonSet is gone, are deleted */
  forceUnmanaged: boolean;
  /** drain-pod-selector: only pods matching it are drained; the others stay where they are */
  podSelector?: string;
}

/** A pod terminating longer than this is stuck (a gone kubelet, a finalizer): the drain goes on without it, as kubectl's --skip-wait-for-delete-timeout. */
export const STUCK_TERMINATING_SECONDS = 300;

export type PodVerdict =
  /** evict through the Eviction API (PodDisruptionBudgets respected), then wait until it is gone */
  | { action: 'evict'; emptyDir: boolean; finished: boolean }
  /** stays on the node; the drain neither moves nor waits for it */
  | { action: 'skip'; kind: 'daemonSet' | 'mirror' | 'not-selected' | 'stuck-terminating'; reason: string }
  /** already terminating: wait for it to go */
  | { action: 'wait'; reason: string }
  /** the drain refuses to start while this pod is there; `input` would allow it */
  | { action: 'refuse'; kind: 'emptyDir' | 'unmanaged' | 'orphaned-daemonset'; reason: string; input: string };

export interface PodFacts {
  /** whether the pod's DaemonSet exists; undefined when it is not known (then it is assumed to) */
  daemonSetExists?: (namespace: string, name: string) => boolean;
  /** how long the pod has been terminating, when it is and that is known */
  terminatingSeconds?: number;
}

/** The policy with its selector parsed once. */
export interface CompiledPolicy extends DrainPolicy {
  selector: Requirement[];
}

export function compilePolicy(policy: DrainPolicy): CompiledPolicy {
  return { ...policy, selector: parseLabelSelector(policy.podSelector ?? '') };
}

export function classifyPod(pod: PodObservation, policy: CompiledPolicy, facts: PodFacts = {}): PodVerdict {
  if (!selectorSelects(policy.selector, pod.labels))
    return { action: 'skip', kind: 'not-selected', reason: `does not match drain-pod-selector ${policy.podSelector}` };
  if (pod.terminating) {
    if (facts.terminatingSeconds !== undefined && facts.terminatingSeconds > STUCK_TERMINATING_SECONDS) {
      return {
        action: 'skip',
        kind: 'stuck-terminating',
        reason: `terminating for ${Math.round(facts.terminatingSeconds)}s (over ${STUCK_TERMINATING_SECONDS}s: stuck, not waited for)`,
      };
    }
    return { action: 'wait', reason: 'already terminating' };
  }
  if (pod.controllerKind === 'DaemonSet') {
    const exists = pod.controllerName === undefined || (facts.daemonSetExists?.(pod.namespace, pod.controllerName) ?? true);
    if (exists) return { action: 'skip', kind: 'daemonSet', reason: `managed by DaemonSet ${pod.controllerName}` };
    if (!policy.forceUnmanaged) {
      return {
        action: 'refuse',
        kind: 'orphaned-daemonset',
        input: 'force-drain-unmanaged',
        reason: `its DaemonSet ${pod.controllerName} no longer exists, so nothing would recreate it (set force-drain-unmanaged: true to delete it)`,
      };
    }
    return { action: 'evict', emptyDir: pod.emptyDir, finished: false };
  }
  if (pod.mirror) return { action: 'skip', kind: 'mirror', reason: 'mirror pod of a static pod (the kubelet owns it)' };
  const finished = pod.phase === 'Succeeded' || pod.phase === 'Failed';
  if (finished) return { action: 'evict', emptyDir: pod.emptyDir, finished: true };
  if (pod.emptyDir && !policy.deleteEmptyDirData) {
    return {
      action: 'refuse',
      kind: 'emptyDir',
      input: 'delete-emptydir-data',
      reason: 'uses emptyDir local storage, which would be lost (set delete-emptydir-data: true to allow)',
    };
  }
  if (!pod.controllerKind) {
    if (!policy.forceUnmanaged)
      return {
        action: 'refuse',
        kind: 'unmanaged',
        input: 'force-drain-unmanaged',
        reason: 'declares no controller, so nothing would recreate it (set force-drain-unmanaged: true to allow)',
      };
  }
  return { action: 'evict', emptyDir: pod.emptyDir, finished: false };
}
