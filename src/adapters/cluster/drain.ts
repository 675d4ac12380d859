// Drain through the API, the way `kubectl drain` does it: cordon, pick the pods (skip DaemonSet and
// mirror pods, refuse emptyDir and unmanaged pods unless allowed), evict each through the Eviction API
// (429 = a budget says not now: retry; 404 = gone), and wait until each pod is gone or replaced.
// Unlike kubectl, a failed drain uncordons the node and names what blocked it.
import { setTimeout as sleep } from 'node:timers/promises';
import type { V1Eviction, V1Pod } from '@kubernetes/client-node';
import { listAll } from './read-cluster.ts';
import { apiFailure, isNotFound, MERGE_PATCH, type ApiFailure, type ClusterApis } from './progress.ts';

export interface DrainOptions {
  /** the whole drain's deadline (drain-timeout), from the moment the node is cordoned */
  timeoutMs: number;
  /** passed to each eviction; the pod's own terminationGracePeriodSeconds when absent */
  gracePeriodSeconds?: number;
  /** delete pods that use emptyDir (their data is lost) */
  deleteEmptyDirData: boolean;
  /** delete pods that no controller will recreate */
  forceUnmanaged: boolean;
  /** only drain pods matching this label selector, e.g. "app!=db" */
  podSelector?: string;
  /** when eviction is still refused at the deadline, delete the pod ignoring its budget (reported) */
  fallbackDelete: boolean;
  /** pause between refused evictions of one pod (kubectl: 5 s) */
  retryDelayMs?: number;
  /** how often to look whether an evicted pod is gone (kubectl: 1 s) */
  pollIntervalMs?: number;
}

export type DrainEventKind =
  | 'cordoned' | 'skipped' | 'evicting' | 'evicted' | 'blocked' | 'waiting' | 'gone' | 'deleting-ignoring-budget' | 'uncordoned';

/** One progress line; `message` is what a person reads. */
export interface DrainEvent {
  kind: DrainEventKind;
  node: string;
  /** "namespace/name" */
  pod?: string;
  message: string;
}

export type DrainEvents = (event: DrainEvent) => void;

export interface SkippedPod {
  pod: string;
  reason: string;
}

export interface DrainBlocker {
  pod: string;
  /** "namespace/name" of the PodDisruptionBudget that refused the eviction, when one did */
  budget?: string;
  reason: string;
}

export interface DrainResult {
  node: string;
  /** the node was already cordoned before this drain */
  wasUnschedulable: boolean;
  /** pods evicted (or found gone) */
  evicted: string[];
  skipped: SkippedPod[];
  /** pods deleted ignoring their budget by drain-fallback-delete */
  deletedIgnoringBudget: string[];
  /** what still blocked the drain when it gave up (empty when it finished) */
  blockedBy: DrainBlocker[];
  /** budgets that refused an eviction for a while before it went through */
  delayedBy: DrainBlocker[];
}

export class DrainError extends Error {
  readonly node: string;
  readonly blockers: DrainBlocker[];
  readonly result: DrainResult;
  /** whether the node was made schedulable again */
  readonly uncordoned: boolean;

  constructor(message: string, result: DrainResult, uncordoned: boolean) {
    super(message);
    this.name = 'DrainError';
    this.node = result.node;
    this.blockers = result.blockedBy;
    this.result = result;
    this.uncordoned = uncordoned;
  }
}

type DrainApis = Pick<ClusterApis, 'core'>;

const MIRROR_ANNOTATION = 'kubernetes.io/config.mirror';

/** Marks the node unschedulable. Returns false when it already was (nothing changed). */
export async function cordonNode(api: DrainApis, node: string): Promise<boolean> {
  return setUnschedulable(api, node, true);
}

/** Makes the node schedulable again. Returns false when it already was (nothing changed). */
export async function uncordonNode(api: DrainApis, node: string): Promise<boolean> {
  return setUnschedulable(api, node, false);
}

async function setUnschedulable(api: DrainApis, node: string, unschedulable: boolean): Promise<boolean> {
  const verb = unschedulable ? 'cordon' : 'uncordon';
  try {
    const current = await api.core.readNode({ name: node });
    if ((current.spec?.unschedulable === true) === unschedulable) return false;
    // A merge patch: null removes the field, as kubectl uncordon leaves it.
    await api.core.patchNode({ name: node, body: { spec: { unschedulable: unschedulable ? true : null } } }, MERGE_PATCH);
    return true;
  } catch (error) {
    throw new Error(`cannot ${verb} node ${node}: ${apiFailure(error).message}`);
  }
}

const podId = (pod: V1Pod): string => `${pod.metadata?.namespace}/${pod.metadata?.name}`;

type PodPlan = { action: 'evict' } | { action: 'wait' } | { action: 'skip'; reason: string } | { action: 'refuse'; reason: string };

/** What drain does with a pod, by kubectl's filters (DaemonSet, mirror, local storage, unreplicated). */
export function classifyPod(pod: V1Pod, options: Pick<DrainOptions, 'deleteEmptyDirData' | 'forceUnmanaged'>): PodPlan {
  const controller = pod.metadata?.ownerReferences?.find((o) => o.controller === true);
  if (controller?.kind === 'DaemonSet') return { action: 'skip', reason: `managed by DaemonSet ${controller.name}` };
  if (MIRROR_ANNOTATION in (pod.metadata?.annotations ?? {})) return { action: 'skip', reason: 'mirror pod of a static pod (the kubelet owns it)' };
  if (pod.metadata?.deletionTimestamp) return { action: 'wait' };
  const finished = pod.status?.phase === 'Succeeded' || pod.status?.phase === 'Failed';
  if (finished) return { action: 'evict' };
  const refusals: string[] = [];
  if (!options.deleteEmptyDirData && pod.spec?.volumes?.some((v) => v.emptyDir !== undefined)) {
    refusals.push('uses emptyDir local storage, which would be lost (set delete-emptydir-data: true to allow)');
  }
  if (!options.forceUnmanaged && !controller) {
    refusals.push('declares no controller, so nothing would recreate it (set force-drain-unmanaged: true to allow)');
  }
  return refusals.length > 0 ? { action: 'refuse', reason: refusals.join('; ') } : { action: 'evict' };
}

interface DrainContext {
  api: DrainApis;
  node: string;
  options: DrainOptions;
  emit: (kind: DrainEventKind, message: string, pod?: string) => void;
  deadline: number;
  delayedBy: Map<string, DrainBlocker>;
}

type PodOutcome =
  | { pod: string; outcome: 'evicted' | 'deleted-ignoring-budget' }
  | { pod: string; outcome: 'blocked'; blocker: DrainBlocker };

interface RefusedEviction {
  blocker: DrainBlocker;
  /** worth asking again later (a budget, rate limiting, a passing API failure) */
  retry: boolean;
  /** the progress line, without the pod */
  line: string;
}

/** Reads an eviction's refusal: which budget, and whether asking again can help. */
function refusal(failure: ApiFailure, pod: V1Pod): RefusedEviction {
  const id = podId(pod);
  const budgetCause = failure.causes.find((c) => c.reason === 'DisruptionBudget')?.message ?? '';
  const budget = /^The disruption budget (\S+) (.*)$/.exec(budgetCause);
  if (failure.code === 429 && budget) {
    const name = `${pod.metadata?.namespace}/${budget[1]}`;
    return { blocker: { pod: id, budget: name, reason: budget[2]! }, retry: true, line: `blocked by PDB ${name}: ${budget[2]}; retrying` };
  }
  if (failure.code === 429) return { blocker: { pod: id, reason: failure.message }, retry: true, line: `eviction refused (429): ${failure.message}; retrying` };
  if (failure.code === 500 && /more than one PodDisruptionBudget/.test(failure.message)) {
    return { blocker: { pod: id, reason: failure.message }, retry: false, line: `cannot evict: ${failure.message}` };
  }
  const passing = failure.code === undefined || failure.code >= 500 || failure.causes.some((c) => c.reason === 'NamespaceTerminating');
  const what = failure.code ? `HTTP ${failure.code}: ${failure.message}` : failure.message;
  return { blocker: { pod: id, reason: `eviction failed: ${what}` }, retry: passing, line: `eviction failed (${what})${passing ? '; retrying' : ''}` };
}

/** Polls until the pod is gone or replaced by one of the same name (another UID), or the deadline. */
async function waitGone(ctx: DrainContext, pod: V1Pod, deadline: number): Promise<DrainBlocker | undefined> {
  const id = podId(pod);
  const uid = pod.metadata?.uid;
  const poll = ctx.options.pollIntervalMs ?? 1000;
  for (;;) {
    try {
      const current = await ctx.api.core.readNamespacedPod({ name: pod.metadata!.name!, namespace: pod.metadata!.namespace! });
      if (current.metadata?.uid !== uid) return undefined;
    } catch (error) {
      if (isNotFound(error)) return undefined;
      // A passing API failure is not a verdict on the pod: look again until the deadline.
    }
    if (Date.now() + poll > deadline) {
      return { pod: id, reason: `still terminating when the drain timed out (grace period ${pod.spec?.terminationGracePeriodSeconds ?? 30}s)` };
    }
    await sleep(poll);
  }
}

async function deleteIgnoringBudget(ctx: DrainContext, pod: V1Pod, why: DrainBlocker): Promise<PodOutcome> {
  const id = podId(pod);
  ctx.emit('deleting-ignoring-budget', `DELETING ${id} IGNORING ITS DISRUPTION BUDGET (drain-fallback-delete): eviction was refused: ${why.budget ? `PDB ${why.budget} ` : ''}${why.reason}`, id);
  try {
    await ctx.api.core.deleteNamespacedPod({
      name: pod.metadata!.name!, namespace: pod.metadata!.namespace!,
      body: { ...(ctx.options.gracePeriodSeconds !== undefined ? { gracePeriodSeconds: ctx.options.gracePeriodSeconds } : {}), preconditions: { uid: pod.metadata!.uid! } },
    });
  } catch (error) {
    const failure = apiFailure(error);
    // 404: gone already; 409: the UID precondition failed, so the pod we meant was replaced.
    if (failure.code !== 404 && failure.code !== 409) return { pod: id, outcome: 'blocked', blocker: { ...why, reason: `${why.reason}; fallback delete failed: ${failure.message}` } };
  }
  // The delete gets its own window: the eviction window is spent by now.
  const stuck = await waitGone(ctx, pod, Date.now() + ctx.options.timeoutMs);
  return stuck ? { pod: id, outcome: 'blocked', blocker: stuck } : { pod: id, outcome: 'deleted-ignoring-budget' };
}

async function giveUp(ctx: DrainContext, pod: V1Pod, blocker: DrainBlocker): Promise<PodOutcome> {
  if (ctx.options.fallbackDelete) return deleteIgnoringBudget(ctx, pod, blocker);
  return { pod: podId(pod), outcome: 'blocked', blocker };
}

/** Waits for an evicted (or terminating) pod to go; a pod still there at the deadline blocks the drain. */
async function settle(ctx: DrainContext, pod: V1Pod): Promise<PodOutcome> {
  const stuck = await waitGone(ctx, pod, ctx.deadline);
  if (stuck) return giveUp(ctx, pod, stuck);
  ctx.emit('gone', `${podId(pod)} is gone`, podId(pod));
  return { pod: podId(pod), outcome: 'evicted' };
}

async function evictUntilGone(ctx: DrainContext, pod: V1Pod): Promise<PodOutcome> {
  const id = podId(pod);
  const name = pod.metadata!.name!;
  const namespace = pod.metadata!.namespace!;
  const eviction: V1Eviction = {
    apiVersion: 'policy/v1', kind: 'Eviction', metadata: { name, namespace },
    ...(ctx.options.gracePeriodSeconds !== undefined ? { deleteOptions: { gracePeriodSeconds: ctx.options.gracePeriodSeconds } } : {}),
  };
  let lastLine = '';
  let current = pod;
  for (;;) {
    if (current.metadata?.deletionTimestamp) {
      // Already terminating: evicting again would change nothing; wait for the kubelet to finish it.
      ctx.emit('waiting', `waiting for ${id} to terminate`, id);
      return settle(ctx, current);
    }
    try {
      if (!lastLine) ctx.emit('evicting', `evicting ${id}`, id);
      await ctx.api.core.createNamespacedPodEviction({ name, namespace, body: eviction });
      ctx.emit('evicted', `evicted ${id}`, id);
      return settle(ctx, current);
    } catch (error) {
      const failure = apiFailure(error);
      if (failure.code === 404) return { pod: id, outcome: 'evicted' };
      const refused = refusal(failure, current);
      if (refused.line !== lastLine) ctx.emit('blocked', `${id}: ${refused.line}`, id);
      lastLine = refused.line;
      if (refused.blocker.budget) ctx.delayedBy.set(refused.blocker.budget, { ...refused.blocker });
      const retryDelay = ctx.options.retryDelayMs ?? 5000;
      if (!refused.retry || Date.now() + retryDelay > ctx.deadline) return giveUp(ctx, current, refused.blocker);
      await sleep(retryDelay);
      // Look again: the pod may have gone, been replaced, or started terminating meanwhile.
      try {
        const fresh = await ctx.api.core.readNamespacedPod({ name, namespace });
        if (fresh.metadata?.uid !== pod.metadata?.uid) return { pod: id, outcome: 'evicted' };
        current = fresh;
      } catch (readError) {
        if (isNotFound(readError)) return { pod: id, outcome: 'evicted' };
      }
    }
  }
}

function describeBlockers(blockers: DrainBlocker[]): string {
  const byBudget = new Map<string, DrainBlocker[]>();
  for (const blocker of blockers) {
    const key = blocker.budget ? `PodDisruptionBudget ${blocker.budget} (${blocker.reason})` : '';
    byBudget.set(key, [...(byBudget.get(key) ?? []), blocker]);
  }
  const parts: string[] = [];
  for (const [budget, list] of byBudget) {
    if (budget) parts.push(`${budget} blocks ${list.map((b) => b.pod).join(', ')}`);
    else parts.push(...list.map((b) => `${b.pod}: ${b.reason}`));
  }
  return parts.join('; ');
}

function formatDuration(ms: number): string {
  const seconds = Math.round(ms / 1000);
  return seconds >= 60 ? `${Math.floor(seconds / 60)}m${seconds % 60 ? `${seconds % 60}s` : ''}` : `${seconds}s`;
}

/**
 * Cordons and drains a node. Resolves when every pod to move is gone; rejects with a DrainError
 * naming the budgets and pods that blocked it, after making the node schedulable again.
 */
export async function drainNode(api: DrainApis, node: string, options: DrainOptions, events: DrainEvents = () => {}): Promise<DrainResult> {
  const emit = (kind: DrainEventKind, message: string, pod?: string) => events({ kind, node, ...(pod ? { pod } : {}), message });
  const wasUnschedulable = !(await cordonNode(api, node));
  emit('cordoned', wasUnschedulable ? `node ${node} was already cordoned` : `node ${node} cordoned`);
  const result: DrainResult = { node, wasUnschedulable, evicted: [], skipped: [], deletedIgnoringBudget: [], blockedBy: [], delayedBy: [] };
  const fail = async (message: string): Promise<never> => {
    let uncordoned = false;
    let note = 'node uncordoned';
    try {
      await uncordonNode(api, node);
      uncordoned = true;
      emit('uncordoned', `node ${node} uncordoned after the failed drain`);
    } catch (error) {
      note = `and it could not be uncordoned, so it is left cordoned: ${(error as Error).message}`;
    }
    throw new DrainError(`${message}; ${note}`, result, uncordoned);
  };
  let pods: V1Pod[];
  try {
    pods = await listAll(`pods on node ${node}`, (page) =>
      api.core.listPodForAllNamespaces({ ...page, fieldSelector: `spec.nodeName=${node}`, ...(options.podSelector ? { labelSelector: options.podSelector } : {}) }));
  } catch (error) {
    return fail(`cannot drain node ${node}: ${(error as Error).message}`);
  }
  const toMove: V1Pod[] = [];
  for (const pod of pods) {
    const plan = classifyPod(pod, options);
    if (plan.action === 'skip') {
      result.skipped.push({ pod: podId(pod), reason: plan.reason });
      emit('skipped', `skipping ${podId(pod)}: ${plan.reason}`, podId(pod));
    } else if (plan.action === 'refuse') {
      result.blockedBy.push({ pod: podId(pod), reason: plan.reason });
    } else {
      toMove.push(pod);
    }
  }
  // Like kubectl: refuse before evicting anything, so a refused drain disturbs no workload.
  if (result.blockedBy.length > 0) return fail(`cannot drain node ${node}: ${describeBlockers(result.blockedBy)}`);

  const delayedBy = new Map<string, DrainBlocker>();
  const context: DrainContext = { api, node, options, emit, deadline: Date.now() + options.timeoutMs, delayedBy };
  const outcomes = await Promise.all(toMove.map((pod) => evictUntilGone(context, pod)));
  result.delayedBy = [...delayedBy.values()];
  for (const outcome of outcomes) {
    if (outcome.outcome === 'blocked') result.blockedBy.push(outcome.blocker);
    else if (outcome.outcome === 'evicted') result.evicted.push(outcome.pod);
    else result.deletedIgnoringBudget.push(outcome.pod);
  }
  if (result.blockedBy.length > 0) {
    const hint = result.blockedBy.some((b) => b.budget) && !options.fallbackDelete
      ? ' (give the workloads room to reschedule, raise drain-timeout, or set drain-fallback-delete: true to delete ignoring budgets)'
      : '';
    return fail(`drain of node ${node} did not finish within drain-timeout ${formatDuration(options.timeoutMs)}: ${describeBlockers(result.blockedBy)}${hint}`);
  }
  return result;
}
