// `npm run demo`: brings a simulated kubeadm cluster up (3 control planes + 6 workers at 1.30, a workload with
// a PodDisruptionBudget), runs `command: plan` and then `command: upgrade` to 1.31 through the built
// dist/index.js exactly as the runner would (INPUT_* variables, command files), shows progress as it goes and
// the job summary, checks every node is at the target, and takes the cluster down.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startCluster, type SimCluster } from '../sim/index.ts';
import { inputEnvironment, parseCommandFile, repoRoot } from '../test/support/action-runner.ts';

const started = Date.now();
const elapsed = () => `${((Date.now() - started) / 1000).toFixed(0).padStart(3)}s`;
const say = (line: string) => console.log(`[${elapsed()}] ${line}`);

/** One step of the action, as the runner runs it: prints progress lines as they come, returns outputs and summary. */
async function runStep(
  inputs: Record<string, string>,
  dir: string,
): Promise<{ exitCode: number | null; outputs: Record<string, string>; summary: string }> {
  const files = {
    GITHUB_OUTPUT: join(dir, `${inputs.command}-output`),
    GITHUB_STEP_SUMMARY: join(dir, `${inputs.command}-summary.md`),
    GITHUB_STATE: join(dir, `${inputs.command}-state`),
  };
  for (const file of Object.values(files)) writeFileSync(file, '');
  const env = {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: process.env.HOME ?? dir,
    GITHUB_ACTIONS: 'true',
    GITHUB_REPOSITORY: 'demo/cluster',
    GITHUB_RUN_ID: String(process.pid),
    GITHUB_RUN_ATTEMPT: '1',
    GITHUB_JOB: inputs.command!,
    GITHUB_EVENT_NAME: 'workflow_dispatch',
    GITHUB_WORKSPACE: dir,
    RUNNER_TEMP: dir,
    ...files,
    ...inputEnvironment(inputs),
  };
  const child = spawn(process.execPath, [join(repoRoot, 'dist', 'index.js')], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let pending = '';
  child.stdout.on('data', (chunk: Buffer) => {
    const lines = (pending + chunk.toString('utf8')).split('\n');
    pending = lines.pop() ?? '';
    for (const line of lines) {
      // progress: stage starts, finished nodes, batches, warnings; command output stays in the (folded) groups
      if (/^(▶|✔|Worker batch|Reading|Probing|::warning::|::error::)/.test(line))
        say(line.replace(/^::(warning|error)::/, '$1: ').replace(/%0A/g, '\n           '));
    }
  });
  child.stderr.on('data', (chunk: Buffer) => process.stderr.write(chunk));
  const exitCode = await new Promise<number | null>((resolve) => child.on('close', resolve));
  return {
    exitCode,
    outputs: parseCommandFile(readFileSync(files.GITHUB_OUTPUT, 'utf8')),
    summary: readFileSync(files.GITHUB_STEP_SUMMARY, 'utf8'),
  };
}

async function demo(cluster: SimCluster, dir: string): Promise<boolean> {
  const inputs = {
    'target-version': '1.31',
    inventory: readFileSync(cluster.inventoryPath, 'utf8'),
    kubeconfig: readFileSync(cluster.kubeconfigPath, 'utf8'),
    'ssh-private-key': readFileSync(cluster.sshKeyPath, 'utf8'),
    'ssh-known-hosts': readFileSync(cluster.knownHostsPath, 'utf8'),
    'max-unavailable': '2',
    'drain-grace-period': '1',
  };
  say('command: plan');
  const plan = await runStep({ ...inputs, command: 'plan' }, dir);
  console.log(`\n${plan.summary.split('\n').slice(0, 12).join('\n')}\n…\n`);
  if (plan.exitCode !== 0) return false;
  say(`command: upgrade to ${plan.outputs['target-version']}`);
  const upgrade = await runStep({ ...inputs, command: 'upgrade' }, dir);
  console.log(`\n${'='.repeat(30)} job summary ${'='.repeat(30)}\n${upgrade.summary}`);
  const status = await cluster.status();
  const behind = status.nodes.filter((n) => n.kubeletVersion !== `v${plan.outputs['target-version']}` || n.cordoned);
  for (const node of status.nodes) say(`${node.name.padEnd(9)} kubelet ${node.kubeletVersion}${node.cordoned ? ' (cordoned)' : ''}`);
  const web = (status.workloads as { budgets?: { name: string; desiredHealthy: number; lowestReady: number }[] } | null)?.budgets?.find(
    (b) => b.name === 'web-pdb',
  );
  if (web) say(`web-pdb: never fewer than ${web.lowestReady} Ready pods (the budget asks for ${web.desiredHealthy})`);
  if (behind.length > 0) say(`NOT at the target: ${behind.map((n) => n.name).join(', ')}`);
  return upgrade.exitCode === 0 && behind.length === 0;
}

say('building dist/index.js');
const build = spawnSync(process.execPath, ['scripts/build.ts'], { cwd: repoRoot, encoding: 'utf8' });
if (build.status !== 0) throw new Error(`build failed: ${build.stderr}`);
say('bringing the simulated cluster up (3 control planes + 6 workers at 1.30.5, demo workload with web-pdb)');
const cluster = await startCluster({ controlPlanes: 3, workers: 6, version: '1.30.5', workload: 'demo' });
const dir = mkdtempSync(join(tmpdir(), 'kua-demo-'));
let ok = false;
try {
  ok = await demo(cluster, dir);
} catch (err) {
  console.error(`demo: ${(err as Error).message}`);
} finally {
  const report = await cluster.stop();
  say(`cluster down: stopped ${report.stopped.length} processes`);
  rmSync(cluster.dir, { recursive: true, force: true });
  rmSync(dir, { recursive: true, force: true });
}
say(ok ? 'every node is at the target: demo passed' : 'demo FAILED');
process.exit(ok ? 0 : 1);
