// The plan command's code, first in every changing command: an upgrade never starts when plan would say blocked.
import { READ_CLUSTER_ACCESS } from '../../adapters/cluster/read-cluster.ts';
import type { Phase } from './phase.ts';

/** The plan command's calls (readCluster); every changing command makes them first. */
export const PLAN_ACCESS = READ_CLUSTER_ACCESS;

export function planPhase(only?: (run: Parameters<Phase['run']>[0]) => string | undefined): Phase {
  return {
    title: 'plan',
    access: () => PLAN_ACCESS,
    async run(run) {
      run.deps.reporter.info("Reading the cluster and the nodes (the plan command's checks)");
      const prepared = await run.deps.preparePlan(only?.(run));
      run.prepared = prepared;
      const { plan } = prepared;
      if (plan.target.version) run.emit({ type: 'run-started', command: run.command, target: plan.target.version });
      if (plan.verdict === 'blocked' || !plan.target.version) {
        for (const blocker of plan.blockers) run.emit({ type: 'note', level: 'warning', text: `blocker: ${blocker.message}` });
        return { outcome: 'refused', reason: `The plan is blocked, so nothing was changed: ${plan.verdictReason}` };
      }
      return undefined;
    },
  };
}
