import { lockExpiry, type LockHolder } from '../adapters/cluster/lease.ts';

/** The post step finds the lock this job holds under this state name. */
export const LOCK_STATE = 'lock';

/** Saved once the main step has run its command to an end and reported it (cordons included): absent after a kill. */
export const RUN_ENDED_STATE = 'run-ended';

/** What the main step saves under LOCK_STATE (again after every renewal), for the post step. */
export interface LockState {
  name: string;
  holder: LockHolder;
  /** lock-ttl */
  ttlMs?: number;
  /** the Lease's renewTime as last written by this job (ms since the epoch) */
  renewedAt?: number;
}

/** The sentence for a lock left held: why, when the Lease may be taken over, and how to free it sooner. */
export function lockLeftMessage(name: string, state: Pick<LockState, 'ttlMs' | 'renewedAt'>, why: string): string {
  const when =
    state.renewedAt !== undefined && state.ttlMs !== undefined
      ? `It is left to expire at ${lockExpiry(state.renewedAt, state.ttlMs)} (its last renewal + lock-ttl)`
      : 'It is left to expire lock-ttl after its last renewal';
  return `The cluster lock (Lease kube-system/${name}) was not released: ${why}. ${when}; until then a new run is refused, unless you delete it: kubectl -n kube-system delete lease ${name}`;
}
