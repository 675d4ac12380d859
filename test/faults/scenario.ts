// Runs one scenario of the fault matrix on its own simulated cluster (2 control planes + 1 worker): the bundle as the
// runner runs it, the fault armed when the log announces its stage, the post step (the runner runs it after a
// failure, and after the step's process was killed), then a plain re-run (same run id, next attempt) and its post
// step. Then the checks the issue names, each pass / fail with a reason / n/a.
import { spawn } from 'node:child_process';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { generateIdentity, identityToRecipient } from 'age-encryption';
import { startCluster, type SimCluster } from '../../sim/index.ts';
import { PROGRESS_PREFIX } from '../../src/adapters/cluster/progress.ts';
import { DEFAULT_LOCK_NAME } from '../../src/adapters/cluster/lease.ts';
import { inputEnvironment, parseCommandFile } from '../support/action-runner.ts';
import { etcdctlArgs, runOnNode } from '../backup/sim-helpers.ts';
import { logGroups, upgradeInputs } from '../e2e/upgrade-helpers.ts';
import { CHANGING, HOSTILE_OUTPUT, ROLES, type Scenario } from './matrix.ts';

export const CHECKS = ['report', 'cordons', 'lease', 'progress', 'rerun', 'etcd', 'plaintext', 'workflow-commands'] as const;
export type CheckName = (typeof CHECKS)[number];
/** 'pass', 'n/a (why)', or 'fail: why' */
export type CheckResult = string;

export interface ScenarioResult {
  id: string;
  /** survived: every check passed; failed: a check failed; invalid: the fault never fired (the scenario proves nothing) */
  verdict: 'survived' | 'failed' | 'invalid';
  /** what the first run ended as: outcome and where it stopped */
  firstRun: string;
  checks: Record<CheckName, CheckResult>;
  ms: { cluster: number; run: number; rerun: number; total: number };
  note?: string;
  /** the jobs themselves, for tests that look closer (not written to the results file) */
  jobs?: { first: Job; rerun: Job };
}

export interface Job {
  main: Step;
  post: Step;
  runnerTemp: string;
  /** the job's directory (workspace, RUNNER_TEMP, command files); removed when the scenario is over */
  dir: string;
}

const SENTINEL = 'fault-matrix-sentinel';
const CLUSTER_NODES = Object.values(ROLES).map((r) => r.node);

export interface Step {
  exitCode: number | null;
  stdout: string;
  outputs: Record<string, string>;
  summary: string;
  state: Record<string, string>;
}

/** One step of the job (main or post), as the runner runs it; `watch` sees stdout as it comes and may kill. */
async function runStep(
  bundle: string,
  env: Record<string, string>,
  dir: string,
  watch?: (stdout: string, kill: () => void) => void,
): Promise<Step> {
  const step = mkdtempSync(join(dir, 'step-'));
  const files = {
    GITHUB_OUTPUT: 'output',
    GITHUB_STATE: 'state',
    GITHUB_STEP_SUMMARY: 'summary.md',
    GITHUB_ENV: 'env',
    GITHUB_PATH: 'path',
  };
  const full = { ...env };
  for (const [variable, name] of Object.entries(files)) {
    full[variable] = join(step, name);
    writeFileSync(full[variable]!, '');
  }
  const result = await new Promise<{ exitCode: number | null; stdout: string }>((resolve, reject) => {
    const child = spawn(process.execPath, [bundle], { env: full, cwd: full.GITHUB_WORKSPACE, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    const timer = setTimeout(() => child.kill('SIGKILL'), 600_000);
    child.stdout.on('data', (c: Buffer) => {
      stdout += c.toString('utf8');
      watch?.(stdout, () => child.kill('SIGKILL'));
    });
    child.stderr.on('data', () => {});
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ exitCode: code, stdout });
    });
  });
  const read = (f: string) => readFileSync(full[f]!, 'utf8');
  return {
    ...result,
    outputs: parseCommandFile(read('GITHUB_OUTPUT')),
    summary: read('GITHUB_STEP_SUMMARY'),
    state: parseCommandFile(read('GITHUB_STATE')),
  };
}

/** The job's environment for the main step (as test/support/action-runner.ts builds it). */
function jobEnv(dir: string, inputs: Record<string, string>, runId: string, attempt: string): Record<string, string> {
  const workspace = join(dir, 'workspace');
  const runnerTemp = join(dir, 'runner-temp');
  mkdirSync(workspace, { recursive: true });
  mkdirSync(runnerTemp, { recursive: true });
  writeFileSync(join(dir, 'event.json'), '{}');
  return {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: process.env.HOME ?? dir,
    GITHUB_ACTIONS: 'true',
    CI: 'true',
    GITHUB_EVENT_NAME: 'workflow_dispatch',
    GITHUB_EVENT_PATH: join(dir, 'event.json'),
    GITHUB_REPOSITORY: 'octo-org/clusters',
    GITHUB_REPOSITORY_OWNER: 'octo-org',
    GITHUB_WORKFLOW: 'upgrade',
    GITHUB_RUN_ID: runId,
    GITHUB_RUN_NUMBER: '7',
    GITHUB_RUN_ATTEMPT: attempt,
    GITHUB_JOB: 'upgrade',
    GITHUB_ACTION: 'kubeadm-upgrade',
    GITHUB_ACTOR: 'octocat',
    GITHUB_SHA: '0123456789abcdef0123456789abcdef01234567',
    GITHUB_REF: 'refs/heads/main',
    GITHUB_SERVER_URL: 'https://github.example',
    GITHUB_API_URL: 'http://127.0.0.1:9',
    GITHUB_GRAPHQL_URL: 'http://127.0.0.1:9/graphql',
    GITHUB_WORKSPACE: workspace,
    RUNNER_TEMP: runnerTemp,
    RUNNER_OS: 'Linux',
    ...inputEnvironment(inputs),
  };
}

/** A job: the main step, then the post step with the state the main step saved. */
async function runJob(
  bundle: string,
  inputs: Record<string, string>,
  runId: string,
  attempt: string,
  watch?: (stdout: string, kill: () => void) => void,
): Promise<Job> {
  const dir = mkdtempSync(join(tmpdir(), 'kua-fault-'));
  const env = jobEnv(dir, inputs, runId, attempt);
  const main = await runStep(bundle, env, dir, watch);
  const state = Object.fromEntries(Object.entries(main.state).map(([k, v]) => [`STATE_${k}`, v]));
  const post = await runStep(bundle, { ...env, ...state }, dir);
  return { main, post, runnerTemp: env.RUNNER_TEMP!, dir };
}

function kubectl(cluster: SimCluster, ...args: string[]): string {
  return execFileSync('/usr/bin/kubectl', ['--kubeconfig', cluster.kubeconfigPath, ...args], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

interface NodeView {
  unschedulable: boolean;
  annotations: Record<string, string>;
}
function nodes(cluster: SimCluster): Record<string, NodeView> {
  const list = JSON.parse(kubectl(cluster, 'get', 'nodes', '-o', 'json')) as {
    items: { metadata: { name: string; annotations?: Record<string, string> }; spec?: { unschedulable?: boolean } }[];
  };
  return Object.fromEntries(
    list.items.map((n) => [n.metadata.name, { unschedulable: n.spec?.unschedulable === true, annotations: n.metadata.annotations ?? {} }]),
  );
}
const doneStages = (v: NodeView | undefined) => (v?.annotations[`${PROGRESS_PREFIX}done-stages`] ?? '').split(',').filter(Boolean);

function leaseHolder(cluster: SimCluster): string | undefined {
  try {
    const lease = JSON.parse(kubectl(cluster, '-n', 'kube-system', 'get', 'lease', DEFAULT_LOCK_NAME, '-o', 'json')) as {
      spec?: { holderIdentity?: string };
    };
    return lease.spec?.holderIdentity || undefined;
  } catch {
    return undefined;
  }
}

/** Every SSH command the node received, with its time. */
function sshLog(cluster: SimCluster, node: string): { time: string; command: string; fault?: string }[] {
  return readFileSync(join(cluster.dir, 'nodes', node, 'commands.log'), 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as { time: string; via?: string; command?: string; fault?: string })
    .filter((e) => e.via === 'ssh' && typeof e.command === 'string') as { time: string; command: string; fault?: string }[];
}

/**
 * The workflow commands the runner would execute from this stdout: `::name …::` lines (leading blanks trimmed, as
 * the runner does) and the legacy `##[name …]` anywhere in a line, except while `::stop-commands::TOKEN` is in force.
 */
export function runnerCommands(stdout: string): string[] {
  const executed: string[] = [];
  let stopToken: string | undefined;
  for (const raw of stdout.split('\n')) {
    const line = raw.trimStart();
    if (stopToken !== undefined) {
      if (line.trim() === `::${stopToken}::`) stopToken = undefined;
      continue;
    }
    const v2 = /^::([A-Za-z-]+)(?: [^:]*)?::(.*)$/.exec(line);
    if (v2) {
      executed.push(line);
      if (v2[1] === 'stop-commands') stopToken = v2[2];
      continue;
    }
    if (/##\[[A-Za-z-]+.*\]/.test(raw)) executed.push(raw.slice(raw.indexOf('##[')));
  }
  return executed;
}

/**
 * A command the runner would execute that one of the node's lines made: the line itself (a `::…` command, or a
 * legacy `##[…]` inside it). The Action's own `::error::` carrying node output as its escaped message is not one.
 */
export function fromNodeOutput(command: string): boolean {
  const injected = HOSTILE_OUTPUT.split('\n').filter((l) => l.startsWith('::') || l.includes('##['));
  return injected.some((l) => command === l || (command.startsWith('##[') && l.includes(command)));
}

/** Files on the runner a backup leaves in the clear (the encrypted archive ends in .age). */
function plaintextFiles(root: string): string[] {
  const found: string[] = [];
  const walk = (dir: string) => {
    for (const name of readdirSync(dir)) {
      const path = join(dir, name);
      if (statSync(path).isDirectory()) walk(path);
      else if (/etcd-snapshot|\.db$|\.tar$|\.tar\.gz$/.test(name)) found.push(path.slice(root.length + 1));
    }
  };
  try {
    walk(root);
  } catch {
    // no RUNNER_TEMP: nothing left
  }
  return found;
}

const pass = 'pass';
const fail = (why: string) => `fail: ${why}`;

export interface ScenarioOptions {
  bundle: string;
}

export async function runScenario(scenario: Scenario, options: ScenarioOptions): Promise<ScenarioResult> {
  const started = Date.now();
  const cluster = await startCluster({ controlPlanes: 2, workers: 1, version: '1.30.5', os: 'debian' });
  const clusterMs = Date.now() - started;
  try {
    return await exercise(scenario, cluster, options, clusterMs, started);
  } finally {
    await cluster.stop();
  }
}

async function exercise(
  scenario: Scenario,
  cluster: SimCluster,
  options: ScenarioOptions,
  clusterMs: number,
  started: number,
): Promise<ScenarioResult> {
  kubectl(cluster, 'create', 'configmap', SENTINEL, '--from-literal=kept=yes');
  const identity = await generateIdentity();
  const inputs = upgradeInputs(cluster, {
    'max-unavailable': '1',
    'drain-timeout': '30s',
    'node-ready-timeout': '30s',
    'backup-encryption-recipients': await identityToRecipient(identity),
  });
  const runId = String(9000 + Math.floor(Math.random() * 999));

  let armed = false;
  let killed = false;
  const arm = (kill: () => void) => {
    armed = true;
    if (scenario.kind === 'kill') {
      killed = true;
      kill();
    } else cluster.setFaults(scenario.faults);
  };
  if (!scenario.armOn) arm(() => {});
  const t0 = Date.now();
  const first = await runJob(options.bundle, inputs, runId, '1', (stdout, kill) => {
    if (!armed && scenario.armOn?.test(stdout)) arm(kill);
  });
  const runMs = Date.now() - t0;
  const fired =
    scenario.kind === 'command-fails' || scenario.kind === 'ssh-drop'
      ? sshLog(cluster, scenario.node).some((e) => e.fault === scenario.kind)
      : armed;
  cluster.setFaults([]);

  const afterFirst = nodes(cluster);
  const holderAfterFirst = leaseHolder(cluster);
  const plaintextAfterFirst = plaintextFiles(first.runnerTemp);
  const firstOut = first.main.outputs;
  const resultJson = firstOut.result
    ? (JSON.parse(firstOut.result) as { nodes?: { name: string; stages: { name: string; status: string }[] }[] })
    : undefined;
  const failedAt = (resultJson?.nodes ?? []).flatMap((n) =>
    n.stages.filter((s) => s.status === 'failed').map((s) => `${n.name}·${s.name}`),
  );
  const firstRun = killed
    ? 'killed'
    : `${firstOut.outcome ?? `exit ${first.main.exitCode}`}${failedAt.length ? ` at ${failedAt.join(', ')}` : ''}`;

  // a plain re-run: the job run again (same run, next attempt), once the node is back (a never-ready node heals)
  for (let i = 0; i < 150; i++) {
    const ready = (await cluster.status()).nodes.every((n) => n.ready === true);
    if (ready) break;
    await sleep(200);
  }
  const rerunStart = new Date().toISOString();
  const t1 = Date.now();
  const rerun = await runJob(options.bundle, inputs, runId, '2');
  const rerunMs = Date.now() - t1;

  const checks = {} as Record<CheckName, CheckResult>;
  const firstText = `${first.main.summary}\n${first.post.summary}\n${first.post.stdout}`;

  // the report names node + stage
  if (killed) checks.report = 'n/a (killed: no report from the main step)';
  else if (first.main.exitCode === 0) checks.report = 'n/a (the run absorbed the fault)';
  else if (failedAt.length > 0) {
    const missing = failedAt.filter((at) => {
      const [node, stage] = at.split('·');
      return !first.main.summary.includes(`**${node}** failed at **${stage}**`);
    });
    checks.report = missing.length ? fail(`the summary does not say ${missing.join(', ')} failed`) : pass;
  } else {
    const summary = first.main.summary;
    checks.report =
      summary.includes(scenario.node) && summary.includes(scenario.stage)
        ? pass
        : fail(
            `no node failed in the result and the summary does not name ${scenario.node} and ${scenario.stage}: ${(firstOut.outcome ?? '').slice(0, 80)}`,
          );
  }

  // no unreported cordon: every cordoned Node is named where the run (or its post step) reports cordons
  const cordoned = Object.entries(afterFirst)
    .filter(([, v]) => v.unschedulable)
    .map(([n]) => n);
  const reported = (n: string) => new RegExp(`Cordoned now: [^\\n]*\\b${n}\\b`).test(firstText);
  const unreported = cordoned.filter((n) => !reported(n));
  checks.cordons = unreported.length ? fail(`cordoned and not reported: ${unreported.join(', ')}`) : pass;

  // the Lease is released, or the summary says it is left to expire
  checks.lease =
    holderAfterFirst === undefined
      ? pass
      : /expire/i.test(firstText)
        ? pass
        : fail(`held by ${holderAfterFirst} after the post step, and no report says it is left to expire`);

  // progress records exact: what the annotations say is done finished (its log group has no "failed"), and what
  // finished is recorded (a kill may land between a stage's end and its record: that one may be missing)
  const groups = logGroups(first.main.stdout);
  const problems: string[] = [];
  for (const node of CLUSTER_NODES) {
    const finished = groups
      .filter((g) => g.title.startsWith(`${node} · `) && !g.title.includes('failed after'))
      .map((g) => g.title.split(' · ')[1]!);
    const done = doneStages(afterFirst[node]);
    for (const s of done) if (!finished.includes(s)) problems.push(`${node}: ${s} recorded done but did not finish in this run`);
    const unrecorded = finished.filter((s) => !done.includes(s));
    const allowed = killed && unrecorded.length === 1 && unrecorded[0] === finished.at(-1);
    if (unrecorded.length && !allowed) problems.push(`${node}: ${unrecorded.join(', ')} finished but not recorded`);
  }
  checks.progress = problems.length ? fail(problems.join('; ')) : pass;

  // the plain re-run converges without repeating finished work
  const status = await cluster.status();
  const target = rerun.main.outputs.result ? (JSON.parse(rerun.main.outputs.result) as { target?: string }).target : undefined;
  const rerunProblems: string[] = [];
  if (rerun.main.exitCode !== 0)
    rerunProblems.push(
      `re-run ${rerun.main.outputs.outcome ?? `exit ${rerun.main.exitCode}`}: ${(rerun.main.outputs.result ? JSON.parse(rerun.main.outputs.result).reason : '') ?? ''}`.slice(
        0,
        300,
      ),
    );
  for (const n of status.nodes) {
    if (target && n.kubeletVersion !== `v${target}`) rerunProblems.push(`${n.name} at ${n.kubeletVersion}`);
    if (n.cordoned) rerunProblems.push(`${n.name} cordoned`);
  }
  for (const node of CLUSTER_NODES) {
    const done = doneStages(afterFirst[node]);
    const after = sshLog(cluster, node).filter((e) => e.time >= rerunStart);
    for (const g of groups.filter((g) => g.title.startsWith(`${node} · `) && done.includes(g.title.split(' · ')[1]!))) {
      const ran = g.lines.filter((l) => l.startsWith('$ ')).map((l) => l.slice(2));
      const repeated = ran.filter((c) => CHANGING.test(c) && after.some((e) => e.command.includes(c)));
      if (repeated.length) rerunProblems.push(`${node}: ${g.title.split(' · ')[1]} ran again (${repeated[0]})`);
    }
  }
  checks.rerun = rerunProblems.length ? fail(rerunProblems.join('; ')) : pass;

  // etcd intact: every member healthy, both members listed, the keys written before the run still there
  try {
    const etcdProblems: string[] = [];
    for (const node of cluster.spec.nodes.filter((n) => n.role === 'control-plane')) {
      await runOnNode(cluster, node.name, etcdctlArgs(node, 'endpoint', 'health'));
      const members = (await runOnNode(cluster, node.name, etcdctlArgs(node, 'member', 'list'))).split('\n').filter(Boolean);
      if (members.length !== 2) etcdProblems.push(`${node.name}: ${members.length} members`);
      const key = await runOnNode(cluster, node.name, etcdctlArgs(node, 'get', `/registry/configmaps/default/${SENTINEL}`, '--keys-only'));
      if (!key.includes(SENTINEL)) etcdProblems.push(`${node.name}: the key written before the run is gone`);
    }
    checks.etcd = etcdProblems.length ? fail(etcdProblems.join('; ')) : pass;
  } catch (error) {
    checks.etcd = fail((error as Error).message.slice(0, 200));
  }

  // no plaintext backup files left on the runner
  const plaintext = [...plaintextAfterFirst.map((f) => `first run: ${f}`), ...plaintextFiles(rerun.runnerTemp).map((f) => `re-run: ${f}`)];
  checks.plaintext = plaintext.length ? fail(plaintext.join(', ')) : pass;

  // no workflow command issued from what a node printed
  const fromNode = [first.main.stdout, first.post.stdout, rerun.main.stdout, rerun.post.stdout]
    .flatMap(runnerCommands)
    .filter(fromNodeOutput);
  checks['workflow-commands'] = fromNode.length ? fail(`the runner would execute: ${fromNode.slice(0, 3).join(' | ')}`) : pass;

  for (const job of [first, rerun]) rmSync(job.dir, { recursive: true, force: true });
  const failed = CHECKS.filter((c) => checks[c].startsWith('fail'));
  return {
    id: scenario.id,
    verdict: !fired ? 'invalid' : failed.length ? 'failed' : 'survived',
    firstRun,
    checks,
    ms: { cluster: clusterMs, run: runMs, rerun: rerunMs, total: Date.now() - started },
    jobs: { first, rerun },
    ...(!fired
      ? { note: scenario.armOn && !armed ? `never armed: ${scenario.armOn} did not appear in the log` : 'the fault never fired' }
      : {}),
  };
}
