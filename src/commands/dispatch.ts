// Wiring: the command the `command` input names, with real adapters as its deps. main.ts calls runCommand
// for every command but plan; runPostStep from the post step.
import * as core from '@actions/core';
import { log } from '../adapters/github/log.ts';
import { context } from '@actions/github';
import { hostname, tmpdir } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { requireAccess } from '../adapters/cluster/access-review.ts';
import { acquireClusterLock, releaseClusterLock, releaseClusterLockWithin, startLockRenewal } from '../adapters/cluster/lease.ts';
import { makeClusterApis, nodesCordonedByUs } from '../adapters/cluster/progress.ts';
import { verifyCluster } from '../adapters/cluster/verify-api.ts';
import {
  commentMarker,
  decideComment,
  describeCommentFailure,
  upsertComment,
  type PullRequestEvent,
} from '../adapters/github/pr-comment.ts';
import { setOutputs, writeSummary } from '../adapters/github/report.ts';
import { shellOpener } from '../adapters/transport/open.ts';
import type { Settings } from '../core/settings.ts';
import { clusterOps } from '../upgrade/cluster-ops.ts';
import { controlPlaneCommand } from './control-plane.ts';
import type { CommandDeps, CommandResult, LockApi, Reporter } from './deps.ts';
import { nodeCommand } from './node.ts';
import type { UpgradeOptions } from '../core/upgrade-options.ts';
import { checkInputs, preparePlan } from './prepare.ts';
import { lockLeftMessage, LOCK_STATE, RUN_ENDED_STATE, type LockState } from './lock-state.ts';
import { upgradeCommand } from './upgrade.ts';
import { verifyCommand } from './verify.ts';
import { actionsArtifactUploader } from '../backup/artifact.ts';
import { runBackupStep, runRollbackStep, type RecoveryIo, type RecoveryResult } from './recovery.ts';
import { workersCommand } from './workers.ts';

export const COMMANDS = {
  upgrade: upgradeCommand,
  'control-plane': controlPlaneCommand,
  workers: workersCommand,
  node: nodeCommand,
  verify: verifyCommand,
} as const;
export type ChangingCommand = keyof typeof COMMANDS;

export function isRunCommand(command: string): command is ChangingCommand {
  return command in COMMANDS;
}

/** Runs the command with the given deps; the exit code says whether the step fails. */
export function runCommand(settings: Settings, deps: CommandDeps): Promise<CommandResult> {
  if (!isRunCommand(settings.command)) throw new Error(`command ${settings.command} is not run by dispatch`);
  return COMMANDS[settings.command](deps);
}

function pullRequestEvent(): PullRequestEvent {
  return {
    eventName: context.eventName ?? '',
    repository: process.env.GITHUB_REPOSITORY ?? '',
    workflow: context.workflow ?? '',
    payload: context.payload as PullRequestEvent['payload'],
  };
}

function actionsReporter(settings: Settings, cluster: string): Reporter {
  return {
    info: (line) => log.info(line),
    warning: (line) => log.warning(line),
    group: (title, lines) => log.group(title, lines),
    setOutputs,
    writeSummary,
    saveState: (name, value) => core.saveState(name, value),
    async prComment(_record, markdown) {
      const event = pullRequestEvent();
      const decision = decideComment(settings.prComment, event, settings.githubToken);
      if (!decision.post) return decision.notice;
      const marker = commentMarker(event.workflow, cluster).replace(':plan:', `:${settings.command}:`);
      try {
        await upsertComment(
          { token: settings.githubToken!, apiUrl: process.env.GITHUB_API_URL || context.apiUrl },
          decision,
          marker,
          `${marker}\n${markdown}`,
        );
        return undefined;
      } catch (error) {
        const failure = describeCommentFailure(error);
        if (failure.level === 'notice') log.notice(failure.message);
        else log.warning(failure.message);
        return failure.message;
      }
    },
  };
}

/** SIGTERM/SIGINT (a cancelled workflow): stop scheduling new nodes; the running ones finish or fail. */
function cancellation(): () => string | undefined {
  let reason: string | undefined;
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    process.on(signal, () => {
      reason ??= `the run was cancelled (${signal})`;
      log.warning(`${signal} received: no new node will be started; the nodes being upgraded finish their current stages`);
    });
  }
  return () => reason;
}

function identity(): CommandDeps['identity'] {
  return {
    repository: process.env.GITHUB_REPOSITORY || 'local/run',
    runId: process.env.GITHUB_RUN_ID || String(process.pid),
    attempt: Number(process.env.GITHUB_RUN_ATTEMPT || '1'),
    job: process.env.GITHUB_JOB || 'upgrade',
  };
}

/** The real deps: the Kubernetes API, SSH or local shells, @actions/core. Checks every input first. */
export function realDeps(settings: Settings, options?: UpgradeOptions): CommandDeps {
  const given = options ?? settings.upgrade;
  const opts: UpgradeOptions = { ...given, nodeName: given.nodeName ?? hostname() };
  const checked = checkInputs(settings);
  const apis = makeClusterApis(checked.kubeconfig, { onWait: (line) => log.info(line) });
  const opener = shellOpener(settings);
  const inventoryNodes = new Map(checked.inventory?.nodes.map((n) => [n.name, n]));
  const lock: LockApi = {
    acquire: (name, holder, ttlMs) => acquireClusterLock(apis, { name, holder, ttlMs }),
    startRenewal: (name, holder, intervalMs, onLost, onRenewed) =>
      startLockRenewal(apis, {
        name,
        holder,
        intervalMs,
        onLost,
        ...(onRenewed ? { onRenewed } : {}),
        onError: (e) => log.warning(`renewing the cluster lock failed: ${e.message}`),
      }),
    release: (name, holder) => releaseClusterLock(apis, name, holder),
  };
  let preparedInventory = checked.inventory;
  return {
    settings,
    options: opts,
    async preparePlan(only) {
      const prepared = await preparePlan(settings, checked, opener, (line) => log.info(line), only ? { only } : {});
      preparedInventory = prepared.inventory;
      return prepared;
    },
    checkAccess: (command, needed) => requireAccess(checked.kubeconfig, command, needed),
    cluster: clusterOps(apis),
    lock,
    verify: (expectation) => verifyCluster(apis, expectation),
    async openShell(name) {
      const node = inventoryNodes.get(name) ?? preparedInventory?.nodes.find((n) => n.name === name);
      if (!node) throw new Error(`node ${name} is not in the inventory`);
      return opener(node);
    },
    reporter: actionsReporter(settings, checked.inventory?.cluster ?? 'kubernetes'),
    clock: { now: () => Date.now(), sleep: (ms) => sleep(ms).then(() => undefined) },
    identity: identity(),
    cancelled: cancellation(),
    artifacts: { uploader: actionsArtifactUploader(), runnerTemp: runnerTemp() },
  };
}

/** RUNNER_TEMP (the runner empties it after the job), or the system's temporary folder outside a runner. */
export function runnerTemp(): string {
  return process.env.RUNNER_TEMP || tmpdir();
}

/** command: backup and command: rollback, with the runner's summary, outputs and artifact client. */
export function runRecoveryCommand(settings: Settings): Promise<RecoveryResult> {
  const io: RecoveryIo = {
    info: (line) => log.info(line),
    warning: (line) => log.warning(line),
    setOutputs,
    writeSummary,
    identity: identity(),
    runnerTemp: runnerTemp(),
  };
  if (settings.command === 'backup') return runBackupStep(settings, io);
  if (settings.command === 'rollback') return runRollbackStep(settings, io);
  throw new Error(`command ${settings.command} is not a backup or rollback command`);
}

/**
 * The post step: releases this job's share of the cluster lock (also after a failure or cancellation), trying
 * again within api-retry-budget. When it cannot, the job summary and a warning say when the Lease expires.
 */
export async function runPostStep(settings: Settings): Promise<void> {
  const saved = core.getState(LOCK_STATE);
  if (!saved) return;
  const state = JSON.parse(saved) as LockState;
  const { name, holder } = state;
  const apis = makeClusterApis(checkInputs(settings).kubeconfig, { onWait: (line) => log.info(line) });
  // a main step that was killed or cancelled reported nothing: say which nodes its drains left cordoned
  if (core.getState(RUN_ENDED_STATE) !== 'true') await reportLeftCordoned(apis);
  let outcome: Awaited<ReturnType<typeof releaseClusterLock>>;
  try {
    outcome = await releaseClusterLockWithin(apis, name, holder, {
      boundMs: settings.upgrade.apiRetryBudgetMs,
      onRetry: (line) => log.info(line),
    });
  } catch (error) {
    const message = lockLeftMessage(name, state, (error as Error).message);
    log.warning(message);
    await writeSummary(`> [!WARNING]\n> ${message}\n`);
    return;
  }
  log.info(
    outcome.released
      ? `cluster lock ${name} released${outcome.deleted ? '' : ` (still held by ${outcome.remainingJobs.join(', ')})`}`
      : `cluster lock ${name}: ${outcome.reason}`,
  );
}

async function reportLeftCordoned(apis: ReturnType<typeof makeClusterApis>): Promise<void> {
  try {
    const cordoned = await nodesCordonedByUs(apis);
    const message =
      cordoned.length > 0
        ? `The main step did not finish (killed or cancelled). Cordoned now: ${cordoned.join(', ')} (cordoned by this Action's drain). A plain re-run resumes each at the stage it reached and uncordons it once its kubelet is Ready.`
        : 'The main step did not finish (killed or cancelled). No node is left cordoned by this Action.';
    if (cordoned.length > 0) log.warning(message);
    else log.info(message);
    await writeSummary(`> [!WARNING]\n> ${message}\n`);
  } catch (error) {
    log.warning(`post step: cannot list the nodes this Action left cordoned: ${(error as Error).message}`);
  }
}
