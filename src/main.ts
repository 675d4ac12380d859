// The Action's entry: main step (the command) or post step (cleanup). Inputs are read once into Settings;
// every bad input fails before any connection is made. Only adapters touch the outside world.
import * as core from '@actions/core';
import { log } from './adapters/github/log.ts';
import { context } from '@actions/github';
import { InputError } from './core/errors.ts';
import type { NodeReport } from './core/cluster-state.ts';
import type { Plan } from './core/plan-types.ts';
import { parseSettings, type Settings } from './core/settings.ts';
import { planCommentMarkdown, planOutputs, planSummaryMarkdown } from './report/plan-report.ts';
import { shellOpener } from './adapters/transport/open.ts';
import { setOutputs, writeSummary } from './adapters/github/report.ts';
import { isRunCommand, realDeps, runCommand, runnerTemp, runPostStep, runRecoveryCommand } from './commands/dispatch.ts';
import { removeIncompleteArchives, removeRollbackCopies } from './backup/backup.ts';
import { checkInputs, preparePlan } from './commands/prepare.ts';
import { PLAN_ACCESS } from './commands/phases/plan.ts';
import { requireAccess } from './adapters/cluster/access-review.ts';
import { LOCK_STATE, RUN_ENDED_STATE } from './commands/lock-state.ts';
import {
  commentMarker,
  decideComment,
  describeCommentFailure,
  upsertComment,
  type PullRequestEvent,
} from './adapters/github/pr-comment.ts';

const POST_STATE = 'isPost';
/** Inputs whose values are secrets: masked in every later log line. */
const SECRET_INPUTS = ['kubeconfig', 'ssh-private-key', 'github-token'];

/** Runs the main or the post step. Every failure ends as a failed step with a clear message. */
export async function run(): Promise<void> {
  if (core.getState(POST_STATE) === 'true') return post();
  core.saveState(POST_STATE, 'true');
  try {
    maskSecrets();
    const settings = parseSettings((name) => core.getInput(name), { workspace: process.env.GITHUB_WORKSPACE });
    for (const warning of settings.warnings) log.warning(warning);
    if (isRunCommand(settings.command)) {
      const result = await runCommand(settings, realDeps(settings));
      core.saveState(RUN_ENDED_STATE, 'true');
      if (result.exitCode !== 0)
        log.setFailed(
          `${settings.command}: ${result.record.outcome}${result.record.reason ? `: ${result.record.reason}` : ''} (see the job summary)`,
        );
      return;
    }
    if (settings.command === 'backup' || settings.command === 'rollback') {
      const result = await runRecoveryCommand(settings);
      if (result.exitCode !== 0) log.setFailed(`${settings.command}: ${result.message ?? 'failed'} (see the job summary)`);
      return;
    }
    await planCommand(settings);
  } catch (error) {
    fail(error);
  }
}

/**
 * The post step: releases this job's share of the cluster lock, also after a failure or cancellation. No key
 * file to remove: the SSH key is handed to ssh2 in memory and never written to disk.
 */
async function post(): Promise<void> {
  try {
    // a backup or rollback killed mid-way leaves an incomplete archive or a snapshot copy: no later step of the job may find it
    const removed = await removeIncompleteArchives(runnerTemp());
    if (removed.length > 0) log.info(`removed ${removed.length} incomplete backup archive(s) a killed run left: ${removed.join(', ')}`);
    const copies = await removeRollbackCopies(runnerTemp());
    if (copies.length > 0) log.info(`removed the etcd snapshot copy a killed rollback left: ${copies.join(', ')}`);
  } catch (error) {
    log.warning(
      `post step: cannot remove what a killed backup or rollback left on the runner: ${error instanceof Error ? error.message : String(error)}`,
    );
  }
  try {
    // nothing to release (plan, backup, rollback, or a run that never took the lock): do not re-check inputs
    if (!core.getState(LOCK_STATE)) return;
    const settings = parseSettings((name) => core.getInput(name), { workspace: process.env.GITHUB_WORKSPACE });
    await runPostStep(settings);
  } catch (error) {
    log.warning(`post step: ${error instanceof Error ? error.message : String(error)}`);
  }
}

function maskSecrets(): void {
  for (const name of SECRET_INPUTS) {
    const value = core.getInput(name);
    if (value.trim() !== '') core.setSecret(value);
  }
}

function fail(error: unknown): void {
  if (error instanceof InputError) {
    log.setFailed(`Invalid input (no node was contacted):\n${error.message}`);
    return;
  }
  log.setFailed(error instanceof Error ? error.message : String(error));
}

function pullRequestEvent(): PullRequestEvent {
  return {
    eventName: context.eventName ?? '',
    repository: process.env.GITHUB_REPOSITORY ?? '',
    workflow: context.workflow ?? '',
    payload: context.payload as PullRequestEvent['payload'],
  };
}

async function planCommand(settings: Settings): Promise<void> {
  const checked = checkInputs(settings);
  log.info("Checking the kubeconfig's permissions (SelfSubjectAccessReview)");
  await requireAccess(checked.kubeconfig, 'plan', PLAN_ACCESS);
  log.info('Reading the cluster through the Kubernetes API');
  // the same reads, probes and buildPlan as every changing command (src/commands/prepare.ts)
  const { plan, state, inventory } = await preparePlan(settings, checked, shellOpener(settings), (line) => log.info(line), {
    tolerateUnreachableApi: true,
  });
  if (!state.apiReachable) log.error(state.apiError ?? 'the Kubernetes API cannot be reached');
  reportUnreachable(state.nodeReports);
  setOutputs(planOutputs(plan));
  const notice = await postPlanComment(settings, plan, inventory.cluster ?? state.kubeadmConfig?.clusterName ?? 'kubernetes');
  await writeSummary(planSummaryMarkdown(plan) + (notice ? `\n\n> [!NOTE]\n> ${notice}\n` : ''));
  if (plan.verdict === 'blocked') {
    const reasons = plan.blockers.map((b) => `- ${b.message}`).join('\n');
    log.setFailed(`The upgrade is blocked (${plan.blockers.length} blocker(s)); see the job summary.\n${reasons}`);
  } else {
    log.info(`Plan: ${plan.verdict}. ${plan.verdictReason}`);
  }
}

/** One warning annotation for all unreachable nodes (GitHub shows only 10 per step); preparePlan logs each. */
function reportUnreachable(reports: NodeReport[]): void {
  const failed = reports.filter((r) => !r.reachable);
  if (failed.length === 0) return;
  const shown = failed.slice(0, 5).map((r) => `${r.name}: ${r.error ?? 'unreachable'}`);
  log.warning(
    `${failed.length} node(s) could not be read:\n${shown.join('\n')}${failed.length > shown.length ? `\n… and ${failed.length - shown.length} more (see the log)` : ''}`,
  );
}

/** Posts or updates the sticky PR comment; returns a notice for the summary when it was skipped or failed. */
async function postPlanComment(settings: Settings, plan: Plan, cluster: string): Promise<string | undefined> {
  const event = pullRequestEvent();
  const decision = decideComment(settings.prComment, event, settings.githubToken);
  if (!decision.post) {
    if (decision.notice) log.notice(decision.notice);
    return decision.notice;
  }
  const marker = commentMarker(event.workflow, cluster);
  try {
    const result = await upsertComment(
      { token: settings.githubToken!, apiUrl: process.env.GITHUB_API_URL || context.apiUrl },
      decision,
      marker,
      planCommentMarkdown(plan, marker),
    );
    log.info(`PR comment ${result.action}: ${result.url ?? result.id}`);
    return undefined;
  } catch (error) {
    const failure = describeCommentFailure(error);
    if (failure.level === 'notice') log.notice(failure.message);
    else log.warning(failure.message);
    return failure.message;
  }
}
