// The matrix commands end to end: workers refuse before the control planes, control-plane upgrades only the
// control planes, workers with a batch index upgrades exactly that batch, and node with the local transport
// upgrades the node the Action runs on (the bundle started inside that node's mount namespace, as a
// self-hosted runner on the node would run it).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Plan } from '../../src/core/plan-types.ts';
import { startCluster, type SimCluster } from '../../sim/index.ts';
import { buildBundle, inputEnvironment, parseCommandFile, runAction } from '../support/action-runner.ts';
import { changingCommands, nodeLog, upgradeInputs } from './upgrade-helpers.ts';

let cluster: SimCluster;
let bundle: string;
const versions = async () => Object.fromEntries((await cluster.status()).nodes.map((n) => [n.name, n.kubeletVersion]));

beforeAll(async () => {
  [bundle, cluster] = await Promise.all([
    buildBundle(),
    startCluster({ controlPlanes: 3, workers: 6, version: '1.30.5', workload: 'demo', os: 'debian' }),
  ]);
}, 300_000);

afterAll(async () => {
  await cluster?.stop();
});

/** Runs the bundle inside node `name`'s mount namespace with transport local (its own supervisor's namespace). */
async function runOnNode(
  name: string,
  inputs: Record<string, string>,
): Promise<{ exitCode: number | null; stdout: string; outputs: Record<string, string>; summary: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'kua-node-'));
  const files = { GITHUB_OUTPUT: join(dir, 'output'), GITHUB_STEP_SUMMARY: join(dir, 'summary.md'), GITHUB_STATE: join(dir, 'state') };
  for (const file of Object.values(files)) writeFileSync(file, '');
  const pid = readFileSync(join(cluster.dir, 'nodes', name, 'supervisor.pid'), 'utf8').trim();
  const env = {
    PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
    HOME: dir,
    GITHUB_ACTIONS: 'true',
    GITHUB_REPOSITORY: 'octo-org/clusters',
    GITHUB_RUN_ID: '5005',
    GITHUB_RUN_ATTEMPT: '1',
    GITHUB_JOB: 'node',
    GITHUB_EVENT_NAME: 'workflow_dispatch',
    GITHUB_WORKSPACE: dir,
    RUNNER_TEMP: dir,
    ...files,
    ...inputEnvironment(inputs),
  };
  return new Promise((resolve, reject) => {
    const child = spawn('nsenter', [`--mount=/proc/${pid}/ns/mnt`, '--', process.execPath, bundle], {
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const out: Buffer[] = [];
    child.stdout.on('data', (c: Buffer) => out.push(c));
    child.stderr.on('data', (c: Buffer) => out.push(c));
    child.on('error', reject);
    child.on('close', (exitCode) =>
      resolve({
        exitCode,
        stdout: Buffer.concat(out).toString('utf8'),
        outputs: parseCommandFile(readFileSync(files.GITHUB_OUTPUT, 'utf8')),
        summary: readFileSync(files.GITHUB_STEP_SUMMARY, 'utf8'),
      }),
    );
  });
}

describe('the drain inputs, through the plan a user reads', () => {
  const kubectl = (...args: string[]) =>
    execFileSync('/usr/bin/kubectl', ['--kubeconfig', cluster.kubeconfigPath, ...args], { encoding: 'utf8' });
  const planWith = async (extra: Record<string, string>) => {
    const result = await runAction(upgradeInputs(cluster, { command: 'plan', ...extra }), {
      bundle,
      env: { GITHUB_RUN_ID: '3993', GITHUB_JOB: 'plan' },
    });
    return JSON.parse(result.outputs.plan!) as Plan;
  };

  it('block exactly what the drain would refuse: a bare pod until force-drain-unmanaged or a selector leaves it out, emptyDir pods with delete-emptydir-data: false', async () => {
    kubectl('run', 'bare', '--image=registry.k8s.io/pause:3.10', '--labels=run=bare');
    try {
      expect((await planWith({})).blockers.map((b) => b.id)).toContain('unmanaged-pods');
      expect((await planWith({ 'force-drain-unmanaged': 'true' })).blockers).toEqual([]);
      expect((await planWith({ 'drain-pod-selector': 'run!=bare' })).blockers).toEqual([]);
    } finally {
      kubectl('delete', 'pod', 'bare', '--grace-period=1', '--wait=true');
    }
    // the demo workload's cache pods use emptyDir: the upgrade is refused before any node is touched
    const refused = await runAction(upgradeInputs(cluster, { 'delete-emptydir-data': 'false' }), {
      bundle,
      env: { GITHUB_RUN_ID: '3994', GITHUB_JOB: 'upgrade' },
    });
    expect(refused.exitCode).toBe(1);
    expect(refused.outputs.outcome).toBe('refused');
    expect(refused.summary).toMatch(/demo\/cache-.*set delete-emptydir-data: true/);
    for (const node of cluster.spec.nodes) expect(changingCommands(nodeLog(cluster, node.name)), node.name).toEqual([]);
  }, 300_000);
});

describe('matrix commands', () => {
  it('workers refuses while the control planes are not at the target, changing nothing', async () => {
    const result = await runAction(upgradeInputs(cluster, { command: 'workers', batch: '0' }), {
      bundle,
      env: { GITHUB_RUN_ID: '4004', GITHUB_JOB: 'workers' },
    });
    expect(result.exitCode).toBe(1);
    expect(result.outputs.outcome).toBe('refused');
    expect(result.summary).toMatch(/Control plane\(s\) not yet at the target: cp-1, cp-2, cp-3/);
    for (const node of cluster.spec.nodes) expect(changingCommands(nodeLog(cluster, node.name)), node.name).toEqual([]);
  }, 300_000);

  it('control-plane upgrades only the control planes', async () => {
    const result = await runAction(upgradeInputs(cluster, { command: 'control-plane' }), {
      bundle,
      env: { GITHUB_RUN_ID: '4004', GITHUB_JOB: 'control-plane' },
      timeoutMs: 600_000,
    });
    expect(result.exitCode, result.stdout.slice(-3000)).toBe(0);
    expect(JSON.parse(result.outputs['upgraded-nodes']!)).toEqual(['cp-1', 'cp-2', 'cp-3']);
    const now = await versions();
    expect(now['cp-3']).toMatch(/^v1\.31\./);
    expect(now['worker-1']).toBe('v1.30.5');
  }, 600_000);

  it('workers with batch 1 upgrades exactly that batch of the plan', async () => {
    const result = await runAction(upgradeInputs(cluster, { command: 'workers', batch: '1' }), {
      bundle,
      env: { GITHUB_RUN_ID: '4004', GITHUB_JOB: 'workers' },
      timeoutMs: 600_000,
    });
    expect(result.exitCode, result.stdout.slice(-3000)).toBe(0);
    expect(JSON.parse(result.outputs['upgraded-nodes']!)).toEqual(['worker-3', 'worker-4']);
    const now = await versions();
    expect(['worker-1', 'worker-2', 'worker-5', 'worker-6'].map((n) => now[n])).toEqual(['v1.30.5', 'v1.30.5', 'v1.30.5', 'v1.30.5']);
    expect(now['worker-3']).toMatch(/^v1\.31\./);
  }, 600_000);

  it('node with the local transport upgrades the node it runs on', async () => {
    const result = await runOnNode('worker-1', upgradeInputs(cluster, { command: 'node', transport: 'local', 'node-name': 'worker-1' }));
    expect(result.exitCode, result.stdout.slice(-3000)).toBe(0);
    expect(JSON.parse(result.outputs['upgraded-nodes']!)).toEqual(['worker-1']);
    const now = await versions();
    expect(now['worker-1']).toMatch(/^v1\.31\./);
    expect(now['worker-2']).toBe('v1.30.5');
  }, 600_000);
});
