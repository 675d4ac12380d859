// The cluster lock: one Lease in kube-system holds the cluster for one workflow run, so two runs never
// upgrade one cluster at once. Matrix jobs of the same run share it; a lease nobody renewed for longer
// than lock-ttl may be taken over (and that is reported). Every write carries the resourceVersion
// read just before it, so a 409 means someone else wrote in between: read again and decide again.
import { V1MicroTime, type V1Lease } from '@kubernetes/client-node';
import type { Permission } from '../../core/permissions.ts';
import { isConflict, isNotFound, PROGRESS_PREFIX, type ClusterApis } from './progress.ts';
import { describeApiError } from './read-cluster.ts';

export const DEFAULT_LOCK_NAME = 'kubeadm-upgrade-action';
export const DEFAULT_LOCK_NAMESPACE = 'kube-system';

/** The calls of the cluster lock (acquire, renew, release). */
export const LOCK_ACCESS: readonly Permission[] = (['get', 'create', 'update', 'delete'] as const).map((verb) => ({
  verb,
  group: 'coordination.k8s.io',
  resource: 'leases',
  namespace: DEFAULT_LOCK_NAMESPACE,
  why: 'the cluster lock (a Lease in kube-system)',
}));
const RUN_ANNOTATION = `${PROGRESS_PREFIX}run`;
const ATTEMPT_ANNOTATION = `${PROGRESS_PREFIX}attempt`;
const JOBS_ANNOTATION = `${PROGRESS_PREFIX}jobs`;
const MAX_CONFLICTS = 8;

/** Who holds the lock: one attempt of one workflow run; `job` tells matrix jobs apart. */
export interface LockHolder {
  repository: string;
  runId: string;
  attempt: number;
  /** unique per matrix leg (e.g. "upgrade (batch 2)"); legs of one run share the lock */
  job: string;
}

export interface LockRequest {
  name: string;
  holder: LockHolder;
  /** lock-ttl: a lease not renewed for longer than this may be taken over */
  ttlMs: number;
  namespace?: string;
  now?: () => Date;
}

export type LockOutcome =
  | {
      acquired: true;
      identity: string;
      /** another job of the same run attempt already held it */
      shared?: boolean;
      /** the jobs of this run now holding it */
      jobs: string[];
      /** the stale (or earlier-attempt) holder this acquisition replaced */
      takenOverFrom?: { holder: string; ageMs: number };
      /** the renewTime written (ms since the epoch): the Lease may be taken over lock-ttl after it */
      renewedAt: number;
    }
  | { acquired: false; holder: string; ageMs: number };

export function holderIdentity(holder: LockHolder): string {
  return `${holder.repository} run ${holder.runId} attempt ${holder.attempt}`;
}

/** The Lease name: the product's, or one per cluster name (lowercased into a valid object name). */
export function lockName(clusterName?: string): string {
  const suffix = (clusterName ?? '')
    .toLowerCase()
    .replace(/[^a-z0-9.-]+/g, '-')
    .replace(/^[^a-z0-9]+|[^a-z0-9]+$/g, '');
  return suffix ? `${DEFAULT_LOCK_NAME}-${suffix}`.slice(0, 253) : DEFAULT_LOCK_NAME;
}

type LeaseApis = Pick<ClusterApis, 'coordination'>;

function timeMs(value: unknown): number | undefined {
  if (value instanceof Date) return value.getTime();
  if (typeof value !== 'string' || !value) return undefined;
  const ms = Date.parse(value);
  return Number.isNaN(ms) ? undefined : ms;
}

/** How long ago the lease was last renewed (or acquired, or created). */
function leaseAgeMs(lease: V1Lease, now: Date): number {
  const last =
    timeMs(lease.spec?.renewTime) ?? timeMs(lease.spec?.acquireTime) ?? timeMs(lease.metadata?.creationTimestamp) ?? now.getTime();
  return Math.max(0, now.getTime() - last);
}

function jobsOf(lease: V1Lease): string[] {
  try {
    const jobs: unknown = JSON.parse(lease.metadata?.annotations?.[JOBS_ANNOTATION] ?? '[]');
    return Array.isArray(jobs) ? jobs.map(String) : [];
  } catch {
    return [];
  }
}

function runOf(holder: LockHolder): string {
  return `${holder.repository}#${holder.runId}`;
}

/** The lease as `holder` writes it; keeps metadata (resourceVersion) of `base` for an optimistic replace. */
function leaseFor(
  base: V1Lease | undefined,
  name: string,
  namespace: string,
  holder: LockHolder,
  jobs: string[],
  now: Date,
  fresh: boolean,
  ttlMs: number,
): V1Lease {
  const stamp = new V1MicroTime(now.getTime());
  return {
    apiVersion: 'coordination.k8s.io/v1',
    kind: 'Lease',
    metadata: {
      ...(base?.metadata ?? {}),
      name,
      namespace,
      annotations: {
        ...(base?.metadata?.annotations ?? {}),
        [RUN_ANNOTATION]: runOf(holder),
        [ATTEMPT_ANNOTATION]: String(holder.attempt),
        [JOBS_ANNOTATION]: JSON.stringify(jobs),
      },
    },
    spec: {
      ...(base?.spec ?? {}),
      holderIdentity: holderIdentity(holder),
      leaseDurationSeconds: Math.max(1, Math.ceil(ttlMs / 1000)),
      renewTime: stamp,
      ...(fresh ? { acquireTime: stamp, leaseTransitions: (base?.spec?.leaseTransitions ?? -1) + 1 } : {}),
    },
  };
}

type Decision = { write: V1Lease; outcome: Omit<Extract<LockOutcome, { acquired: true }>, 'renewedAt'> } | { refuse: LockOutcome };

function decide(lease: V1Lease, request: LockRequest, namespace: string, now: Date): Decision {
  const { holder, name, ttlMs } = request;
  const current = lease.spec?.holderIdentity ?? '';
  const ageMs = leaseAgeMs(lease, now);
  const annotations = lease.metadata?.annotations ?? {};
  const sameRun = annotations[RUN_ANNOTATION] === runOf(holder);
  const theirAttempt = Number(annotations[ATTEMPT_ANNOTATION]);
  const identity = holderIdentity(holder);
  if (current && sameRun && theirAttempt === holder.attempt) {
    // a write retried after a lost answer finds this job there already: never count it twice
    const jobs = [...new Set([...jobsOf(lease), holder.job])];
    return {
      write: leaseFor(lease, name, namespace, holder, jobs, now, false, ttlMs),
      outcome: { acquired: true, identity, shared: true, jobs },
    };
  }
  const free = !current;
  const stale = ageMs > ttlMs;
  // A re-run attempt of the same run starts after the earlier attempt ended: its lease is left over.
  const earlierAttempt = sameRun && theirAttempt < holder.attempt;
  if (!free && !stale && !earlierAttempt) return { refuse: { acquired: false, holder: current, ageMs } };
  const jobs = [holder.job];
  return {
    write: leaseFor(lease, name, namespace, holder, jobs, now, true, ttlMs),
    outcome: { acquired: true, identity, jobs, ...(free ? {} : { takenOverFrom: { holder: current, ageMs } }) },
  };
}

async function readLease(api: LeaseApis, name: string, namespace: string): Promise<V1Lease | undefined> {
  try {
    return await api.coordination.readNamespacedLease({ name, namespace });
  } catch (error) {
    if (isNotFound(error)) return undefined;
    throw new Error(`cannot read Lease ${namespace}/${name}: ${describeApiError(error)}`);
  }
}

/** Takes the cluster lock for this run, or says who holds it and since how long they last renewed it. */
export async function acquireClusterLock(api: LeaseApis, request: LockRequest): Promise<LockOutcome> {
  const namespace = request.namespace ?? DEFAULT_LOCK_NAMESPACE;
  const clock = request.now ?? (() => new Date());
  for (let conflicts = 0; conflicts < MAX_CONFLICTS; conflicts++) {
    const now = clock();
    const lease = await readLease(api, request.name, namespace);
    try {
      if (!lease) {
        const jobs = [request.holder.job];
        const body = leaseFor(undefined, request.name, namespace, request.holder, jobs, now, true, request.ttlMs);
        await api.coordination.createNamespacedLease({ namespace, body });
        return { acquired: true, identity: holderIdentity(request.holder), jobs, renewedAt: now.getTime() };
      }
      const decision = decide(lease, request, namespace, now);
      if ('refuse' in decision) return decision.refuse;
      await api.coordination.replaceNamespacedLease({ name: request.name, namespace, body: decision.write });
      return { ...decision.outcome, renewedAt: now.getTime() } as LockOutcome;
    } catch (error) {
      // 409: created or changed by someone else since we read it (AlreadyExists / Conflict).
      if (isConflict(error)) continue;
      throw new Error(`cannot write Lease ${namespace}/${request.name}: ${describeApiError(error)}`);
    }
  }
  throw new Error(`cannot acquire Lease ${namespace}/${request.name}: it changed under us ${MAX_CONFLICTS} times in a row`);
}

function heldBy(lease: V1Lease, holder: LockHolder): boolean {
  const annotations = lease.metadata?.annotations ?? {};
  return (
    Boolean(lease.spec?.holderIdentity) &&
    annotations[RUN_ANNOTATION] === runOf(holder) &&
    Number(annotations[ATTEMPT_ANNOTATION]) === holder.attempt
  );
}

export type RenewOutcome = { renewed: true; renewedAt: number } | { renewed: false; lostTo: string };

/** Sets renewTime to now if this run still holds the lock; says who holds it otherwise. */
export async function renewClusterLock(api: LeaseApis, request: Omit<LockRequest, 'ttlMs'>): Promise<RenewOutcome> {
  const namespace = request.namespace ?? DEFAULT_LOCK_NAMESPACE;
  const clock = request.now ?? (() => new Date());
  for (let conflicts = 0; conflicts < MAX_CONFLICTS; conflicts++) {
    const lease = await readLease(api, request.name, namespace);
    if (!lease) return { renewed: false, lostTo: '(nobody: the Lease was deleted)' };
    if (!heldBy(lease, request.holder)) return { renewed: false, lostTo: lease.spec?.holderIdentity || '(nobody: the Lease was released)' };
    const renewedAt = clock().getTime();
    const body: V1Lease = { ...lease, spec: { ...lease.spec, renewTime: new V1MicroTime(renewedAt) } };
    try {
      await api.coordination.replaceNamespacedLease({ name: request.name, namespace, body });
      return { renewed: true, renewedAt };
    } catch (error) {
      if (isConflict(error)) continue;
      throw new Error(`cannot renew Lease ${namespace}/${request.name}: ${describeApiError(error)}`);
    }
  }
  throw new Error(`cannot renew Lease ${namespace}/${request.name}: it changed under us ${MAX_CONFLICTS} times in a row`);
}

export interface LockRenewalOptions extends Omit<LockRequest, 'ttlMs'> {
  intervalMs: number;
  /** the lock now belongs to someone else (or was deleted); renewal stops */
  onLost?: (holder: string) => void;
  /** a renewal failed (the API was unreachable, say); renewal goes on */
  onError?: (error: Error) => void;
  /** the Lease was renewed: its renewTime is now `at` */
  onRenewed?: (at: number) => void;
}

export interface LockRenewal {
  /** stops renewing; resolves once a renewal in flight has finished */
  stop(): Promise<void>;
}

/** Renews the lock every intervalMs until stopped or lost. The timer does not keep the process alive. */
export function startLockRenewal(api: LeaseApis, options: LockRenewalOptions): LockRenewal {
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let inFlight: Promise<void> = Promise.resolve();
  const tick = async (): Promise<void> => {
    try {
      const outcome = await renewClusterLock(api, options);
      if (!outcome.renewed) {
        stopped = true;
        options.onLost?.(outcome.lostTo);
      } else options.onRenewed?.(outcome.renewedAt);
    } catch (error) {
      options.onError?.(error as Error);
    }
  };
  const schedule = (): void => {
    if (stopped) return;
    timer = setTimeout(() => {
      inFlight = tick().then(schedule);
    }, options.intervalMs);
    timer.unref();
  };
  schedule();
  return {
    async stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      await inFlight;
    },
  };
}

export type ReleaseOutcome = { released: true; deleted: boolean; remainingJobs: string[] } | { released: false; reason: string };

/**
 * Gives up this job's share of the lock. The Lease is deleted when no job of the run holds it any
 * more, and only if this run holds it: a lease taken over by someone else is left alone.
 */
export async function releaseClusterLock(
  api: LeaseApis,
  name: string,
  holder: LockHolder,
  namespace = DEFAULT_LOCK_NAMESPACE,
): Promise<ReleaseOutcome> {
  for (let conflicts = 0; conflicts < MAX_CONFLICTS; conflicts++) {
    const lease = await readLease(api, name, namespace);
    if (!lease) return { released: false, reason: `Lease ${namespace}/${name} does not exist` };
    if (!heldBy(lease, holder))
      return {
        released: false,
        reason: `Lease ${namespace}/${name} is held by ${lease.spec?.holderIdentity || 'nobody'}, not ${holderIdentity(holder)}`,
      };
    const jobs = jobsOf(lease);
    const mine = jobs.indexOf(holder.job);
    if (mine >= 0) jobs.splice(mine, 1);
    try {
      if (jobs.length > 0) {
        const annotations = { ...lease.metadata?.annotations, [JOBS_ANNOTATION]: JSON.stringify(jobs) };
        await api.coordination.replaceNamespacedLease({
          name,
          namespace,
          body: { ...lease, metadata: { ...lease.metadata, annotations } },
        });
        return { released: true, deleted: false, remainingJobs: jobs };
      }
      const resourceVersion = lease.metadata?.resourceVersion;
      await api.coordination.deleteNamespacedLease({
        name,
        namespace,
        body: { preconditions: { ...(resourceVersion ? { resourceVersion } : {}) } },
      });
      return { released: true, deleted: true, remainingJobs: [] };
    } catch (error) {
      if (isConflict(error)) continue;
      if (isNotFound(error)) return { released: true, deleted: true, remainingJobs: [] };
      throw new Error(`cannot release Lease ${namespace}/${name}: ${describeApiError(error)}`);
    }
  }
  throw new Error(`cannot release Lease ${namespace}/${name}: it changed under us ${MAX_CONFLICTS} times in a row`);
}

/** When a Lease renewed at `renewedAt` may be taken over (lock-ttl later), as the summary says it: second precision, UTC. */
export function lockExpiry(renewedAt: number, ttlMs: number): string {
  return new Date(Math.floor((renewedAt + ttlMs) / 1000) * 1000).toISOString().replace('.000Z', 'Z');
}

export interface ReleaseRetry {
  /** how long to keep trying (api-retry-budget) from the first attempt */
  boundMs: number;
  now?: () => number;
  sleep?: (ms: number) => Promise<unknown>;
  /** in [0, 1): draws the jitter */
  random?: () => number;
  /** one line per failed attempt that is tried again */
  onRetry?: (line: string) => void;
}

/**
 * releaseClusterLock, tried again with backoff (1 s doubling to 15 s, jittered) until it gets an outcome or
 * boundMs have passed; each attempt's API calls already wait out transient faults (api-retry.ts), so this
 * covers what they give up on (a timeout, a fault longer than one call's budget). Throws the last error.
 */
export async function releaseClusterLockWithin(
  api: LeaseApis,
  name: string,
  holder: LockHolder,
  retry: ReleaseRetry,
  namespace = DEFAULT_LOCK_NAMESPACE,
): Promise<ReleaseOutcome> {
  const now = retry.now ?? Date.now;
  const sleep = retry.sleep ?? ((ms: number) => new Promise((resolve) => setTimeout(resolve, ms)));
  const random = retry.random ?? Math.random;
  const start = now();
  let delay = 1000;
  for (;;) {
    try {
      return await releaseClusterLock(api, name, holder, namespace);
    } catch (error) {
      const left = start + retry.boundMs - now();
      if (left <= 0) throw error;
      const pause = Math.min(delay * (0.5 + random() / 2), left);
      retry.onRetry?.(`releasing the cluster lock failed (${(error as Error).message}); trying again in ${Math.ceil(pause / 1000)}s`);
      await sleep(pause);
      delay = Math.min(delay * 2, 15_000);
    }
  }
}
