// Cordon the node and move its pods away through the Eviction API, the way `kubectl drain` does (PDB-aware).
// A node the operator had cordoned before the run is recorded as fenced, so no run of this Action uncordons it.
import { DrainError, type DrainOptions } from '../../adapters/cluster/drain.ts';
import type { Stage } from '../types.ts';
import { STUCK_TERMINATING_SECONDS } from '../../core/pod-policy.ts';

function seconds(ms: number): string {
  return ms % 60_000 === 0 ? `${ms / 60_000}m` : `${Math.round(ms / 1000)}s`;
}

/** The drain as the plan shows it: every drain input that changes what happens to a pod. */
export function describeDrain(options: DrainOptions): string {
  const parts = [
    'cordon the node, then evict its pods through the Eviction API (PodDisruptionBudgets respected; DaemonSet and mirror pods stay)',
    options.podSelector ? `only pods matching ${options.podSelector}` : undefined,
    options.deleteEmptyDirData
      ? 'pods with emptyDir are evicted (their emptyDir data is lost)'
      : 'pods with emptyDir are refused (delete-emptydir-data: false)',
    options.forceUnmanaged
      ? 'pods without a controller, or whose DaemonSet is gone, are evicted for good (force-drain-unmanaged)'
      : 'pods without a controller, or whose DaemonSet is gone, are refused',
    `pods terminating for over ${STUCK_TERMINATING_SECONDS}s are not waited for`,
    options.gracePeriodSeconds !== undefined ? `grace period ${options.gracePeriodSeconds}s` : undefined,
    `give up after ${seconds(options.timeoutMs)}${options.fallbackDelete ? ', then DELETE pods whose budget still refuses (drain-fallback-delete)' : ''}`,
  ];
  return parts.filter(Boolean).join('; ');
}

export const drain: Stage = {
  name: 'drain',
  title: 'cordon and drain (Eviction API)',
  steps: ({ job, target, node, drain: options }) => [
    {
      kind: 'cluster',
      text: describeDrain(options),
      async run(ctx) {
        try {
          const result = await ctx.cluster.drain(job.name, options, (event) => ctx.say(event.message));
          if (result.wasUnschedulable || node.cordonedBefore) await ctx.cluster.recordFence(job.name, target.version);
          ctx.cordon(
            true,
            result.wasUnschedulable || node.cordonedBefore
              ? 'was cordoned before the run; it stays cordoned'
              : 'drained for the upgrade; uncordoned once the new kubelet is Ready',
          );
          if (result.deletedIgnoringBudget.length > 0) {
            ctx.note(
              'warning',
              `drain-fallback-delete DELETED ${result.deletedIgnoringBudget.length} pod(s) on ${job.name} IGNORING their disruption budgets: ${result.deletedIgnoringBudget.join(', ')}`,
            );
          }
          for (const delayed of result.delayedBy) ctx.say(`PDB ${delayed.budget} delayed evictions for a while (${delayed.reason})`);
        } catch (error) {
          if (error instanceof DrainError) {
            const fenced = error.result.wasUnschedulable || node.cordonedBefore;
            if (fenced) await ctx.cluster.recordFence(job.name, target.version).catch(() => undefined);
            ctx.cordon(
              !error.uncordoned,
              fenced
                ? 'the drain failed; it was cordoned before the run, so it stays cordoned'
                : error.uncordoned
                  ? 'the drain failed, so it was uncordoned again'
                  : 'the drain failed and the node could not be uncordoned',
            );
          }
          throw error;
        }
      },
    },
  ],
};
