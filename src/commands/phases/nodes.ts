// The node phases: the control planes one at a time, then the worker batches. Each node runs its stages
// (src/upgrade/stages/); a dry run prints those stages' steps, the same ones the plan showed.
import { drainAccess } from '../../adapters/cluster/drain.ts';
import { holderIdentity } from '../../adapters/cluster/lease.ts';
import { PROGRESS_ACCESS } from '../../adapters/cluster/progress.ts';
import { CLUSTER_OPS_ACCESS } from '../../upgrade/cluster-ops.ts';
import { commandLine, kubeadmBackupsMode, stageInput } from '../../upgrade/procedure.ts';
import { runControlPlanes, runWorkerBatches, type RunnerDeps, type RunnerResult } from '../../upgrade/runner.ts';
import type { ScheduledNode } from '../../upgrade/schedule.ts';
import { stageNamed } from '../../upgrade/stages/index.ts';
import { kubeadmBackupsHook } from '../upgrade-backup.ts';
import { preparedOf, scheduleOf, type AccessNeeds, type Phase, type PhaseStop, type RunState } from './phase.ts';

/** The node stages' calls: drain and uncordon, progress records, Ready waits and addon versions; none in a dry run. */
function nodeStagesAccess({ options }: AccessNeeds) {
  return options.dryRun ? [] : [...drainAccess(options.drain), ...PROGRESS_ACCESS, ...CLUSTER_OPS_ACCESS];
}

function runnerDeps(run: RunState): RunnerDeps {
  const { deps } = run;
  return {
    cluster: deps.cluster,
    openShell: deps.openShell,
    clock: deps.clock,
    log: deps.reporter,
    emit: run.emit,
    target: run.target!,
    drain: deps.options.drain,
    readyTimeoutMs: deps.options.nodeReadyTimeoutMs,
    packageLockTimeoutMs: deps.options.packageLockTimeoutMs,
    nodeFacts: run.factsOf!,
    kubeadmBackups: kubeadmBackupsMode(deps.settings),
    runIdentity: run.holder ? holderIdentity(run.holder) : 'dry run',
    stopRequested: () => deps.cancelled() ?? (run.lostTo !== undefined ? `the cluster lock was taken over by ${run.lostTo}` : undefined),
    afterKubeadmUpgrade: kubeadmBackupsHook(deps, preparedOf(run), run.emit, () => run.backup),
  };
}

function stopped(run: RunState, result: RunnerResult): PhaseStop | undefined {
  if (result.ok) return undefined;
  const cancelled = run.deps.cancelled();
  return {
    outcome: cancelled ? 'cancelled' : 'failed',
    reason: `${cancelled ?? result.stoppedBecause}: no new node was started after that.`,
  };
}

/** Prints what each node's remaining stages would run: the same steps the run executes. */
function printSteps(run: RunState, nodes: readonly ScheduledNode[]): void {
  for (const node of nodes) {
    const input = stageInput(node.job, run.target!, run.factsOf!(node.job.name), {
      upgrade: run.deps.options,
      backup: run.deps.settings.backup,
    });
    const stages = node.stages.filter((s) => !node.doneBefore.includes(s)).map(stageNamed);
    run.deps.reporter.group(
      `${node.job.name} (dry run)`,
      stages.flatMap((stage) => [
        `# ${stage.name}: ${stage.title}`,
        ...stage.steps(input).map((step) => (step.kind === 'command' ? commandLine(step.argv) : `# → ${step.text}`)),
      ]),
    );
  }
}

export const controlPlanesPhase: Phase = {
  title: 'control planes',
  access: nodeStagesAccess,
  shouldRun: (run) => run.parts!.controlPlanes,
  run: async (run) => stopped(run, await runControlPlanes(scheduleOf(run).controlPlanes, runnerDeps(run), run.facts)),
  async dryRun(run) {
    printSteps(run, scheduleOf(run).controlPlanes);
    return undefined;
  },
};

export const workersPhase: Phase = {
  title: 'workers',
  access: nodeStagesAccess,
  shouldRun: (run) => run.parts!.workers,
  run: async (run) => stopped(run, await runWorkerBatches(scheduleOf(run).workerBatches, runnerDeps(run), run.facts)),
  async dryRun(run) {
    printSteps(
      run,
      scheduleOf(run).workerBatches.flatMap((b) => b.nodes),
    );
    return undefined;
  },
};
