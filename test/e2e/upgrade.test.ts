// command: upgrade end to end: the bundle, run as the runner runs it, upgrades a simulated 3 + 6 cluster
// (Debian and RHEL-family nodes) from 1.30 to 1.31 over SSH with max-unavailable 2, while a second run is refused.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { startCluster, type SimCluster } from '../../sim/index.ts';
import { buildBundle, runAction, type ActionResult } from '../support/action-runner.ts';
import { budgets, changingCommands, nodeLog, logGroups, sshCommands, upgradeInputs } from './upgrade-helpers.ts';

let cluster: SimCluster;
let bundle: string;
let first: ActionResult;
let second: ActionResult;

function leaseNames(): string[] {
  try {
    const out = execFileSync(
      '/usr/bin/kubectl',
      ['--kubeconfig', cluster.kubeconfigPath, 'get', 'leases', '-n', 'kube-system', '-o', 'name'],
      { encoding: 'utf8' },
    );
    return out.split('\n').filter(Boolean);
  } catch {
    return [];
  }
}

beforeAll(async () => {
  [bundle, cluster] = await Promise.all([
    buildBundle(),
    startCluster({ controlPlanes: 3, workers: 6, version: '1.30.5', workload: 'demo', os: 'mixed' }),
  ]);
  const inputs = upgradeInputs(cluster);
  const running = runAction(inputs, { bundle, env: { GITHUB_RUN_ID: '1001', GITHUB_JOB: 'upgrade' }, timeoutMs: 600_000 });
  // A second run of another workflow run, once the first holds the lock.
  for (let i = 0; i < 600 && leaseNames().length === 0; i++) await sleep(200);
  second = await runAction(inputs, { bundle, env: { GITHUB_RUN_ID: '2002', GITHUB_JOB: 'upgrade' }, timeoutMs: 300_000 });
  first = await running;
}, 900_000);

afterAll(async () => {
  await cluster?.stop();
});

describe('command: upgrade 1.30 → 1.31 over SSH', () => {
  it('succeeds and upgrades every node to the target', async () => {
    expect(first.exitCode, first.stdout.slice(-3000)).toBe(0);
    const target = first.outputs['upgraded-nodes'] ? (JSON.parse(first.outputs.result!).target as string) : '';
    expect(target).toMatch(/^1\.31\.\d+$/);
    expect(JSON.parse(first.outputs['upgraded-nodes']!).sort()).toEqual(cluster.spec.nodes.map((n) => n.name).sort());
    const status = await cluster.status();
    for (const node of status.nodes) {
      expect(node.kubeletVersion, node.name).toBe(`v${target}`);
      expect(node.cordoned, node.name).toBe(false);
      expect(node.repoMinor, node.name).toBe('1.31');
      expect([...node.holds].sort(), node.name).toEqual(expect.arrayContaining(['kubeadm', 'kubectl', 'kubelet']));
    }
    expect(first.summary.split('\n')[0]).toMatch(/^## Upgrade to 1\.31\.\d+ ✅ succeeded — 9 node\(s\) upgraded/);
    expect(first.summary).toContain('```mermaid');
  });

  it('runs the exact package revision the plan resolved per package manager', () => {
    const debian = cluster.spec.nodes.find((n) => n.os === 'debian')!;
    const rhel = cluster.spec.nodes.find((n) => n.os === 'rhel')!;
    const target = JSON.parse(first.outputs.result!).target as string;
    const debianInstalls = sshCommands(cluster, debian.name).filter((c) => c.includes(' apt-get install '));
    expect(
      debianInstalls.some((c) => c.endsWith(` kubeadm=${target}-1.1`)),
      debianInstalls.join('\n'),
    ).toBe(true);
    const rpm = sshCommands(cluster, rhel.name);
    expect(
      rpm.some((c) => /^(yum|dnf) install -y /.test(c) && c.endsWith(` kubeadm-${target}-150500.1.1 --disableexcludes=kubernetes`)),
    ).toBe(true);
    // The revision came from the plan: no node listed its repository again between unhold and install (the
    // fallback for a plan without revisions would run apt-cache madison / yum list there).
    for (const node of cluster.spec.nodes) {
      const log = sshCommands(cluster, node.name);
      for (const pkg of ['kubeadm', 'kubelet kubectl']) {
        const unhold = log.findIndex(
          (l) =>
            (/^apt-mark .*unhold /.test(l) && l.endsWith(` unhold ${pkg}`)) ||
            (/^(yum|dnf) (--setopt=skip_if_unavailable=True )?versionlock delete /.test(l) && l.endsWith(` ${pkg}`)),
        );
        const install = log.findIndex((l, i) => i > unhold && /(^| )(apt-get|yum|dnf) install /.test(l));
        expect(unhold, `${node.name}: unhold ${pkg}`).toBeGreaterThanOrEqual(0);
        expect(install, `${node.name}: install ${pkg}`).toBeGreaterThan(unhold);
        expect(
          log.slice(unhold, install).filter((l) => /^apt-cache madison|^(yum|dnf) list/.test(l)),
          node.name,
        ).toEqual([]);
      }
    }
  });

  it('upgrades worker batches of two, one batch after the other', () => {
    const record = JSON.parse(first.outputs.result!) as {
      nodes: { name: string; role: string; batch?: number; startedAt: number; finishedAt: number }[];
    };
    const workers = record.nodes.filter((n) => n.role === 'worker');
    const batches = [...new Set(workers.map((w) => w.batch))];
    expect(batches).toEqual([0, 1, 2]);
    for (const batch of batches.slice(1)) {
      const before = workers.filter((w) => w.batch === batch! - 1);
      const these = workers.filter((w) => w.batch === batch);
      expect(these).toHaveLength(2);
      expect(Math.min(...these.map((w) => w.startedAt))).toBeGreaterThanOrEqual(Math.max(...before.map((w) => w.finishedAt)));
    }
  });

  it('keeps the PDB-protected workload at its minimum or above throughout', async () => {
    const web = budgets((await cluster.status()).workloads).find((b) => b.name === 'web-pdb');
    expect(web).toBeDefined();
    expect(web!.lowestReady).toBeGreaterThanOrEqual(web!.desiredHealthy);
  });

  it('upgrades the addons only with the last control plane', () => {
    const record = JSON.parse(first.outputs.result!) as { nodes: { name: string; role: string }[] };
    const controlPlanes = record.nodes.filter((n) => n.role === 'control-plane').map((n) => n.name);
    const groups = logGroups(first.stdout).filter((g) => g.title.includes('kubeadm-upgrade'));
    const applied = groups.filter((g) => g.lines.some((l) => l.includes('Applied essential addon: kube-proxy')));
    expect(applied.map((g) => g.title.split(' · ')[0])).toEqual([controlPlanes.at(-1)]);
    const firstGroup = groups.find((g) => g.title.startsWith(`${controlPlanes[0]} ·`))!;
    expect(firstGroup.lines.some((l) => l.includes('Skipping upgrade of addons'))).toBe(true);
    expect(first.summary).toMatch(/kube-proxy runs registry\.k8s\.io\/kube-proxy:v1\.31/);
  });

  it('verifies the cluster and releases the Lease', () => {
    expect(first.summary).toContain('| kubelet-version | ✅ |');
    expect(first.summary).toContain('| kubeadm-config | ✅ |');
    expect(leaseNames()).toEqual([]);
  });

  it('refuses a second concurrent run, naming the holder, without changing anything', () => {
    expect(second.exitCode).toBe(1);
    expect(second.outputs.outcome).toBe('refused');
    expect(second.summary).toMatch(
      /Another run holds the cluster lock \(Lease kube-system\/kubeadm-upgrade-action[^)]*\): octo-org\/clusters run 1001 attempt 1, last renewed/,
    );
    expect(JSON.parse(second.outputs['upgraded-nodes']!)).toEqual([]);
  });

  it('command: verify passes afterwards (read-only)', async () => {
    const before = cluster.spec.nodes.map((n) => changingCommands(nodeLog(cluster, n.name)).length);
    const verify = await runAction(upgradeInputs(cluster, { command: 'verify' }), { bundle });
    expect(verify.exitCode, verify.stdout.slice(-2000)).toBe(0);
    expect(verify.summary.split('\n')[0]).toMatch(/^## Verification to 1\.31\.\d+ ✅ succeeded/);
    expect(cluster.spec.nodes.map((n) => changingCommands(nodeLog(cluster, n.name)).length)).toEqual(before);
  }, 300_000);
});
