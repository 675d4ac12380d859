// Backup and rollback against the simulator's real etcd: known keys written, backed up (snapshot status,
// checksums, fetch over SSH), uploaded through the real @actions/artifact to a local stand-in of the
// artifact service (only .age data plus the manifest; decrypts with the right identity, not another), then
// an upgrade to the next minor, keys changed and deleted, and a rollback that brings keys, manifests,
// package versions and the API objects (kubeadm-config, kube-proxy, CoreDNS; a workload made after the backup
// gone) back with every node Ready. Everything the code logged, summarised or output is scanned
// for secrets.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { generateIdentity, identityToRecipient } from 'age-encryption';
import { kubeConfigFromText } from '../../src/adapters/cluster/read-cluster.ts';
import { decryptFile } from '../../src/backup/encrypt.ts';
import { parseBackupSettings } from '../backup/settings.ts';
import { readTar } from '../../src/backup/tar.ts';
import type { BackupManifest } from '../../src/backup/types.ts';
import { backupCommand, type BackupCommandResult } from '../../src/commands/backup.ts';
import { rollbackCommand } from '../../src/commands/rollback.ts';
import { startCluster, type SimCluster } from '../../sim/index.ts';
import { startArtifactService, type ArtifactServiceStandIn } from '../backup/artifact-service.ts';
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
let service: ArtifactServiceStandIn;
const work = mkdtempSync(join(tmpdir(), 'backup-e2e-'));
const record = recordingLog();
const texts: string[] = []; // summaries and outputs, scanned at the end

beforeAll(async () => {
  [cluster, service] = await Promise.all([startCluster({ controlPlanes: 1, workers: 1 }), startArtifactService()]);
  Object.assign(process.env, service.env);
}, 120_000);

afterAll(async () => {
  await service?.close();
  await cluster?.stop();
});

const onNode = (name: string, argv: string[], stdin?: string): Promise<string> => runOnNode(cluster, name, argv, stdin);

const cp = () => cluster.spec.nodes[0] as { name: string; address: string };
const etcd = (...rest: string[]) => onNode('cp-1', etcdctlArgs(cp(), ...rest));

function inputs(values: Record<string, string>): (name: string) => string {
  return (name) => values[name] ?? '';
}

describe('backup, upgrade, rollback', () => {
  let identity: string;
  let otherIdentity: string;
  let backup: BackupCommandResult;
  let originalApiserverManifest: string;
  let atBackup: ApiState;

  test('backs up a control plane and a worker; the artifact holds only age data and the manifest', async () => {
    identity = await generateIdentity();
    otherIdentity = await generateIdentity();
    await etcd('put', '/demo/kept', 'one');
    await etcd('put', '/demo/deleted-later', 'two');
    await etcd('put', '/registry/secrets/default/db', 'TOPSECRET-etcd-value-7f3a');
    originalApiserverManifest = await onNode('cp-1', ['cat', '/etc/kubernetes/manifests/kube-apiserver.yaml']);
    atBackup = await apiState(cluster);
    expect(atBackup).toMatchObject({
      kubernetesVersion: 'v1.30.5',
      kubeProxyImage: 'registry.k8s.io/kube-proxy:v1.30.5',
      workloadAfterBackup: false,
    });

    const settings = parseBackupSettings(
      inputs({
        'backup-encryption-recipients': `${await identityToRecipient(identity)}  # ops team`,
        'backup-keep': '2',
        'artifact-retention-days': '5',
      }),
    );
    backup = await backupCommand(settings, {
      cluster: 'sim',
      runId: '1001',
      nodes: inventoryNodes(cluster),
      runnerTemp: work,
      openShell: sshOpener(cluster),
      ...record,
    });
    texts.push(backup.summary, JSON.stringify(backup.outputs));

    const { manifest } = backup.outcome;
    expect(backup.outcome.location).toBe('artifact');
    const snap = manifest.nodes.find((n) => n.node === 'cp-1')?.etcd;
    expect(snap?.status.totalKey).toBeGreaterThanOrEqual(3);
    expect(snap?.file.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(manifest.nodes.find((n) => n.node === 'worker-1')?.paths).toEqual([
      '/var/lib/kubelet/config.yaml',
      '/var/lib/kubelet/kubeadm-flags.env',
      '/etc/apt/sources.list.d/kubernetes.list',
    ]);
    // the node's own sha256sum agrees with the recorded checksum
    const onNodeSum = await onNode('cp-1', ['sha256sum', `${manifest.nodes[0]?.nodeDir}/etcd-snapshot.db`]);
    expect(onNodeSum.split(' ')[0]).toBe(snap?.file.sha256);

    const artifact = service.artifacts.get(backup.outputs['backup-artifact'] ?? '');
    expect(artifact?.finalized).toBe(true);
    expect(backup.outputs['backup-artifact']).toBe('kubeadm-backup-sim-run-1001');
    const zip = join(work, 'artifact.zip');
    writeFileSync(zip, artifact?.bytes ?? Buffer.alloc(0));
    const listed = execFileSync('unzip', ['-Z1', zip], { encoding: 'utf8' }).trim().split('\n').sort();
    expect(listed).toEqual(['kubeadm-backup-sim-run-1001.tar.age', 'manifest.json']);
    const unpacked = join(work, 'downloaded');
    execFileSync('unzip', ['-q', zip, '-d', unpacked]);
    const sealed = readFileSync(join(unpacked, 'kubeadm-backup-sim-run-1001.tar.age'));
    expect(sealed.subarray(0, 21).toString()).toBe('age-encryption.org/v1');
    expect(sealed.includes(Buffer.from('PRIVATE KEY'))).toBe(false);
    const published = JSON.parse(readFileSync(join(unpacked, 'manifest.json'), 'utf8')) as BackupManifest;
    expect(published.archive?.encrypted).toBe(true);

    // decrypts with the matching identity, and the snapshot inside is the verified one
    await decryptFile(join(unpacked, 'kubeadm-backup-sim-run-1001.tar.age'), [identity], join(work, 'plain.tar'));
    const entries = readTar(readFileSync(join(work, 'plain.tar')));
    expect(entries.map((e) => e.name).sort()).toEqual(['cp-1/etcd-snapshot.db', 'cp-1/files.tar', 'manifest.json', 'worker-1/files.tar']);
    const inner = entries.find((e) => e.name === 'cp-1/etcd-snapshot.db');
    const { createHash } = await import('node:crypto');
    expect(
      createHash('sha256')
        .update(inner?.data ?? Buffer.alloc(0))
        .digest('hex'),
    ).toBe(snap?.file.sha256);
    const files = execFileSync('tar', ['-t'], { input: entries.find((e) => e.name === 'cp-1/files.tar')?.data, encoding: 'utf8' });
    expect(files).toContain('etc/kubernetes/pki/etcd/ca.key');
    expect(files).toContain('etc/kubernetes/manifests/etcd.yaml');
    // and not with another identity
    await expect(
      decryptFile(join(unpacked, 'kubeadm-backup-sim-run-1001.tar.age'), [otherIdentity], join(work, 'wrong.tar')),
    ).rejects.toThrow(/cannot decrypt/);
    // the copies came over SFTP on the same SSH connection
    expect(readFileSync(join(cluster.dir, 'nodes', 'cp-1', 'commands.log'), 'utf8')).toContain('sftp-server');
    // no plaintext copy left on the runner
    expect(readdirSync(join(work, 'kubeadm-upgrade-backup', '1001')).sort()).toEqual(['artifact']);
  }, 120_000);

  test('upgrade to the next minor, then change and delete keys', async () => {
    const next = cluster.spec.published
      .filter((v) => v.startsWith('1.31.'))
      .sort((a, b) => Number(a.split('.')[2]) - Number(b.split('.')[2]))
      .at(-1);
    expect(next).toBeDefined();
    const repo = 'deb [signed-by=/etc/apt/keyrings/kubernetes-apt-keyring.gpg] https://pkgs.k8s.io/core:/stable:/v1.31/deb/ /\n';
    for (const node of ['cp-1', 'worker-1']) {
      await onNode(node, ['sh', '-c', 'cat > /etc/apt/sources.list.d/kubernetes.list'], repo);
      await onNode(node, ['apt-get', 'update']);
      await onNode(node, ['apt-get', 'install', '-y', '--allow-change-held-packages', `kubeadm=${next}-1.1`]);
      await onNode(node, node === 'cp-1' ? ['kubeadm', 'upgrade', 'apply', `v${next}`, '-y'] : ['kubeadm', 'upgrade', 'node']);
      await onNode(node, ['apt-get', 'install', '-y', '--allow-change-held-packages', `kubelet=${next}-1.1`, `kubectl=${next}-1.1`]);
      await onNode(node, ['systemctl', 'restart', 'kubelet']);
    }
    expect(await onNode('cp-1', ['cat', '/etc/kubernetes/manifests/kube-apiserver.yaml'])).toContain(`v${next}`);
    // the upgrade rewrote kubeadm's objects in the API; a workload arrives after the backup
    await changeApiAfterBackup(cluster);
    const upgraded = await apiState(cluster);
    expect(upgraded).toMatchObject({
      kubernetesVersion: `v${next}`,
      kubeProxyImage: `registry.k8s.io/kube-proxy:v${next}`,
      workloadAfterBackup: true,
    });
    expect(upgraded.corednsSpec).toMatchObject({ replicas: 3 });
    expect(atBackup.corednsSpec).toMatchObject({ replicas: 2 });
    await etcd('put', '/demo/kept', 'changed');
    await etcd('del', '/demo/deleted-later');
    await etcd('put', '/demo/added-later', 'three');
    expect(await etcd('get', '/demo/kept', '--print-value-only')).toBe('changed\n');
  }, 240_000);

  test('rollback refuses without confirm-rollback set to the cluster name', async () => {
    const run = rollbackCommand(
      { confirmRollback: 'prod' },
      {
        cluster: 'sim',
        nodes: inventoryNodes(cluster),
        source: { kind: 'node' },
        runnerTemp: work,
        kubeConfig: kubeConfigFromText(readFileSync(cluster.kubeconfigPath, 'utf8')),
        openShell: sshOpener(cluster),
        log: record.log,
      },
    );
    await expect(run).rejects.toThrow(/confirm-rollback to the cluster's name, "sim"/);
  });

  test('rollback restores the keys, the manifests and the package versions; nodes are Ready', async () => {
    const { report, summary } = await rollbackCommand(
      { confirmRollback: 'sim' },
      {
        cluster: 'sim',
        nodes: inventoryNodes(cluster),
        source: { kind: 'node' },
        runnerTemp: work,
        kubeConfig: kubeConfigFromText(readFileSync(cluster.kubeconfigPath, 'utf8')),
        openShell: sshOpener(cluster),
        log: record.log,
        waitTimeoutMs: 120_000,
      },
    );
    texts.push(summary);
    expect(report.workers).toEqual(['worker-1']);
    const values = await etcd('get', '/demo/', '--prefix');
    expect(values).toBe('/demo/deleted-later\ntwo\n/demo/kept\none\n');
    // the API objects went back with etcd: kubeadm-config, kube-proxy, CoreDNS; the later workload is gone
    expect(await apiState(cluster)).toEqual(atBackup);
    expect(await onNode('cp-1', ['cat', '/etc/kubernetes/manifests/kube-apiserver.yaml'])).toBe(originalApiserverManifest);
    const status = await cluster.status();
    for (const node of status.nodes) {
      expect(node.packages).toEqual({ kubeadm: '1.30.5', kubelet: '1.30.5', kubectl: '1.30.5' });
      expect(node.repoMinor).toBe('1.30');
      expect(node.ready).toBe(true);
    }
    // the failed data dir is kept aside
    expect(await onNode('cp-1', ['ls', '/var/lib'])).toMatch(/etcd\.failed-\d{8}T\d{6}Z/);
  }, 300_000);

  test('nothing the code logged, summarised or output holds a secret', () => {
    const leaks = secretsIn([...record.lines, ...texts].join('\n'), {
      clusterDir: cluster.dir,
      extra: [identity, otherIdentity, 'TOPSECRET-etcd-value-7f3a'],
    });
    expect(leaks).toEqual([]);
    expect(record.lines.length).toBeGreaterThan(5);
  });
});
