// Upgrade progress recorded on each Node as annotations, so a re-run skips nodes already at the target
// and resumes a node from the first stage not done. Also home of the small helpers the other
// cluster-effect adapters share (the API client bundle, merge-patch options, API error parsing).
import { listAll } from './read-cluster.ts';
import {
  ApiException,
  AppsV1Api,
  CoordinationV1Api,
  CoreV1Api,
  type KubeConfig,
  PatchStrategy,
  PolicyV1Api,
  setHeaderOptions,
} from '@kubernetes/client-node';
import { apiRetrier, ApiRetryError, apiStatus, retryingClient, retryPolicyOf, type ApiRetryDeps } from './api-retry.ts';

import type { Permission } from '../../core/permissions.ts';

/** The calls of the progress records (readProgress, recordStage, recordFence, clearProgress). */
export const PROGRESS_ACCESS: readonly Permission[] = [
  { verb: 'get', group: '', resource: 'nodes', why: 'reading the upgrade progress recorded on each Node' },
  { verb: 'patch', group: '', resource: 'nodes', why: 'recording the upgrade progress on each Node (annotations)' },
];

/** The API clients the cluster-effect adapters use; each function takes only the ones it needs. */
export interface ClusterApis {
  core: CoreV1Api;
  apps: AppsV1Api;
  policy: PolicyV1Api;
  coordination: CoordinationV1Api;
}

/** The clients, every call retried through transient faults (api-retry.ts: the one policy, the kubeconfig's budget). */
export function makeClusterApis(kc: KubeConfig, retry: ApiRetryDeps = {}): ClusterApis {
  const retrier = apiRetrier({ policy: retryPolicyOf(kc), ...retry });
  return {
    core: retryingClient(kc.makeApiClient(CoreV1Api), retrier),
    apps: retryingClient(kc.makeApiClient(AppsV1Api), retrier),
    policy: retryingClient(kc.makeApiClient(PolicyV1Api), retrier),
    coordination: retryingClient(kc.makeApiClient(CoordinationV1Api), retrier),
  };
}

/** client-node picks json-patch+json by default for PATCH; object bodies need merge-patch said explicitly. */
export const MERGE_PATCH = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);

/** What an API error says: HTTP code, the Status message and causes (client-node 2 keeps the body as text). */
export interface ApiFailure {
  code?: number;
  reason?: string;
  message: string;
  causes: { reason?: string; message?: string }[];
}

export function apiFailure(error: unknown): ApiFailure {
  if (error instanceof ApiException) {
    const status = apiStatus(error);
    return {
      code: status.code,
      ...(status.reason ? { reason: status.reason } : {}),
      message: status.message || `HTTP ${status.code}`,
      causes: status.causes,
    };
  }
  // a call that met transient faults for its whole budget: its message is the sentence
  if (error instanceof ApiRetryError) {
    return {
      ...(error.status ? { code: error.status.code, ...(error.status.reason ? { reason: error.status.reason } : {}) } : {}),
      message: error.message,
      causes: [],
    };
  }
  const cause = (error as { cause?: unknown }).cause;
  const causeText = cause instanceof Error && !(cause instanceof ApiException) ? cause.message : undefined;
  return { message: `${(error as Error).message ?? String(error)}${causeText ? ` (${causeText})` : ''}`, causes: [] };
}

export function isNotFound(error: unknown): boolean {
  return error instanceof ApiException && error.code === 404;
}

export function isConflict(error: unknown): boolean {
  return error instanceof ApiException && error.code === 409;
}

export const PROGRESS_PREFIX = 'upgrade.kubeadm-upgrade-action.io/';
const KEY = {
  target: `${PROGRESS_PREFIX}target`,
  stage: `${PROGRESS_PREFIX}stage`,
  stageStatus: `${PROGRESS_PREFIX}stage-status`,
  stageTime: `${PROGRESS_PREFIX}stage-time`,
  run: `${PROGRESS_PREFIX}run`,
  doneStages: `${PROGRESS_PREFIX}done-stages`,
  cordonedBefore: `${PROGRESS_PREFIX}cordoned-before`,
} as const;

export type StageStatus = 'started' | 'done' | 'failed';

/** What a node's annotations say about its upgrade. */
export interface NodeProgress {
  /** the version this progress is for, "1.31.2" */
  target: string;
  /** the last stage recorded */
  stage?: string;
  stageStatus?: StageStatus;
  /** when the last stage was recorded (ISO 8601) */
  stageTime?: string;
  /** the run that recorded it, e.g. "owner/repo run 123 attempt 1" */
  run?: string;
  /** stages finished for this target, in the order they finished */
  doneStages: string[];
  /** the drain for this target found the node already cordoned: the operator's fence, never undone */
  cordonedBefore?: boolean;
}

export interface StageRecord {
  target: string;
  stage: string;
  run: string;
  status: StageStatus;
}

type Core = Pick<ClusterApis, 'core'>;

/** The progress a node's annotations record; undefined when they record none. */
export function progressFrom(annotations: Record<string, string>): NodeProgress | undefined {
  const target = annotations[KEY.target];
  if (!target) return undefined;
  const status = annotations[KEY.stageStatus];
  return {
    target,
    ...(annotations[KEY.stage] ? { stage: annotations[KEY.stage] } : {}),
    ...(status === 'started' || status === 'done' || status === 'failed' ? { stageStatus: status } : {}),
    ...(annotations[KEY.stageTime] ? { stageTime: annotations[KEY.stageTime] } : {}),
    ...(annotations[KEY.run] ? { run: annotations[KEY.run] } : {}),
    doneStages: (annotations[KEY.doneStages] ?? '')
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean),
    ...(annotations[KEY.cordonedBefore] === target ? { cordonedBefore: true } : {}),
  };
}

/**
 * Set in the very PATCH that cordons a node for a drain (and removed in the one that uncordons it): this cordon is
 * this Action's own. An interrupted drain (a kill, an API outage) leaves it beside the cordon, so a re-run counts
 * the node as its own to uncordon. Value: when it was cordoned. A cordon without it is the operator's.
 */
export const CORDON_MARK = `${PROGRESS_PREFIX}cordoned-by-upgrade`;

/** The Nodes cordoned by this Action's drain (CORDON_MARK) and not uncordoned yet, by name. */
export async function nodesCordonedByUs(apis: Pick<ClusterApis, 'core'>): Promise<string[]> {
  const nodes = await listAll('nodes', (page) => apis.core.listNode(page));
  return nodes
    .filter((n) => n.spec?.unschedulable === true && CORDON_MARK in (n.metadata?.annotations ?? {}))
    .map((n) => n.metadata?.name ?? '')
    .filter(Boolean)
    .sort();
}

/** Records that the drain for `target` found the node cordoned already (by its operator): no run uncordons it. */
export async function recordFence(api: Core, node: string, target: string): Promise<void> {
  await api.core.patchNode({ name: node, body: { metadata: { annotations: { [KEY.cordonedBefore]: target } } } }, MERGE_PATCH);
}

/** The progress recorded on a node; undefined when none is (or the node has no target annotation). */
export async function readProgress(api: Core, node: string): Promise<NodeProgress | undefined> {
  const object = await api.core.readNode({ name: node });
  return progressFrom(object.metadata?.annotations ?? {});
}

/**
 * Records one stage on a node. A different target than the one recorded starts the list of done
 * stages afresh: stages done for 1.30 say nothing about 1.31.
 */
export async function recordStage(api: Core, node: string, record: StageRecord): Promise<NodeProgress> {
  if (record.stage.includes(',')) throw new Error(`stage name "${record.stage}" must not contain a comma`);
  const previous = await readProgress(api, node);
  const done = previous?.target === record.target ? previous.doneStages.filter((s) => s !== record.stage) : [];
  if (record.status === 'done') done.push(record.stage);
  const annotations: Record<string, string> = {
    [KEY.target]: record.target,
    [KEY.stage]: record.stage,
    [KEY.stageStatus]: record.status,
    [KEY.stageTime]: new Date().toISOString(),
    [KEY.run]: record.run,
    [KEY.doneStages]: done.join(','),
  };
  const patched = await api.core.patchNode({ name: node, body: { metadata: { annotations } } }, MERGE_PATCH);
  return progressFrom(patched.metadata?.annotations ?? {})!;
}

/** Removes every progress annotation from a node (merge patch: null deletes a key). */
export async function clearProgress(api: Core, node: string): Promise<void> {
  const annotations = Object.fromEntries(Object.values(KEY).map((key) => [key, null]));
  await api.core.patchNode({ name: node, body: { metadata: { annotations } } }, MERGE_PATCH);
}

/** The first of `stages` not yet done for `target`; undefined when all are done. */
export function firstStageNotDone(progress: NodeProgress | undefined, target: string, stages: readonly string[]): string | undefined {
  const done = progress?.target === target ? new Set(progress.doneStages) : new Set<string>();
  return stages.find((stage) => !done.has(stage));
}
