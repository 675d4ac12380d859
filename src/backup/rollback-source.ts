// Where a rollback takes the recorded state from: the backup folders on the nodes (the newest this action
// made, or a given id), or a decrypted artifact on the runner (manifest.json + NODE/files.tar + NODE/etcd-snapshot.db).
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { RollbackSource } from '../core/backup-settings.ts';
import type { InventoryNode } from '../core/inventory.ts';
import type { NodeShell } from '../adapters/transport/node-shell.ts';
import { MANIFEST_FILE } from './backup.ts';
import { NODE_RECORD_NAME } from './node-backup.ts';
import { runAsRoot } from './remote.ts';
import { listOwnBackups, nodeBackupDir } from './retention.ts';
import type { BackupManifest, NodeBackup } from './types.ts';

// The type is the core's (settings parse it); re-exported for the rollback command and src/backup/rollback.ts.
export type { RollbackSource } from '../core/backup-settings.ts';

export interface LoadedRecord {
  manifest: BackupManifest;
  /** for a runner source: the folder holding NODE/<file> */
  runnerDir?: string;
}

export async function loadRecord(
  source: RollbackSource,
  nodes: InventoryNode[],
  open: (n: InventoryNode) => Promise<NodeShell>,
): Promise<LoadedRecord> {
  if (source.kind === 'runner') {
    const text = await readFile(join(source.dir, MANIFEST_FILE), 'utf8').catch(() => {
      throw new Error(`${source.dir} holds no ${MANIFEST_FILE}: decrypt and unpack the backup artifact there first (docs/restore.md)`);
    });
    return { manifest: JSON.parse(text) as BackupManifest, runnerDir: source.dir };
  }
  const first = nodes.find((n) => n.role === 'control-plane');
  if (!first) throw new Error('rollback needs a control-plane node in the inventory');
  const records: NodeBackup[] = [];
  let id = source.id;
  for (const node of nodes) {
    const shell = await open(node);
    try {
      if (!id) {
        const own = await listOwnBackups(shell);
        id = own.at(-1);
        if (!id) throw new Error(`${node.name} holds no backup made by this action: nothing to roll back to`);
      }
      const text = await runAsRoot(shell, ['cat', '--', `${nodeBackupDir(id)}/${NODE_RECORD_NAME}`], `reading backup ${id}`);
      records.push(JSON.parse(text) as NodeBackup);
    } finally {
      await shell.close();
    }
  }
  const manifest: BackupManifest = {
    format: 'kubeadm-upgrade-action/backup@1',
    id: id ?? '',
    cluster: '',
    runId: '',
    createdAt: '',
    nodes: records,
  };
  return { manifest };
}
