// The skeleton every changing command shares: plan (the plan command's code and verdicts), lock, read the
// progress, schedule, run, verify, report. Commands differ only in which part of the schedule they run.
import pLimit from 'p-limit';
import { holderIdentity, lockName, type LockHolder } from '../adapters/cluster/lease.ts';
import type { NodeProgress } from '../adapters/cluster/progress.ts';
import { foldRun, type RunCommand, type RunEvent, type RunOutcome } from '../core/run-record.ts';
import { runOutputs, runSummaryMarkdown } from '../report/run-report.ts';
import { runSchedule, type RunPhases, type RunnerDeps } from '../upgrade/runner.ts';
import { buildSchedule, scheduledNodes, type Schedule, type ScheduleOptions } from '../upgrade/schedule.ts';
import { STAGES } from '../upgrade/stages.ts';
import type { RunFacts, UpgradeTarget } from '../upgrade/types.ts';
import type { CommandDeps, CommandResult, PreparedPlan } from './deps.ts';
import { runVerify } from './verify.ts';
import { applyPending, backupDryRun, kubeadmBackupsHook, runBackupStage, upgradeStartedBecause, type UpgradeBackup } from './upgrade-backup.ts';

export interface UpgradeScope {
  command: Exclude<RunCommand, 'verify'>;
  /** the `node` command's node: the plan reads only it */
  only?: string;
  /** shown in the lock's job list: matrix legs of one run share the lock */
  jobSuffix?: string;
  scheduleOptions?(prepared: PreparedPlan): ScheduleOptions;
  /** the part of the schedule this command runs, or why it refuses */
  select(schedule: Schedule, prepared: PreparedPlan): { schedule: Schedule; phases: RunPhases } | { refuse: string };
  verifyAfter: boolean;
}

type EventBody = RunEvent extends infer E ? (E extends RunEvent ? Omit<E, 'at'> : never) : never;

export const LOCK_STATE = 'lock';

function upgradeTarget(prepared: PreparedPlan, deps: CommandDeps): UpgradeTarget {
  const { plan } = prepared;
  const version = plan.target.version!;
  const flags: string[] = [];
  if (plan.skew.some((v) => v.forced)) flags.push('--force');
  if (/-rc\./.test(version)) flags.push('--allow-release-candidate-upgrades');
  else if (/-(alpha|beta)/.test(version)) flags.push('--allow-experimental-upgrades');
  return {
    version, packageVersions: plan.target.packageVersions, kubeadmFlags: flags,
    certificateRenewal: deps.options.certificateRenewal, etcdUpgrade: deps.options.etcdUpgrade, gracefulApiserverStopMs: deps.options.gracefulApiserverStopMs,
  };
}

async function readAllProgress(deps: CommandDeps, names: string[]): Promise<Map<string, NodeProgress | undefined>> {
  const limit = pLimit(10);
  const entries = await Promise.all(names.map((name) => limit(async () => [name, await deps.cluster.readProgress(name)] as const)));
  return new Map(entries);
}

function ageText(ms: number): string {
  const minutes = Math.round(ms / 60_000);
  return minutes >= 1 ? `${minutes} min` : `${Math.round(ms / 1000)} s`;
}

export async function runUpgradeScope(scope: UpgradeScope, deps: CommandDeps): Promise<CommandResult> {
  const events: RunEvent[] = [];
  const emit = (event: EventBody) => events.push({ ...event, at: deps.clock.now() } as RunEvent);
  const { reporter } = deps;
  emit({ type: 'run-started', command: scope.command, target: deps.settings.target.raw });
  let release: () => Promise<void> = async () => {};
  let backup: UpgradeBackup = { outputs: {} };

  const finish = async (outcome: RunOutcome, reason?: string): Promise<CommandResult> => {
    await release();
    emit({ type: 'run-finished', outcome, ...(reason ? { reason } : {}) });
    const record = foldRun(events);
    const markdown = runSummaryMarkdown(record) + (backup.summary ? `\n${backup.summary}` : '');
    reporter.setOutputs({ ...runOutputs(record), ...backup.outputs });
    const notice = await reporter.prComment(record, markdown);
    await reporter.writeSummary(markdown + (notice ? `\n> [!NOTE]\n> ${notice}\n` : ''));
    return { record, exitCode: outcome === 'succeeded' || outcome === 'nothing-to-do' ? 0 : 1 };
  };

  reporter.info('Reading the cluster and the nodes (the plan command\'s checks)');
  const prepared = await deps.preparePlan(scope.only);
  const { plan } = prepared;
  if (plan.target.version) emit({ type: 'run-started', command: scope.command, target: plan.target.version });
  if (plan.verdict === 'blocked' || !plan.target.version) {
    for (const blocker of plan.blockers) emit({ type: 'note', level: 'warning', text: `blocker: ${blocker.message}` });
    return finish('refused', `The plan is blocked, so nothing was changed: ${plan.verdictReason}`);
  }

  const holder: LockHolder = { repository: deps.identity.repository, runId: deps.identity.runId, attempt: deps.identity.attempt, job: `${deps.identity.job}${scope.jobSuffix ?? ''}` };
  const name = lockName(prepared.inventory.cluster);
  let lostTo: string | undefined;
  if (!deps.options.dryRun) {
    const outcome = await deps.lock.acquire(name, holder, deps.options.lockTtlMs);
    if (!outcome.acquired) {
      return finish('refused', `Another run holds the cluster lock (Lease kube-system/${name}): ${outcome.holder}, last renewed ${ageText(outcome.ageMs)} ago. Nothing was changed. Wait for it to finish; a lock not renewed for lock-ttl (${ageText(deps.options.lockTtlMs)}) may be taken over.`);
    }
    reporter.saveState(LOCK_STATE, JSON.stringify({ name, holder }));
    emit({ type: 'run-started', command: scope.command, target: plan.target.version, holder: holderIdentity(holder) });
    if (outcome.takenOverFrom) {
      emit({ type: 'note', level: 'warning', text: `took over the cluster lock from ${outcome.takenOverFrom.holder}, not renewed for ${ageText(outcome.takenOverFrom.ageMs)} (more than lock-ttl)` });
    }
    const renewal = deps.lock.startRenewal(name, holder, Math.max(1000, Math.floor(deps.options.lockTtlMs / 3)), (other) => (lostTo = other));
    release = async () => {
      release = async () => {};
      await renewal.stop();
      const released = await deps.lock.release(name, holder).catch((error: Error) => ({ released: false as const, reason: error.message }));
      if (!released.released) reporter.warning(`the cluster lock was not released: ${released.reason} (the post step tries again)`);
    };
  }

  try {
    const progress = await readAllProgress(deps, plan.nodes.map((n) => n.name));
    const full = buildSchedule(plan, progress, { kubeadmConfigVersion: prepared.state.kubeadmConfig?.kubernetesVersion, ...scope.scheduleOptions?.(prepared) });
    if (full.problems.length > 0) {
      for (const problem of full.problems) emit({ type: 'note', level: 'warning', text: problem });
      return await finish('refused', `Nothing was changed: ${full.problems.length} node(s) cannot be upgraded by this action (see the notes).`);
    }
    const selected = scope.select(full, prepared);
    if ('refuse' in selected) return await finish('refused', selected.refuse);
    const { schedule, phases } = selected;
    for (const skipped of schedule.skipped) emit({ type: 'node-skipped', node: skipped.name, role: skipped.role, ...(skipped.batch !== undefined ? { batch: skipped.batch } : {}), reason: skipped.reason });
    const nodes = scheduledNodes(schedule);
    for (const node of nodes) {
      emit({ type: 'node-scheduled', node: node.job.name, role: node.job.role, ...(node.job.batch !== undefined ? { batch: node.job.batch } : {}), stages: node.stages, doneBefore: node.doneBefore });
    }
    const target = upgradeTarget(prepared, deps);
    const backupStage = { deps, prepared, emit, startedBecause: upgradeStartedBecause(target.version, prepared.state.kubeadmConfig?.kubernetesVersion, progress) };
    const backupNeeded = applyPending(schedule, phases.controlPlanes);
    if (deps.options.dryRun) {
      if (backupNeeded) reporter.group('backup (dry run)', [backupDryRun(backupStage)]);
      for (const node of nodes) {
        reporter.group(`${node.job.name} (dry run)`, node.stages.filter((s) => !node.doneBefore.includes(s)).flatMap((s) => [`# ${s}`, ...STAGES[s].dryRun({ job: node.job, target })]));
      }
      return await finish('succeeded', 'Dry run: the commands are in the log; nothing was changed.');
    }
    if (backupNeeded) {
      try {
        backup = await runBackupStage(backupStage);
      } catch (error) {
        const message = (error as Error).message;
        emit({ type: 'note', level: 'warning', text: `backup failed: ${message}` });
        return await finish('failed', `The backup failed, so the upgrade stopped before kubeadm upgrade apply and no node was changed: ${message}. Fix the cause and run again, or set backup: false to upgrade without a backup.`);
      }
    }
    const runner: RunnerDeps = {
      cluster: deps.cluster, openShell: deps.openShell, clock: deps.clock, log: reporter, emit, target,
      drain: deps.options.drain, readyTimeoutMs: deps.options.nodeReadyTimeoutMs, runIdentity: holderIdentity(holder),
      stopRequested: () => deps.cancelled() ?? (lostTo !== undefined ? `the cluster lock was taken over by ${lostTo}` : undefined),
      afterKubeadmUpgrade: kubeadmBackupsHook(deps, prepared, emit, () => backup),
    };
    const facts: RunFacts = {};
    const result = await runSchedule(schedule, runner, phases, facts);
    if (!result.ok) {
      const cancelled = deps.cancelled();
      return await finish(cancelled ? 'cancelled' : 'failed', `${cancelled ?? result.stoppedBecause}: no new node was started after that.`);
    }
    if (nodes.length === 0 && !scope.verifyAfter) return await finish('nothing-to-do', `Every node of this ${scope.command} run is already at ${target.version}.`);
    if (scope.verifyAfter) {
      const verified = await runVerify(deps, target.version, emit, deps.options.nodeReadyTimeoutMs, facts.coreDNSTarget);
      if (!verified) return await finish('failed', 'Every node was upgraded, but the verification found problems (see Checks).');
    }
    return await finish(nodes.length === 0 ? 'nothing-to-do' : 'succeeded');
  } catch (error) {
    emit({ type: 'note', level: 'warning', text: `the run stopped on an error: ${(error as Error).message}` });
    return finish('failed', (error as Error).message);
  }
}
