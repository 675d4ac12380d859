// The backup folders on a node. Each one this action makes carries a marker file; retention looks only at
// folders with that marker, so nothing the action did not make is ever deleted.
import type { NodeShell } from '../adapters/transport/node-shell.ts';
import { isBackupId } from '../core/backup-settings.ts';
import { runAsRoot, tryAsRoot } from './remote.ts';

export const NODE_BACKUP_ROOT = '/var/lib/kubeadm-upgrade-action/backups';
export const MARKER = '.made-by-kubeadm-upgrade-action';

export function backupId(now: Date, runId: string): string {
  const stamp = now
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, 'Z');
  const safeRun = runId.replace(/[^A-Za-z0-9._-]/g, '-') || 'local';
  return `${stamp}-${safeRun}`;
}

export function nodeBackupDir(id: string, root = NODE_BACKUP_ROOT): string {
  if (!isBackupId(id)) throw new Error(`"${id}" is not a backup id (expected YYYYMMDDTHHMMSSZ-RUN)`);
  return `${root}/${id}`;
}

/** Creates the folder (0700, root) with its marker. */
export async function createBackupDir(shell: NodeShell, id: string, marker: object, root = NODE_BACKUP_ROOT): Promise<string> {
  const dir = nodeBackupDir(id, root);
  await runAsRoot(shell, ['install', '-d', '-m', '0700', '--', root, dir], 'creating the backup folder');
  await runAsRoot(shell, ['sh', '-c', 'umask 077 && cat > "$1"', 'sh', `${dir}/${MARKER}`], 'marking the backup folder', {
    stdin: `${JSON.stringify(marker)}\n`,
  });
  return dir;
}

/** Backup ids on the node that this action made (marker present), oldest first. */
export async function listOwnBackups(shell: NodeShell, root = NODE_BACKUP_ROOT): Promise<string[]> {
  const found = await tryAsRoot(shell, ['find', root, '-mindepth', '2', '-maxdepth', '2', '-type', 'f', '-name', MARKER]);
  return found.stdout
    .split('\n')
    .filter((line) => line.startsWith(`${root}/`))
    .map((line) => line.slice(root.length + 1, -(MARKER.length + 1)))
    .filter(isBackupId)
    .sort();
}

/** Keeps the newest `keep` backups this action made on the node and deletes the older ones; returns the deleted ids. */
export async function applyRetention(shell: NodeShell, keep: number, root = NODE_BACKUP_ROOT): Promise<string[]> {
  if (!Number.isInteger(keep) || keep < 1) throw new Error(`backup-keep must be a whole number of at least 1, not ${keep}`);
  const own = await listOwnBackups(shell, root);
  const doomed = own.slice(0, Math.max(0, own.length - keep));
  for (const id of doomed) await runAsRoot(shell, ['rm', '-rf', '--', nodeBackupDir(id, root)], `deleting old backup ${id}`);
  return doomed;
}
