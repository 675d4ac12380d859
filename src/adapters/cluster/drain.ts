// Drain through the API, the way `kubectl drain` does it: cordon, pick the pods (skip DaemonSet and
// mirror pods, refuse emptyDir and unmanaged pods unless allowed), evict each through the Eviction API
// (429 = a budget says not now: retry; 404 = gone), and wait until each pod is gone or replaced.
// Unlike kubectl, a failed drain uncordons the node and names what blocked it.
import { setTimeout as sleep } from 'node:timers/promises';
import type { V1Eviction, V1Pod } from '@kubernetes/client-node';
import type { Permission } from '../../core/permissions.ts';
import { classifyPod, compilePolicy, type CompiledPolicy, type PodFacts, type PodVerdict } from '../../core/pod-policy.ts';
import { mapPod } from './map.ts';
import { describeApiError, listAll } from './read-cluster.ts';
import { apiFailure, CORDON_MARK, isNotFound, MERGE_PATCH, type ApiFailure, type ClusterApis } from './progress.ts';

/** The calls drainNode and uncordonNode make; deleting pods only with drain-fallback-delete. */
export function drainAccess(options: { fallbackDelete: boolean }): Permission[] {
  return [
    { verb: 'get', group: '', resource: 'nodes', why: 'cordoning and uncordoning nodes' },
    { verb: 'patch', group: '', resource: 'nodes', why: 'cordoning and uncordoning nodes' },
    { verb: 'list', group: '', resource: 'pods', why: 'finding the pods on a node to drain' },
    { verb: 'get', group: '', resource: 'pods', why: 'waiting for evicted pods to go' },
    { verb: 'create', group: '', resource: 'pods/eviction', why: 'evicting pods (the Eviction API respects disruption budgets)' },
    { verb: 'get', group: 'apps', resource: 'daemonsets', why: 'telling DaemonSet pods from orphans, as kubectl drain does' },
    ...(options.fallbackDelete
      ? [{ verb: 'delete', group: '', resource: 'pods', why: 'drain-fallback-delete: deleting pods whose eviction is refused' }]
      : []),
  ];
}

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
  | 'cordoned'
  | 'skipped'
  | 'evicting'
  | 'evicted'
  | 'blocked'
  | 'waiting'
  | 'gone'
  | 'deleting-ignoring-budget'
  | 'uncordoned';

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

type DrainApis = Pick<ClusterApis, 'core' | 'apps'>;

const MIRROR_ANNOTATION = 'kubernetes.io/config.mirror';

/** Marks the node unschedulable (and ours: CORDON_MARK). Returns false when it already was (nothing changed). */
export async function cordonNode(api: Pick<ClusterApis, 'core'>, node: string): Promise<boolean> {
  return (await cordonForDrain(api, node)) === 'cordoned';
}

/** Makes the node schedulable again and drops CORDON_MARK. Returns false when it already was schedulable. */
export async function uncordonNode(api: Pick<ClusterApis, 'core'>, node: string): Promise<boolean> {
  try {
    const current = await api.core.readNode({ name: node });
    const marked = CORDON_MARK in (current.metadata?.annotations ?? {});
    if (current.spec?.unschedulable !== true && !marked) return false;
    // A merge patch: null removes the field, as kubectl uncordon leaves it, and the mark with it.
    await api.core.patchNode(
      { name: node, body: { metadata: { annotations: { [CORDON_MARK]: null } }, spec: { unschedulable: null } } },
      MERGE_PATCH,
    );
    return current.spec?.unschedulable === true;
  } catch (error) {
    throw new Error(`cannot uncordon node ${node}: ${describeApiError(error)}`);
  }
}

/**
 * Cordons the node for a drain, marking the cordon as ours in the same PATCH, so that however the drain ends (a
 * kill, an API outage) the cordon is known to be this Action's. 'cordoned': cordoned now; 'ours': already cordoned
 * with our mark (an earlier run's interrupted drain); 'operator': cordoned without it, an operator's fence.
 */
async function cordonForDrain(api: Pick<ClusterApis, 'core'>, node: string): Promise<'cordoned' | 'ours' | 'operator'> {
  try {
    const current = await api.core.readNode({ name: node });
    if (current.spec?.unschedulable === true) return CORDON_MARK in (current.metadata?.annotations ?? {}) ? 'ours' : 'operator';
    await api.core.patchNode(
      { name: node, body: { metadata: { annotations: { [CORDON_MARK]: new Date().toISOString() } }, spec: { unschedulable: true } } },
      MERGE_PATCH,
    );
    return 'cordoned';
  } catch (error) {
    throw new Error(`cannot cordon node ${node}: ${describeApiError(error)}`);
  }
}

const podId = (pod: V1Pod): string => `${pod.metadata?.namespace}/${pod.metadata?.name}`;

/** Whether a DaemonSet exists, read once per drain (a pod whose DaemonSet is gone is an orphan: kubectl refuses it). */
function daemonSetLookup(api: DrainApis): (namespace: string, name: string) => Promise<boolean> {
  const known = new Map<string, Promise<boolean>>();
  return (namespace, name) => {
    const key = `${namespace}/${name}`;
    let found = known.get(key);
    if (!found) {
      found = api.apps.readNamespacedDaemonSet({ name, namespace }).then(
        () => true,
        (error: unknown) => !isNotFound(error),
      );
      known.set(key, found);
    }
    return found;
  };
}

/** What the drain does with a pod: the core's pod policy, with what only the cluster knows filled in. */
async function podVerdict(
  pod: V1Pod,
  policy: CompiledPolicy,
  daemonSetExists: (namespace: string, name: string) => Promise<boolean>,
): Promise<PodVerdict> {
  const observed = mapPod(pod);
  const exists =
    observed.controllerKind === 'DaemonSet' && observed.controllerName
      ? await daemonSetExists(observed.namespace, observed.controllerName)
      : true;
  const deleted = pod.metadata?.deletionTimestamp;
  const facts: PodFacts = {
    daemonSetExists: () => exists,
    ...(deleted ? { terminatingSeconds: (Date.now() - new Date(deleted).getTime()) / 1000 } : {}),
  };
  return classifyPod(observed, policy, facts);
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
  if (failure.code === 429)
    return { blocker: { pod: id, reason: failure.message }, retry: true, line: `eviction refused (429): ${failure.message}; retrying` };
  if (failure.code === 500 && /more than one PodDisruptionBudget/.test(failure.message)) {
    return { blocker: { pod: id, reason: failure.message }, retry: false, line: `cannot evict: ${failure.message}` };
  }
  const passing = failure.code === undefined || failure.code >= 500 || failure.causes.some((c) => c.reason === 'NamespaceTerminating');
  const what = failure.code ? `HTTP ${failure.code}: ${failure.message}` : failure.message;
  return {
    blocker: { pod: id, reason: `eviction failed: ${what}` },
    retry: passing,
    line: `eviction failed (${what})${passing ? '; retrying' : ''}`,
  };
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
    const remaining = deadline - Date.now();
    if (remaining <= 0) {
      return {
        pod: id,
        reason: `still terminating when the drain timed out (grace period ${pod.spec?.terminationGracePeriodSeconds ?? 30}s)`,
      };
    }
    await sleep(Math.min(poll, remaining));
  }
}

async function deleteIgnoringBudget(ctx: DrainContext, pod: V1Pod, why: DrainBlocker): Promise<PodOutcome> {
  const id = podId(pod);
  ctx.emit(
    'deleting-ignoring-budget',
    `DELETING ${id} IGNORING ITS DISRUPTION BUDGET (drain-fallback-delete): eviction was refused: ${why.budget ? `PDB ${why.budget} ` : ''}${why.reason}`,
    id,
  );
  try {
    await ctx.api.core.deleteNamespacedPod({
      name: pod.metadata!.name!,
      namespace: pod.metadata!.namespace!,
      body: {
        ...(ctx.options.gracePeriodSeconds !== undefined ? { gracePeriodSeconds: ctx.options.gracePeriodSeconds } : {}),
        preconditions: { uid: pod.metadata!.uid! },
      },
    });
  } catch (error) {
    const failure = apiFailure(error);
    // 404: gone already; 409: the UID precondition failed, so the pod we meant was replaced.
    if (failure.code !== 404 && failure.code !== 409)
      return { pod: id, outcome: 'blocked', blocker: { ...why, reason: `${why.reason}; fallback delete failed: ${failure.message}` } };
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
    apiVersion: 'policy/v1',
    kind: 'Eviction',
    metadata: { name, namespace },
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
      // ask again until the deadline itself (the last wait is shortened to end there), so drain-timeout means what it says
      const remaining = ctx.deadline - Date.now();
      if (!refused.retry || remaining <= 0) return giveUp(ctx, current, refused.blocker);
      await sleep(Math.min(ctx.options.retryDelayMs ?? 5000, remaining));
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
  const cordon = await cordonForDrain(api, node);
  const wasUnschedulable = cordon === 'operator';
  emit(
    'cordoned',
    cordon === 'operator'
      ? `node ${node} was already cordoned`
      : cordon === 'ours'
        ? `node ${node} was cordoned by an earlier run of this Action (its drain did not finish); draining it now`
        : `node ${node} cordoned`,
  );
  const result: DrainResult = { node, wasUnschedulable, evicted: [], skipped: [], deletedIgnoringBudget: [], blockedBy: [], delayedBy: [] };
  const fail = async (message: string): Promise<never> => {
    // An operator's cordon is never undone: only a cordon this drain made is lifted again.
    if (wasUnschedulable) throw new DrainError(`${message}; the node stays cordoned: it was cordoned before this drain`, result, false);
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
      api.core.listPodForAllNamespaces({
        ...page,
        fieldSelector: `spec.nodeName=${node}`,
        ...(options.podSelector ? { labelSelector: options.podSelector } : {}),
      }),
    );
  } catch (error) {
    return fail(`cannot drain node ${node}: ${(error as Error).message}`);
  }
  const toMove: V1Pod[] = [];
  let policy: CompiledPolicy;
  try {
    policy = compilePolicy(options);
  } catch (error) {
    return fail(`cannot drain node ${node}: drain-pod-selector: ${(error as Error).message}`);
  }
  const daemonSetExists = daemonSetLookup(api);
  for (const pod of pods) {
    const verdict = await podVerdict(pod, policy, daemonSetExists);
    if (verdict.action === 'skip') {
      result.skipped.push({ pod: podId(pod), reason: verdict.reason });
      emit('skipped', `skipping ${podId(pod)}: ${verdict.reason}`, podId(pod));
    } else if (verdict.action === 'refuse') {
      result.blockedBy.push({ pod: podId(pod), reason: verdict.reason });
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
    const hint =
      result.blockedBy.some((b) => b.budget) && !options.fallbackDelete
        ? ' (give the workloads room to reschedule, raise drain-timeout, or set drain-fallback-delete: true to delete ignoring budgets)'
        : '';
    return fail(
      `drain of node ${node} did not finish within drain-timeout ${formatDuration(options.timeoutMs)}: ${describeBlockers(result.blockedBy)}${hint}`,
    );
  }
  return result;
}
