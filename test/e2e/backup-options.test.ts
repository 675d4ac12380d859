// What leaves the node and what stays: without recipients only the manifest is uploaded; `unencrypted`
// uploads the plain archive and warns; `none` uploads nothing. Retention keeps the newest backups this
// action made and never touches other folders. A host without etcdctl snapshots inside the etcd container.
// A snapshot changed after it was verified makes rollback refuse before it stops anything.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { kubeConfigFromText } from '../../src/adapters/cluster/read-cluster.ts';
import type { NodeShell } from '../../src/adapters/transport/node-shell.ts';
import type { InventoryNode } from '../../src/core/inventory.ts';
import { parseBackupSettings } from '../backup/settings.ts';
import { NODE_BACKUP_ROOT } from '../../src/backup/retention.ts';
import { backupCommand } from '../../src/commands/backup.ts';
import { rollbackCommand } from '../../src/commands/rollback.ts';
import { startCluster, type SimCluster } from '../../sim/index.ts';
import { startArtifactService, type ArtifactServiceStandIn } from '../backup/artifact-service.ts';
import { etcdctlArgs, inventoryNodes, recordingLog, runOnNode, sshOpener } from '../backup/sim-helpers.ts';
import { secretsIn } from '../backup/secrets.ts';

let cluster: SimCluster;
let service: ArtifactServiceStandIn;
const work = mkdtempSync(join(tmpdir(), 'backup-opts-'));
const record = recordingLog();
const texts: string[] = [];

beforeAll(async () => {
  [cluster, service] = await Promise.all([startCluster({ controlPlanes: 1, workers: 1 }), startArtifactService()]);
  Object.assign(process.env, service.env);
}, 120_000);

afterAll(async () => {
  await service?.close();
  await cluster?.stop();
});

const onNode = (name: string, argv: string[], stdin?: string): Promise<string> => runOnNode(cluster, name, argv, stdin);

function run(runId: string, inputs: Record<string, string>, openShell = sshOpener(cluster)) {
  const settings = parseBackupSettings((name) => inputs[name] ?? '');
  return backupCommand(settings, { cluster: 'sim', runId, nodes: inventoryNodes(cluster), runnerTemp: work, openShell, ...record }).then(
    (result) => {
      texts.push(result.summary, JSON.stringify(result.outputs));
      return result;
    },
  );
}

function zipNames(artifactName: string): string[] {
  const zip = join(work, `${artifactName}.zip`);
  writeFileSync(zip, service.artifacts.get(artifactName)?.bytes ?? Buffer.alloc(0));
  return execFileSync('unzip', ['-Z1', zip], { encoding: 'utf8' }).trim().split('\n').sort();
}

describe('where the backup goes', () => {
  test('without recipients nothing secret leaves the node; the summary says where and why', async () => {
    await onNode('cp-1', ['install', '-d', `${NODE_BACKUP_ROOT}/20200101T000000Z-not-ours`, `${NODE_BACKUP_ROOT}/notes`]);
    const result = await run('501', { 'backup-keep': '2' });
    expect(result.outcome.location).toBe('node');
    expect(result.summary).toContain('no backup-encryption-recipients are set, so nothing secret leaves the nodes');
    expect(result.summary).toContain(`cp-1:${NODE_BACKUP_ROOT}/`);
    expect(zipNames(result.outputs['backup-artifact'] ?? '')).toEqual(['manifest.json']);
    expect(result.outcome.manifest.nodes.every((n) => !n.fetched)).toBe(true);
  }, 120_000);

  test('backup-upload: unencrypted uploads the plain archive and warns', async () => {
    const result = await run('502', { 'backup-upload': 'unencrypted', 'backup-keep': '2' });
    expect(result.outcome.location).toBe('artifact');
    expect(result.summary).toMatch(/WARNING[\s\S]*every secret of the cluster/);
    expect(zipNames(result.outputs['backup-artifact'] ?? '')).toEqual(['kubeadm-backup-sim-run-502.tar', 'manifest.json']);
    expect(record.lines.some((l) => l.startsWith('warning: backup-upload is unencrypted'))).toBe(true);
  }, 120_000);

  test('without etcdctl on the host the snapshot is taken inside the etcd container; retention keeps the newest two', async () => {
    const open = sshOpener(cluster);
    const withoutHostEtcdctl = async (node: InventoryNode): Promise<NodeShell> => {
      const shell = await open(node);
      return {
        node: shell.node,
        run: (argv, opts) =>
          argv.join(' ') === 'sh -c command -v etcdctl' ? Promise.resolve({ code: 1, stdout: '', stderr: '' }) : shell.run(argv, opts),
        close: () => shell.close(),
      };
    };
    const uploadsBefore = service.artifacts.size;
    const result = await run('503', { 'backup-upload': 'none', 'backup-keep': '2' }, withoutHostEtcdctl);
    expect(service.artifacts.size).toBe(uploadsBefore);
    const etcd = result.outcome.manifest.nodes[0]?.etcd;
    expect(etcd?.via).toBe('crictl');
    expect(etcd?.status.totalKey).toBeGreaterThan(0);
    const listed = (await onNode('cp-1', ['ls', NODE_BACKUP_ROOT])).trim().split('\n').sort();
    expect(listed.filter((d) => /-50[123]$/.test(d))).toHaveLength(2);
    expect(listed.some((d) => d.endsWith('-501'))).toBe(false);
    expect(listed).toContain('20200101T000000Z-not-ours');
    expect(listed).toContain('notes');
    // nothing was left in the etcd data dir
    expect(await onNode('cp-1', ['ls', '/var/lib/etcd'])).toBe('member\n');
  }, 120_000);

  test('rollback refuses a snapshot that changed after it was verified, before stopping anything', async () => {
    const newest = (await onNode('cp-1', ['ls', NODE_BACKUP_ROOT]))
      .trim()
      .split('\n')
      .filter((d) => d.endsWith('-503'))[0];
    await onNode('cp-1', ['sh', '-c', `printf x >> ${NODE_BACKUP_ROOT}/${newest}/etcd-snapshot.db`]);
    const attempt = rollbackCommand(
      { confirmRollback: 'sim' },
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
    await expect(attempt).rejects.toThrow(/refusing to roll back: the snapshot .* is not the verified one/);
    expect((await onNode('cp-1', ['ls', '/etc/kubernetes/manifests'])).trim().split('\n')).toContain('etcd.yaml');
    // etcd still serves (3.4's endpoint health reports on stderr)
    expect(
      await onNode('cp-1', [
        'sh',
        '-c',
        `${etcdctlArgs(cluster.spec.nodes[0] as { address: string }, 'endpoint', 'health').join(' ')} 2>&1`,
      ]),
    ).toContain('is healthy');
  }, 120_000);

  test('nothing logged, summarised or output holds a secret', () => {
    // the scan finds a key when there is one (so an empty result means something)
    const caKey = readFileSync(join(cluster.dir, 'pki', 'ca.key'), 'utf8')
      .split('\n')
      .slice(1, 3)
      .join('\n');
    expect(secretsIn(`log line ${caKey}`, { clusterDir: cluster.dir })).not.toEqual([]);
    expect(secretsIn([...record.lines, ...texts].join('\n'), { clusterDir: cluster.dir })).toEqual([]);
  });
});
