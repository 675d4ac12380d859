// The API server goes away while `kubeadm upgrade apply` restarts kube-apiserver, through the bundle on a
// simulated 1 + 1 cluster: the only control plane's kubelet restarts kube-apiserver when kubeadm rewrites its
// manifest, and the API server refuses every connection for 25 s (longer than the lock's renewal interval,
// lock-ttl 60s / 3, so the Action meets it). The run waits for the API server instead of failing, says so,
// and completes.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { startCluster, type SimCluster } from '../../sim/index.ts';
import { buildBundle, runAction, type ActionResult } from '../support/action-runner.ts';
import { upgradeInputs } from './upgrade-helpers.ts';

const AWAY_MS = 25_000;
let cluster: SimCluster;
let result: ActionResult;

beforeAll(async () => {
  let bundle: string;
  [bundle, cluster] = await Promise.all([
    buildBundle(),
    startCluster({ controlPlanes: 1, workers: 1, version: '1.30.5', os: 'debian', delays: { apiServerRestartMs: AWAY_MS } }),
  ]);
  const inputs = upgradeInputs(cluster, { 'max-unavailable': '1', 'lock-ttl': '60s', 'node-ready-timeout': '60s' });
  result = await runAction(inputs, { bundle, env: { GITHUB_RUN_ID: '9301' }, timeoutMs: 600_000 });
}, 900_000);

afterAll(async () => {
  await cluster?.stop();
});

describe('kube-apiserver restarted by kubeadm upgrade apply on the only control plane', () => {
  it('refused connections while kubeadm upgrade apply ran', () => {
    const apiLog = readFileSync(join(cluster.dir, 'apiserver', 'log'), 'utf8');
    expect(apiLog).toContain(`kube-apiserver restarting: refusing connections for ${AWAY_MS} ms`);
    expect(apiLog).toContain('kube-apiserver is back');
    const cpLog = readFileSync(join(cluster.dir, 'nodes', 'cp-1', 'supervisor.log'), 'utf8');
    expect(cpLog).toContain('kube-apiserver manifest changed: restarting kube-apiserver');
  });

  it('the run waited for the API server and succeeded', async () => {
    expect(result.exitCode, result.stdout.slice(-3000)).toBe(0);
    expect(result.stdout).toMatch(
      /the API server did not take \S+.* \(connection (refused|reset)\): it may be restarting; waiting for the API server/,
    );
    expect(result.stdout).toMatch(/the API server answers again \(it was away \d+s\)/);
    expect(result.stdout).not.toMatch(/renewing the cluster lock failed/);
    const target = JSON.parse(result.outputs.result!).target as string;
    for (const node of (await cluster.status()).nodes) expect(node.kubeletVersion, node.name).toBe(`v${target}`);
  });
});
