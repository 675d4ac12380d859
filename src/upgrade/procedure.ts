// One node procedure: the stage objects (stages/) describe each node's steps; this file turns what the plan read
// into their input, and their steps into the plan's text. The plan, dry-run and the run all go through
// nodeProcedure(), so what a reviewer approves is what runs, command for command.
import { quoteArg } from '../adapters/transport/quote.ts';
import type { ClusterState, NodeObservation, NodeReport } from '../core/cluster-state.ts';
import type { Plan, PlannedAction, ProcedureDescriber, Step } from '../core/plan-types.ts';
import type { Settings } from '../core/settings.ts';
import type { UpgradeOptions } from '../core/upgrade-options.ts';
import { NODE_STAGES } from './stages/index.ts';
import type { NodeFacts, NodeJob, RuntimeArg, Stage, StageInput, StageStep, UpgradeTarget } from './types.ts';

/** kubeadm flags the plan's verdicts ask for: --force when forceable verdicts were accepted, pre-release flags. */
export function kubeadmFlags(version: string, forced: boolean): string[] {
  const flags: string[] = [];
  if (forced) flags.push('--force');
  if (/-rc\./.test(version)) flags.push('--allow-release-candidate-upgrades');
  else if (/-(alpha|beta)/.test(version)) flags.push('--allow-experimental-upgrades');
  return flags;
}

export function upgradeTarget(
  target: { version: string; packageVersions: UpgradeTarget['packageVersions']; forced: boolean },
  options: UpgradeOptions,
): UpgradeTarget {
  return {
    version: target.version,
    packageVersions: target.packageVersions,
    kubeadmFlags: kubeadmFlags(target.version, target.forced),
    certificateRenewal: options.certificateRenewal,
    etcdUpgrade: options.etcdUpgrade,
    gracefulApiserverStopMs: options.gracefulApiserverStopMs,
  };
}

/** The run's target, from its own plan. */
export function planTarget(plan: Plan, options: UpgradeOptions): UpgradeTarget {
  return upgradeTarget(
    { version: plan.target.version!, packageVersions: plan.target.packageVersions, forced: plan.skew.some((v) => v.forced) },
    options,
  );
}

/** What the stages need to know of a node, from the probe's report and the Node object. */
export function nodeFacts(report: NodeReport | undefined, node: NodeObservation | undefined): NodeFacts {
  return {
    repoFiles: report?.repoFiles ?? [],
    ...(report?.repoMetadataStale ? { repoMetadataStale: true } : {}),
    // cordoned, and not by an unfinished run of this Action: the operator's fence
    cordonedBefore: node?.unschedulable === true && node.cordonedByUpgrade !== true,
  };
}

export function stageInput(
  job: NodeJob,
  target: UpgradeTarget,
  facts: NodeFacts,
  settings: Pick<Settings, 'upgrade' | 'backup'>,
): StageInput {
  return {
    job,
    target,
    node: facts,
    drain: settings.upgrade.drain,
    readyTimeoutMs: settings.upgrade.nodeReadyTimeoutMs,
    packageLockTimeoutMs: settings.upgrade.packageLockTimeoutMs,
    kubeadmBackups: kubeadmBackupsMode(settings),
  };
}

export function kubeadmBackupsMode(settings: Pick<Settings, 'backup'>): StageInput['kubeadmBackups'] {
  return settings.backup.collectKubeadmBackups ? 'collect' : 'list';
}

/** The node's stages, each with its steps: the one description the plan shows, dry-run prints and the run executes. */
export function nodeProcedure(input: StageInput): { stage: Stage; steps: StageStep[] }[] {
  return NODE_STAGES.filter((stage) => stage.shouldRun?.(input) ?? true).map((stage) => ({ stage, steps: stage.steps(input) }));
}

const isRuntime = (arg: string | RuntimeArg): arg is RuntimeArg => typeof arg !== 'string';

/** A command step's line as it runs; values read at run time show as <…>. */
export function commandLine(argv: readonly (string | RuntimeArg)[]): string {
  return argv.map((arg) => (isRuntime(arg) ? arg.shown : quoteArg(arg))).join(' ');
}

export function plannedAction(step: StageStep): PlannedAction {
  if (step.kind === 'cluster') return { on: 'cluster', text: step.text };
  return { on: 'node', text: commandLine(step.argv), ...(step.argv.some(isRuntime) ? { resolvedAtRunTime: true as const } : {}) };
}

export function describeProcedure(procedure: { stage: Stage; steps: StageStep[] }[]): Step[] {
  return procedure.map(({ stage, steps }) => ({ id: stage.name, title: stage.title, actions: steps.map(plannedAction) }));
}

/** The describer buildPlan uses: each node's steps from the stages, with the facts this plan read. */
export function procedureDescriber(
  state: Pick<ClusterState, 'nodeReports' | 'nodes'>,
  settings: Pick<Settings, 'upgrade' | 'backup'>,
): ProcedureDescriber {
  const reports = new Map(state.nodeReports.map((r) => [r.name, r]));
  const nodes = new Map(state.nodes.map((n) => [n.name, n]));
  return (node, target) => {
    const report = reports.get(node.name);
    if (!report?.packageManager) return undefined;
    const job: NodeJob = {
      name: node.name,
      role: node.role,
      packageManager: report.packageManager,
      kubeadmAction: node.kubeadmAction,
      ...(node.batch !== undefined ? { batch: node.batch } : {}),
    };
    const input = stageInput(job, upgradeTarget(target, settings.upgrade), nodeFacts(report, nodes.get(node.name)), settings);
    return describeProcedure(nodeProcedure(input));
  };
}
