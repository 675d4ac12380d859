// Rollback on a cluster of Debian and RHEL-family nodes, through the built bundle (dist/index.js) as the runner
// runs it: an upgrade 1.30 → 1.31 that succeeds (so every node's packages move and are held / versionlocked at
// the new version), then `command: rollback` to the backup it took. Every node must end at the recorded
// kubeadm/kubelet/kubectl with its hold (apt-mark) or versionlock (dnf) back at the old version. Before the
// package-manager seam, rollback on the dnf nodes stopped at "All matches were filtered out by exclude
// filtering": the versionlock the upgrade added pinned the new version and rollback never deleted it.
// The API objects go back too: kubeadm-config, kube-proxy and CoreDNS as before the upgrade, a later
// Deployment gone.
// Build dist/ first (npm run build).
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { startCluster, type SimCluster } from '../../sim/index.ts';
import { runAction, type ActionResult } from '../support/action-runner.ts';
import { type ApiState, apiState, changeApiAfterBackup, runOnNode } from '../backup/sim-helpers.ts';
import { upgradeInputs } from './upgrade-helpers.ts';

let cluster: SimCluster;
let upgrade: ActionResult;
let beforeUpgrade: ApiState;

const onNode = (name: string, argv: string[], stdin?: string): Promise<string> => runOnNode(cluster, name, argv, stdin);

/** What holds a node's kube packages: apt-mark's names, or dnf's versionlock entries (name-epoch:version-release.*). */
async function holdsOf(node: { name: string; os: string }): Promise<string[]> {
  const out =
    node.os === 'rhel' ? await onNode(node.name, ['dnf', 'versionlock', 'list']) : await onNode(node.name, ['apt-mark', 'showhold']);
  return out
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => /^kube(adm|let|ctl)\b/.test(l))
    .sort();
}

/** The end of the action's log for a failure message, without the runner's masking commands (they carry the secrets). */
function tail(result: ActionResult): string {
  return result.stdout
    .split('\n')
    .filter((l) => !l.startsWith('::add-mask::'))
    .join('\n')
    .slice(-4000);
}

function expectedHolds(os: string, version: string): string[] {
  return ['kubeadm', 'kubectl', 'kubelet'].map((name) => (os === 'rhel' ? `${name}-0:${version}-150500.1.1.*` : name));
}

beforeAll(async () => {
  cluster = await startCluster({ controlPlanes: 1, workers: 2, version: '1.30.5', os: 'mixed' });
}, 180_000);

afterAll(async () => {
  await cluster?.stop();
});

describe('rollback on Debian and RHEL nodes', () => {
  test('the upgrade moves every node to 1.31 and holds / versionlocks it there', async () => {
    expect(cluster.spec.nodes.map((n) => n.os).sort()).toEqual(['debian', 'debian', 'rhel']);
    beforeUpgrade = await apiState(cluster);
    upgrade = await runAction(upgradeInputs(cluster, { 'max-unavailable': '1' }), { env: { GITHUB_RUN_ID: '7101' }, timeoutMs: 600_000 });
    expect(upgrade.exitCode, tail(upgrade)).toBe(0);
    expect(upgrade.outputs['backup-id']).toMatch(/^\d{8}T\d{6}Z-7101$/);
    const target = (JSON.parse(upgrade.outputs.result ?? '{}') as { target?: string }).target ?? '';
    expect(target).toMatch(/^1\.31\.\d+$/);
    for (const node of cluster.spec.nodes) {
      expect(await holdsOf(node), node.name).toEqual(expectedHolds(node.os, target));
    }
    await changeApiAfterBackup(cluster);
    expect(await apiState(cluster)).toMatchObject({
      kubernetesVersion: `v${target}`,
      kubeProxyImage: `registry.k8s.io/kube-proxy:v${target}`,
      workloadAfterBackup: true,
    });
  }, 600_000);

  test('rollback puts every node back at 1.30.5, held / versionlocked at 1.30.5', async () => {
    const { command: _, 'target-version': __, ...access } = upgradeInputs(cluster);
    const rollback = await runAction(
      { ...access, command: 'rollback', 'confirm-rollback': 'sim', 'rollback-source': upgrade.outputs['backup-id'] ?? '' },
      { env: { GITHUB_RUN_ID: '7102' }, timeoutMs: 600_000 },
    );
    expect(rollback.exitCode, tail(rollback)).toBe(0);
    for (const node of (await cluster.status()).nodes) {
      expect(node.packages, node.name).toEqual({ kubeadm: '1.30.5', kubelet: '1.30.5', kubectl: '1.30.5' });
      expect(node.repoMinor, node.name).toBe('1.30');
      expect(node.ready, node.name).toBe(true);
    }
    for (const node of cluster.spec.nodes) {
      expect(await holdsOf(node), node.name).toEqual(expectedHolds(node.os, '1.30.5'));
    }
    // the API objects are as the upgrade's backup found them (taken before any node changed)
    expect(await apiState(cluster)).toEqual(beforeUpgrade);
  }, 600_000);
});
