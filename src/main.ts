// The Action's entry: main step (the command) or post step (cleanup). Inputs are read once into Settings;
// every bad input fails before any connection is made. Only adapters touch the outside world.
import * as core from '@actions/core';
import { context } from '@actions/github';
import { InputError, type InputProblem } from './core/errors.ts';
import { checkInventoryAgainstCluster, inventoryFromCluster, parseInventory, type Inventory } from './core/inventory.ts';
import { buildPlan } from './core/plan.ts';
import type { NodeReport } from './core/cluster-state.ts';
import type { Plan } from './core/plan-types.ts';
import { parseSettings, type Settings } from './core/settings.ts';
import { planCommentMarkdown, planOutputs, planSummaryMarkdown } from './report/plan-report.ts';
import { kubeConfigFromText, readCluster } from './adapters/cluster/read-cluster.ts';
import { probeNodes } from './adapters/node/probe.ts';
import { shellOpener } from './adapters/transport/open.ts';
import { privateKeyProblem } from './adapters/transport/ssh.ts';
import { setOutputs, writeSummary } from './adapters/github/report.ts';
import { isRunCommand, realDeps, runCommand, runPostStep, runRecoveryCommand } from './commands/dispatch.ts';
import { LOCK_STATE } from './commands/run-upgrade.ts';
import { commentMarker, decideComment, describeCommentFailure, upsertComment, type PullRequestEvent } from './adapters/github/pr-comment.ts';

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
    for (const warning of settings.warnings) core.warning(warning);
    if (isRunCommand(settings.command)) {
      const result = await runCommand(settings, realDeps(settings));
      if (result.exitCode !== 0) core.setFailed(`${settings.command}: ${result.record.outcome}${result.record.reason ? `: ${result.record.reason}` : ''} (see the job summary)`);
      return;
    }
    if (settings.command === 'backup' || settings.command === 'rollback') {
      const result = await runRecoveryCommand(settings);
      if (result.exitCode !== 0) core.setFailed(`${settings.command}: ${result.message ?? 'failed'} (see the job summary)`);
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
    // nothing to release (plan, backup, rollback, or a run that never took the lock): do not re-check inputs
    if (!core.getState(LOCK_STATE)) return;
    const settings = parseSettings((name) => core.getInput(name), { workspace: process.env.GITHUB_WORKSPACE });
    await runPostStep(settings);
  } catch (error) {
    core.warning(`post step: ${error instanceof Error ? error.message : String(error)}`);
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
    core.setFailed(`Invalid input (no node was contacted):\n${error.message}`);
    return;
  }
  core.setFailed(error instanceof Error ? error.message : String(error));
}

function inputError(problem: InputProblem): InputError {
  return new InputError([problem]);
}

/** Everything that can be checked without a connection: kubeconfig readable, inventory valid. */
function prepare(settings: Settings): { kubeconfig: ReturnType<typeof kubeConfigFromText>; inventory?: Inventory } {
  if (!settings.kubeconfig) {
    throw inputError({ input: 'kubeconfig', problem: 'is empty, and command plan reads the cluster through the Kubernetes API', fix: 'pass an admin kubeconfig from a secret: kubeconfig: ${{ secrets.KUBECONFIG }}' });
  }
  let kubeconfig;
  try {
    kubeconfig = kubeConfigFromText(settings.kubeconfig);
  } catch (error) {
    throw inputError({ input: 'kubeconfig', problem: (error as Error).message, fix: 'pass the whole kubeconfig file (as kubectl uses it), with its certificates inline' });
  }
  const keyProblem = settings.ssh.privateKey ? privateKeyProblem(settings.ssh.privateKey) : undefined;
  if (keyProblem) {
    throw inputError({ input: 'ssh-private-key', problem: keyProblem, fix: 'pass an unencrypted OpenSSH or PEM private key file whose public key is in the nodes\' authorized_keys' });
  }
  const inventory = settings.inventory ? parseInventory(settings.inventory.text, settings.inventory.source, settings) : undefined;
  return inventory ? { kubeconfig, inventory } : { kubeconfig };
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
  const prepared = prepare(settings);
  core.info('Reading the cluster through the Kubernetes API');
  const api = await readCluster(prepared.kubeconfig);
  if (!api.apiReachable) core.error(api.apiError ?? 'the Kubernetes API cannot be reached');
  const inventory = prepared.inventory ?? inventoryFromCluster(api.nodes, settings);
  if (api.apiReachable) {
    const problems = checkInventoryAgainstCluster(inventory, api.nodes);
    if (problems.length > 0) throw new InputError(problems);
  }
  core.info(`Probing ${inventory.nodes.length} node(s), ${settings.parallelism} at a time (read-only commands)`);
  // settings already warned once when host-key checking is off; no warning per node
  const nodeReports = await probeNodes(inventory.nodes, shellOpener(settings), {
    parallelism: settings.parallelism,
    targetMinor: `${settings.target.major}.${settings.target.minor}`,
  });
  reportUnreachable(nodeReports);
  const plan: Plan = buildPlan({ ...api, nodeReports }, settings, inventory);
  setOutputs(planOutputs(plan));
  const notice = await postPlanComment(settings, plan, inventory.cluster ?? api.kubeadmConfig?.clusterName ?? 'kubernetes');
  await writeSummary(planSummaryMarkdown(plan) + (notice ? `\n\n> [!NOTE]\n> ${notice}\n` : ''));
  if (plan.verdict === 'blocked') {
    const reasons = plan.blockers.map((b) => `- ${b.message}`).join('\n');
    core.setFailed(`The upgrade is blocked (${plan.blockers.length} blocker(s)); see the job summary.\n${reasons}`);
  } else {
    core.info(`Plan: ${plan.verdict}. ${plan.verdictReason}`);
  }
}

/** One warning annotation for all unreachable nodes (GitHub shows only 10 per step), each in the log. */
function reportUnreachable(reports: NodeReport[]): void {
  const failed = reports.filter((r) => !r.reachable);
  for (const report of failed) core.info(`${report.name} could not be read: ${report.error ?? 'unreachable'}`);
  if (failed.length === 0) return;
  const shown = failed.slice(0, 5).map((r) => `${r.name}: ${r.error ?? 'unreachable'}`);
  core.warning(`${failed.length} node(s) could not be read:\n${shown.join('\n')}${failed.length > shown.length ? `\n… and ${failed.length - shown.length} more (see the log)` : ''}`);
}

/** Posts or updates the sticky PR comment; returns a notice for the summary when it was skipped or failed. */
async function postPlanComment(settings: Settings, plan: Plan, cluster: string): Promise<string | undefined> {
  const event = pullRequestEvent();
  const decision = decideComment(settings.prComment, event, settings.githubToken);
  if (!decision.post) {
    if (decision.notice) core.notice(decision.notice);
    return decision.notice;
  }
  const marker = commentMarker(event.workflow, cluster);
  try {
    const result = await upsertComment({ token: settings.githubToken!, apiUrl: process.env.GITHUB_API_URL || context.apiUrl }, decision, marker, planCommentMarkdown(plan, marker));
    core.info(`PR comment ${result.action}: ${result.url ?? result.id}`);
    return undefined;
  } catch (error) {
    const failure = describeCommentFailure(error);
    if (failure.level === 'notice') core.notice(failure.message);
    else core.warning(failure.message);
    return failure.message;
  }
}
