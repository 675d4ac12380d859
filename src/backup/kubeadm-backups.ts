// The folders kubeadm itself leaves under /etc/kubernetes/tmp during `upgrade apply/node`
// (kubeadm-backup-etcd-*, kubeadm-backup-manifests-*): listed for the report, and with
// collect-kubeadm-backups packed into this run's backup folder on the node (and, when the backup may leave
// the node, copied, encrypted and uploaded like the backup itself).
import { mkdir, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { NodeShell } from '../adapters/transport/node-shell.ts';
import { streamFromNode } from '../adapters/transport/fetch.ts';
import { ArtifactServiceUnavailable, type ArtifactUploader } from './artifact.ts';
import { encryptToFile } from './encrypt.ts';
import { remoteFileFacts, runAsRoot, tryAsRoot } from './remote.ts';
import { nodeBackupDir } from './retention.ts';
import { tarStream } from './tar.ts';

const KUBEADM_TMP = '/etc/kubernetes/tmp';

export interface KubeadmBackupFolder {
  path: string;
  /** kilobytes, from du */
  sizeKb: number;
}

export async function listKubeadmBackups(shell: NodeShell): Promise<KubeadmBackupFolder[]> {
  const found = await tryAsRoot(shell, [
    'find',
    KUBEADM_TMP,
    '-mindepth',
    '1',
    '-maxdepth',
    '1',
    '-type',
    'd',
    '-name',
    'kubeadm-backup-*',
  ]);
  const paths = found.stdout
    .split('\n')
    .filter((p) => p.startsWith(`${KUBEADM_TMP}/kubeadm-backup-`))
    .sort();
  if (paths.length === 0) return [];
  const du = await tryAsRoot(shell, ['du', '-sk', '--', ...paths]);
  const sizes = new Map(
    du.stdout
      .split('\n')
      .map((l) => l.split('\t'))
      .map(([kb, p]) => [p ?? '', Number(kb)]),
  );
  return paths.map((path) => ({ path, sizeKb: sizes.get(path) ?? 0 }));
}

export interface CollectedKubeadmBackups {
  node: string;
  folders: KubeadmBackupFolder[];
  /** kubeadm-backups.tar in the node's backup folder */
  onNode?: { path: string; size: number; sha256: string };
  artifactName?: string;
  /** the encrypted copy on the runner, when the artifact service was not available (GHES) */
  keptOnRunner?: string;
}

/** Packs kubeadm's folders into this run's backup folder on the node; uploads them encrypted when recipients are given. */
export async function collectKubeadmBackups(
  shell: NodeShell,
  backupId: string,
  upload: { recipients: string[]; runnerDir: string; artifactName: string; uploader: ArtifactUploader; retentionDays?: number } | undefined,
): Promise<CollectedKubeadmBackups> {
  const folders = await listKubeadmBackups(shell);
  if (folders.length === 0) return { node: shell.node, folders };
  const path = `${nodeBackupDir(backupId)}/kubeadm-backups.tar`;
  await runAsRoot(
    shell,
    ['tar', '-cf', path, '-C', '/', '--', ...folders.map((f) => f.path.slice(1))],
    "packing kubeadm's backup folders",
    { timeoutMs: 600_000 },
  );
  const facts = await remoteFileFacts(shell, path);
  const result: CollectedKubeadmBackups = { node: shell.node, folders, onNode: { path, ...facts } };
  if (!upload || upload.recipients.length === 0) return result;
  await mkdir(upload.runnerDir, { recursive: true, mode: 0o700 });
  const sealed = join(upload.runnerDir, `${upload.artifactName}.tar.age`);
  const partial = `${sealed}.partial`;
  // streamed from the node straight into age: the folders hold etcd data, so no plaintext copy is made on the runner
  try {
    const entry = { name: `${shell.node}/kubeadm-backups.tar`, size: facts.size, content: () => streamFromNode(shell, path, facts) };
    await encryptToFile(tarStream([entry]), upload.recipients, partial);
    await rename(partial, sealed);
  } catch (error) {
    await rm(partial, { force: true });
    throw error;
  }
  try {
    await upload.uploader.upload(upload.artifactName, [sealed], upload.runnerDir, upload.retentionDays);
  } catch (error) {
    if (!(error instanceof ArtifactServiceUnavailable)) throw error;
    return { ...result, keptOnRunner: sealed };
  }
  return { ...result, artifactName: upload.artifactName };
}
