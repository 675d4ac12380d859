// The cluster lock (a Lease): one run upgrades a cluster at a time; matrix legs of one run share it. Renewed while
// the run works, released when it finishes (and by the post step after a crash). A dry run takes no lock.
import { holderIdentity, LOCK_ACCESS, lockName, type LockHolder } from '../../adapters/cluster/lease.ts';
import { lockLeftMessage, LOCK_STATE, type LockState } from '../lock-state.ts';
import { preparedOf, type Phase } from './phase.ts';

function ageText(ms: number): string {
  const minutes = Math.round(ms / 60_000);
  return minutes >= 1 ? `${minutes} min` : `${Math.round(ms / 1000)} s`;
}

export function lockPhase(jobSuffix?: string): Phase {
  return {
    title: 'lock',
    access: ({ options }) => (options.dryRun ? [] : LOCK_ACCESS),
    async run(run) {
      const { deps } = run;
      const prepared = preparedOf(run);
      const holder: LockHolder = {
        repository: deps.identity.repository,
        runId: deps.identity.runId,
        attempt: deps.identity.attempt,
        job: `${deps.identity.job}${jobSuffix ?? ''}`,
      };
      const name = lockName(prepared.inventory.cluster);
      const outcome = await deps.lock.acquire(name, holder, deps.options.lockTtlMs);
      if (!outcome.acquired) {
        return {
          outcome: 'refused',
          reason: `Another run holds the cluster lock (Lease kube-system/${name}): ${outcome.holder}, last renewed ${ageText(outcome.ageMs)} ago. Nothing was changed. Wait for it to finish; a lock not renewed for lock-ttl (${ageText(deps.options.lockTtlMs)}) may be taken over.`,
        };
      }
      run.holder = holder;
      // saved again after every renewal: the post step says when the Lease expires if it cannot release it
      const state: LockState = { name, holder, ttlMs: deps.options.lockTtlMs, renewedAt: outcome.renewedAt };
      const saveState = () => deps.reporter.saveState(LOCK_STATE, JSON.stringify(state));
      saveState();
      run.emit({ type: 'run-started', command: run.command, target: prepared.plan.target.version!, holder: holderIdentity(holder) });
      if (outcome.takenOverFrom) {
        run.emit({
          type: 'note',
          level: 'warning',
          text: `took over the cluster lock from ${outcome.takenOverFrom.holder}, not renewed for ${ageText(outcome.takenOverFrom.ageMs)} (more than lock-ttl)`,
        });
      }
      const renewal = deps.lock.startRenewal(
        name,
        holder,
        Math.max(1000, Math.floor(deps.options.lockTtlMs / 3)),
        (other) => (run.lostTo = other),
        (at) => {
          state.renewedAt = at;
          saveState();
        },
      );
      run.release = async () => {
        run.release = async () => {};
        await renewal.stop();
        let released: Awaited<ReturnType<typeof deps.lock.release>>;
        try {
          released = await deps.lock.release(name, holder);
        } catch (error) {
          // the API is away (beyond api-retry-budget): the post step tries again; the summary says when it expires
          const why = (error as Error).message;
          deps.reporter.warning(`the cluster lock was not released: ${why} (the post step tries again)`);
          run.emit({
            type: 'note',
            level: 'warning',
            text: `${lockLeftMessage(name, state, why)}. The post step tries again to release it.`,
          });
          return;
        }
        if (!released.released) deps.reporter.warning(`the cluster lock was not released: ${released.reason}`);
      };
      return undefined;
    },
    dryRun: async () => undefined,
  };
}
