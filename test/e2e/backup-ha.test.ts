// HA control planes with stacked etcd: the backup on GitHub Enterprise Server stays on the runner
// (backup-path), is decrypted there, and after an upgrade whose later stage fails (cp-2's `kubeadm upgrade
// node`), rollback from that runner copy restores every etcd member from the same snapshot into ONE cluster
// again (the members joined as kubeadm joins them, so each manifest's --initial-cluster differs), and the API
// objects are back as they were at backup time.
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { generateIdentity, identityToRecipient } from 'age-encryption';
import { kubeConfigFromText } from '../../src/adapters/cluster/read-cluster.ts';
import { parseBackupSettings } from '../backup/settings.ts';
import { collectKubeadmBackups, listKubeadmBackups } from '../../src/backup/kubeadm-backups.ts';
import { decryptBackup } from '../../src/backup/unpack.ts';
import { backupCommand, type BackupCommandResult } from '../../src/commands/backup.ts';
import { rollbackCommand } from '../../src/commands/rollback.ts';
import { startCluster, type SimCluster } from '../../sim/index.ts';
import {
  type ApiState,
  apiState,
  changeApiAfterBackup,
  etcdctlArgs,
  inventoryNodes,
  recordingLog,
  runOnNode,
  sshOpener,
} from '../backup/sim-helpers.ts';
import { secretsIn } from '../backup/secrets.ts';

let cluster: SimCluster;
const work = mkdtempSync(join(tmpdir(), 'backup-ha-'));
const record = recordingLog();
const texts: string[] = [];
const savedServerUrl = process.env.GITHUB_SERVER_URL;

beforeAll(async () => {
  cluster = await startCluster({ controlPlanes: 3, workers: 1 });
  process.env.GITHUB_SERVER_URL = 'https://github.acme.internal'; // GHES: @actions/artifact cannot upload
}, 180_000);

afterAll(async () => {
  if (savedServerUrl === undefined) delete process.env.GITHUB_SERVER_URL;
  else process.env.GITHUB_SERVER_URL = savedServerUrl;
  await cluster?.stop();
});

const onNode = (name: string, argv: string[], stdin?: string): Promise<string> => runOnNode(cluster, name, argv, stdin);

const member = (name: string) => cluster.spec.nodes.find((n) => n.name === name) as { address: string };
const etcdOn = (name: string, ...rest: string[]) => onNode(name, etcdctlArgs(member(name), ...rest));

describe('HA control planes with stacked etcd', () => {
  let identity: string;
  let backup: BackupCommandResult;
  let restoreDir: string;
  let atBackup: ApiState;

  test('on GHES the encrypted backup stays on the runner at backup-path', async () => {
    identity = await generateIdentity();
    await etcdOn('cp-1', 'put', '/ha/kept', 'one');
    await etcdOn('cp-1', 'put', '/ha/deleted-later', 'two');
    atBackup = await apiState(cluster);
    expect(atBackup).toMatchObject({ kubernetesVersion: 'v1.30.5', workloadAfterBackup: false });
    const settings = parseBackupSettings((name) => (({ 'backup-encryption-recipients': '' }) as Record<string, string>)[name] ?? '');
    settings.recipients = [await identityToRecipient(identity)];
    backup = await backupCommand(settings, {
      cluster: 'sim',
      runId: '77',
      nodes: inventoryNodes(cluster),
      runnerTemp: work,
      openShell: sshOpener(cluster),
      ...record,
    });
    texts.push(backup.summary, JSON.stringify(backup.outputs));
    expect(backup.outcome.location).toBe('runner');
    expect(backup.outputs['backup-path']).toBe(join(work, 'kubeadm-upgrade-backup', '77', 'artifact'));
    expect(backup.outputs['backup-artifact']).toBe('');
    expect(backup.summary).toContain('GitHub Enterprise Server');
    expect(backup.summary).toContain(backup.outputs['backup-path']);
    // only the first control plane takes the snapshot; every node has its files
    expect(backup.outcome.manifest.nodes.map((n) => [n.node, Boolean(n.etcd)])).toEqual([
      ['cp-1', true],
      ['cp-2', false],
      ['cp-3', false],
      ['worker-1', false],
    ]);
    restoreDir = join(work, 'restore');
    const manifest = await decryptBackup(
      join(backup.outputs['backup-path'] ?? '', 'kubeadm-backup-sim-run-77.tar.age'),
      [identity],
      restoreDir,
    );
    expect(manifest.id).toBe(backup.outcome.manifest.id);
  }, 240_000);

  test('upgrade cp-1; cp-2 fails later in its upgrade; keys change', async () => {
    const next = cluster.spec.published
      .filter((v) => v.startsWith('1.31.'))
      .sort((a, b) => Number(a.split('.')[2]) - Number(b.split('.')[2]))
      .at(-1) as string;
    const repo = 'deb [signed-by=/etc/apt/keyrings/kubernetes-apt-keyring.gpg] https://pkgs.k8s.io/core:/stable:/v1.31/deb/ /\n';
    cluster.setFaults([
      {
        type: 'command-fails',
        node: 'cp-2',
        match: 'kubeadm upgrade node',
        exitCode: 1,
        stderr: 'error execution phase control-plane: injected failure',
      },
    ]);
    for (const node of ['cp-1', 'cp-2']) {
      await onNode(node, ['sh', '-c', 'cat > /etc/apt/sources.list.d/kubernetes.list'], repo);
      await onNode(node, ['apt-get', 'update']);
      await onNode(node, ['apt-get', 'install', '-y', '--allow-change-held-packages', `kubeadm=${next}-1.1`]);
    }
    await onNode('cp-1', ['kubeadm', 'upgrade', 'apply', `v${next}`, '-y']);
    await onNode('cp-1', ['apt-get', 'install', '-y', '--allow-change-held-packages', `kubelet=${next}-1.1`, `kubectl=${next}-1.1`]);
    await onNode('cp-1', ['systemctl', 'restart', 'kubelet']);
    await expect(onNode('cp-2', ['kubeadm', 'upgrade', 'node'])).rejects.toThrow(/injected failure/);
    cluster.setFaults([]);
    await etcdOn('cp-1', 'put', '/ha/kept', 'changed');
    await etcdOn('cp-1', 'del', '/ha/deleted-later');
    await changeApiAfterBackup(cluster);
    expect(await apiState(cluster)).toMatchObject({ kubernetesVersion: `v${next}`, workloadAfterBackup: true });
    // kubeadm's own backups of the apply are listed, and collected into this run's folder on the node
    const shell = await sshOpener(cluster)(inventoryNodes(cluster)[0]!);
    try {
      const folders = await listKubeadmBackups(shell);
      expect(folders.map((f) => f.path).some((p) => p.startsWith('/etc/kubernetes/tmp/kubeadm-backup-manifests-'))).toBe(true);
      const collected = await collectKubeadmBackups(shell, backup.outcome.manifest.id, undefined);
      expect(collected.onNode?.path).toBe(`${backup.outcome.manifest.nodes[0]?.nodeDir}/kubeadm-backups.tar`);
      expect(collected.onNode?.sha256).toMatch(/^[0-9a-f]{64}$/);
    } finally {
      await shell.close();
    }
  }, 300_000);

  test('rollback from the decrypted runner copy restores every member from the same snapshot', async () => {
    const { report, summary } = await rollbackCommand(
      { confirmRollback: 'sim' },
      {
        cluster: 'sim',
        nodes: inventoryNodes(cluster),
        source: { kind: 'runner', dir: restoreDir },
        runnerTemp: work,
        kubeConfig: kubeConfigFromText(readFileSync(cluster.kubeconfigPath, 'utf8')),
        openShell: sshOpener(cluster),
        log: record.log,
        waitTimeoutMs: 180_000,
      },
    );
    texts.push(summary);
    expect(report.controlPlanes).toEqual(['cp-1', 'cp-2', 'cp-3']);
    expect(report.workers).toEqual([]);
    for (const name of ['cp-1', 'cp-2', 'cp-3']) {
      // serializable reads answer from this member's own data
      expect(await etcdOn(name, 'get', '/ha/', '--prefix', '--consistency=s')).toBe('/ha/deleted-later\ntwo\n/ha/kept\none\n');
    }
    const members = await etcdOn('cp-1', 'member', 'list');
    expect(members.trim().split('\n')).toHaveLength(3);
    // one cluster again: a write through any member is read from every other member's own data
    await etcdOn('cp-3', 'put', '/ha/after-rollback', 'x');
    for (const name of ['cp-1', 'cp-2']) expect(await etcdOn(name, 'get', '/ha/after-rollback', '--print-value-only')).toBe('x\n');
    await etcdOn('cp-3', 'del', '/ha/after-rollback');
    // the API objects went back with etcd
    expect(await apiState(cluster)).toEqual(atBackup);
    const status = await cluster.status();
    for (const node of status.nodes) {
      expect([node.name, node.packages?.kubeadm, node.packages?.kubelet, node.repoMinor, node.ready]).toEqual([
        node.name,
        '1.30.5',
        '1.30.5',
        '1.30',
        true,
      ]);
    }
  }, 480_000);

  test('rollback from the backup on the nodes copies the snapshot from cp-1 to the other members', async () => {
    await etcdOn('cp-2', 'put', '/ha/kept', 'changed-again');
    await etcdOn('cp-3', 'put', '/ha/extra', 'x');
    await changeApiAfterBackup(cluster);
    const { report } = await rollbackCommand(
      { confirmRollback: 'sim' },
      {
        cluster: 'sim',
        nodes: inventoryNodes(cluster),
        source: { kind: 'node', id: backup.outcome.manifest.id },
        runnerTemp: work,
        kubeConfig: kubeConfigFromText(readFileSync(cluster.kubeconfigPath, 'utf8')),
        openShell: sshOpener(cluster),
        log: record.log,
        waitTimeoutMs: 180_000,
      },
    );
    expect(report.backupId).toBe(backup.outcome.manifest.id);
    for (const name of ['cp-1', 'cp-2', 'cp-3']) {
      expect(await etcdOn(name, 'get', '/ha/', '--prefix', '--consistency=s')).toBe('/ha/deleted-later\ntwo\n/ha/kept\none\n');
    }
    expect(await apiState(cluster)).toEqual(atBackup);
    // the runner copy of the snapshot made for this is gone again
    expect(existsSync(join(work, 'kubeadm-upgrade-rollback', 'etcd-snapshot.db'))).toBe(false);
  }, 480_000);

  test('nothing logged, summarised or output holds a secret', () => {
    expect(secretsIn([...record.lines, ...texts].join('\n'), { clusterDir: cluster.dir, extra: [identity] })).toEqual([]);
  });
});
