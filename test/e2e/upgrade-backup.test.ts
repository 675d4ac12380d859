// The backup inside `command: upgrade`, and `command: rollback`, through the built bundle as the runner runs it:
// known keys in the simulator's real etcd, an upgrade to 1.31 with age recipients on GitHub Enterprise Server
// (the encrypted archive stays on the runner at backup-path), a worker's `kubeadm upgrade node` failing, the keys
// changed and deleted, then rollback with confirm-rollback to the failed run's backup-id: keys, manifests and
// package versions are the recorded ones and every node is Ready. Every log, summary and output is scanned for
// the cluster's private keys, the SSH key, the age identity and the planted etcd values.
import { execFileSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { generateIdentity, identityToRecipient } from 'age-encryption';
import { decryptBackup } from '../../src/backup/unpack.ts';
import { startCluster, type SimCluster } from '../../sim/index.ts';
import { buildBundle, runAction, type ActionResult } from '../support/action-runner.ts';
import { etcdctlArgs, runOnNode } from '../backup/sim-helpers.ts';
import { secretsIn } from '../backup/secrets.ts';
import { upgradeInputs } from './upgrade-helpers.ts';

const PLANTED = 'TOPSECRET-upgrade-backup-value-91c2';
let cluster: SimCluster;
let bundle: string;
let identity: string;
const runs: ActionResult[] = [];

const onNode = (name: string, argv: string[], stdin?: string): Promise<string> => runOnNode(cluster, name, argv, stdin);

const etcd = (...rest: string[]) => onNode('cp-1', etcdctlArgs(cluster.spec.nodes[0]!, ...rest));

function leases(): string[] {
  const out = execFileSync(
    '/usr/bin/kubectl',
    ['--kubeconfig', cluster.kubeconfigPath, '-n', 'kube-system', 'get', 'leases', '-o', 'name'],
    { encoding: 'utf8' },
  );
  return out.split('\n').filter(Boolean);
}

beforeAll(async () => {
  [bundle, cluster] = await Promise.all([buildBundle(), startCluster({ controlPlanes: 1, workers: 2, version: '1.30.5' })]);
  identity = await generateIdentity();
}, 180_000);

afterAll(async () => {
  await cluster?.stop();
});

describe('upgrade with a backup, a failure, then rollback', () => {
  let originalManifests: string;
  let failed: ActionResult;

  test('the upgrade backs up first, then stops at the failing worker; the summary says where the backup is', async () => {
    await etcd('put', '/demo/kept', 'one');
    await etcd('put', '/demo/deleted-later', 'two');
    await etcd('put', '/registry/secrets/default/db', PLANTED);
    originalManifests = await onNode('cp-1', ['sh', '-c', 'cat /etc/kubernetes/manifests/*.yaml']);
    cluster.setFaults([
      { type: 'command-fails', node: 'worker-2', match: 'kubeadm upgrade node', stderr: 'simulated failure of kubeadm upgrade node' },
    ]);

    failed = await runAction(
      upgradeInputs(cluster, {
        'backup-encryption-recipients': `${await identityToRecipient(identity)} # ops`,
        'collect-kubeadm-backups': 'true',
        'max-unavailable': '1',
      }),
      { bundle, env: { GITHUB_RUN_ID: '5151' }, timeoutMs: 600_000 },
    );
    runs.push(failed);
    cluster.setFaults([]);

    expect(failed.exitCode, failed.stdout.slice(-3000)).toBe(1);
    const id = failed.outputs['backup-id'] ?? '';
    expect(id, failed.summary + failed.stdout.slice(-4000)).toMatch(/^\d{8}T\d{6}Z-5151$/);
    expect(failed.outputs['backup-artifact']).toBe('');
    // GHES (GITHUB_SERVER_URL is not github.com): the encrypted archive and its manifest stay on the runner
    const path = failed.outputs['backup-path'] ?? '';
    // with collect-kubeadm-backups, kubeadm's folders from cp-1 sit beside it, encrypted as well
    expect(readdirSync(path).sort()).toEqual([
      'kubeadm-backup-sim-run-5151-kubeadm-cp-1.tar.age',
      'kubeadm-backup-sim-run-5151.tar.age',
      'manifest.json',
    ]);
    expect(failed.summary).toContain(`### Backup \`${id}\``);
    expect(failed.summary).toMatch(/GitHub Enterprise Server.*kept on the runner at/);
    expect(failed.summary).toMatch(/worker-2.*failed at \*\*kubeadm-upgrade\*\*/);
    // the backup came before the first control plane's apply: its snapshot has the keys as planted
    const restoreDir = join(failed.dir, 'restore');
    const manifest = await decryptBackup(join(path, 'kubeadm-backup-sim-run-5151.tar.age'), [identity], restoreDir);
    expect(manifest.id).toBe(id);
    expect(manifest.nodes.map((n) => [n.node, n.versions.packages.kubeadm])).toEqual([
      ['cp-1', '1.30.5-1.1'],
      ['worker-1', '1.30.5-1.1'],
      ['worker-2', '1.30.5-1.1'],
    ]);
    // kubeadm's own backup folders are listed in the run record, and collected into the node's backup folder
    const notes = (JSON.parse(failed.outputs.result ?? '{}') as { notes: { text: string }[] }).notes.map((n) => n.text);
    expect(notes.find((t) => t.startsWith('cp-1: kubeadm left'))).toMatch(
      /\/etc\/kubernetes\/tmp\/kubeadm-backup-.*collected into \/var\/lib\/kubeadm-upgrade-action\/backups\/.*\/kubeadm-backups\.tar on the node/,
    );
    expect(await onNode('cp-1', ['ls', `/var/lib/kubeadm-upgrade-action/backups/${id}`])).toContain('kubeadm-backups.tar');
    const status = await cluster.status();
    expect(status.nodes.find((n) => n.name === 'cp-1')?.packages?.kubeadm).toMatch(/^1\.31\./);
  }, 600_000);

  test('rollback without confirm-rollback is refused before anything connects, naming the input', async () => {
    const { command: _, 'target-version': __, ...access } = upgradeInputs(cluster);
    const refused = await runAction({ ...access, command: 'rollback' }, { bundle });
    runs.push(refused);
    expect(refused.exitCode).toBe(1);
    expect(refused.stdout).toMatch(
      /confirm-rollback: is empty, and command rollback rewinds the whole cluster.*Fix: set confirm-rollback to the cluster's name/,
    );
    expect(refused.stdout).toContain('no node was contacted');
  }, 120_000);

  test("rollback to the failed run's backup: keys, manifests, package versions back; nodes Ready", async () => {
    await etcd('put', '/demo/kept', 'changed');
    await etcd('del', '/demo/deleted-later');
    await etcd('put', '/demo/added-later', 'three');
    const { command: _, 'target-version': __, ...access } = upgradeInputs(cluster);
    const rollback = await runAction(
      { ...access, command: 'rollback', 'confirm-rollback': 'sim', 'rollback-source': failed.outputs['backup-id'] ?? '' },
      { bundle, env: { GITHUB_RUN_ID: '5152' }, timeoutMs: 600_000 },
    );
    runs.push(rollback);
    expect(rollback.exitCode, rollback.stdout.slice(-3000)).toBe(0);
    expect(rollback.outputs['backup-id']).toBe(failed.outputs['backup-id']);
    expect(rollback.summary).toContain(`Rollback to backup \`${failed.outputs['backup-id']}\``);

    expect(await etcd('get', '/demo/', '--prefix')).toBe('/demo/deleted-later\ntwo\n/demo/kept\none\n');
    expect(await onNode('cp-1', ['sh', '-c', 'cat /etc/kubernetes/manifests/*.yaml'])).toBe(originalManifests);
    for (const node of (await cluster.status()).nodes) {
      expect(node.packages, node.name).toEqual({ kubeadm: '1.30.5', kubelet: '1.30.5', kubectl: '1.30.5' });
      expect(node.repoMinor, node.name).toBe('1.30');
      expect(node.ready, node.name).toBe(true);
    }
    // the lock restored from the snapshot (held by the failed run) is gone, so a new run can start at once
    expect(leases().filter((l) => l.includes('kubeadm-upgrade-action'))).toEqual([]);
  }, 600_000);

  test('no log, summary or output holds a secret', () => {
    // `::add-mask::` lines are the runner's masking commands (consumed by the runner, never shown in the log)
    const logged = (out: string) =>
      out
        .split('\n')
        .filter((l) => !l.startsWith('::add-mask::'))
        .join('\n');
    const text = runs.flatMap((r) => [logged(r.stdout), r.stderr, r.summary, JSON.stringify(r.outputs)]).join('\n');
    expect(secretsIn(text, { clusterDir: cluster.dir, extra: [identity, PLANTED] })).toEqual([]);
    expect(text.length).toBeGreaterThan(1000);
  });
});
