// The backup, start to end: every node's backup on the node, retention there, then (when it may leave the
// node) one tar streamed from the nodes straight into age, encrypted to the configured recipients as the bytes
// arrive, each file checked against the node's size and SHA-256 as it passes, and uploaded with the unencrypted
// manifest. No plaintext file is ever written on the runner (a failure or a kill leaves at most an incomplete
// encrypted `.partial`). Without recipients nothing secret leaves the node.
import { createWriteStream } from 'node:fs';
import { mkdir, readdir, rename, rm, writeFile } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { join } from 'node:path';
import pLimit from 'p-limit';
import type { InventoryNode } from '../core/inventory.ts';
import type { NodeShell } from '../adapters/transport/node-shell.ts';
import { localFileFacts, streamFromNode } from '../adapters/transport/fetch.ts';
import { ArtifactServiceUnavailable, backupArtifactName, type ArtifactUploader } from './artifact.ts';
import { encryptToFile } from './encrypt.ts';
import type { ExternalEtcd } from '../core/backup-settings.ts';
import { backupNode } from './node-backup.ts';
import { applyRetention, backupId } from './retention.ts';
import { tarStream, type TarEntrySource } from './tar.ts';
import type { BackupManifest, BackupOutcome, NodeBackup } from './types.ts';

export type UploadMode = 'encrypted' | 'unencrypted' | 'none';

export interface BackupOptions {
  cluster: string;
  runId: string;
  runAttempt?: string;
  /** the nodes to back up; the first control plane takes the etcd snapshot */
  nodes: InventoryNode[];
  keep: number;
  recipients: string[];
  upload: UploadMode;
  retentionDays?: number;
  /** a folder on the runner (under RUNNER_TEMP) for the archive and its manifest; no plaintext file is written there */
  runnerDir: string;
  externalEtcd?: ExternalEtcd;
  parallelism?: number;
}

export interface BackupDeps {
  openShell: (node: InventoryNode) => Promise<NodeShell>;
  uploader: ArtifactUploader;
  log: (message: string) => void;
  warn: (message: string) => void;
  now?: () => Date;
}

export const MANIFEST_FILE = 'manifest.json';
/** Every backup folder on the runner is under RUNNER_TEMP/BACKUP_RUNNER_DIR. */
export const BACKUP_RUNNER_DIR = 'kubeadm-upgrade-backup';

/**
 * Removes the incomplete archives (`*.partial`) a killed run left under RUNNER_TEMP/kubeadm-upgrade-backup (the
 * post step calls it). They are encrypted unless backup-upload is unencrypted; nothing reads them. Returns their paths.
 */
export async function removeIncompleteArchives(runnerTemp: string): Promise<string[]> {
  const root = join(runnerTemp, BACKUP_RUNNER_DIR);
  const entries = await readdir(root, { recursive: true, withFileTypes: true }).catch(() => []);
  const partial = entries.filter((e) => e.isFile() && e.name.endsWith('.partial')).map((e) => join(e.parentPath, e.name));
  await Promise.all(partial.map((path) => rm(path, { force: true })));
  return partial;
}

/** A rollback's folder on the runner (under RUNNER_TEMP): the etcd snapshot it copies to push to the other members. */
export const ROLLBACK_RUNNER_DIR = 'kubeadm-upgrade-rollback';

/**
 * Removes what a killed rollback left in RUNNER_TEMP/kubeadm-upgrade-rollback (the post step calls it): the
 * snapshot copy holds every secret of the cluster, and a finished rollback removes it itself. Returns the files.
 */
export async function removeRollbackCopies(runnerTemp: string): Promise<string[]> {
  const root = join(runnerTemp, ROLLBACK_RUNNER_DIR);
  const entries = await readdir(root, { recursive: true, withFileTypes: true }).catch(() => []);
  const files = entries.filter((e) => !e.isDirectory()).map((e) => join(e.parentPath, e.name));
  await rm(root, { recursive: true, force: true });
  return files;
}

async function withShell<T>(deps: BackupDeps, node: InventoryNode, work: (shell: NodeShell) => Promise<T>): Promise<T> {
  const shell = await deps.openShell(node);
  try {
    return await work(shell);
  } finally {
    await shell.close();
  }
}

function mayLeaveNode(options: BackupOptions): boolean {
  return options.upload === 'unencrypted' || (options.upload === 'encrypted' && options.recipients.length > 0);
}

async function backupOneNode(
  options: BackupOptions,
  deps: BackupDeps,
  id: string,
  node: InventoryNode,
  snapshot: boolean,
): Promise<NodeBackup> {
  return withShell(deps, node, async (shell) => {
    const record = await backupNode(shell, {
      id,
      cluster: options.cluster,
      runId: options.runId,
      role: node.role,
      snapshot,
      ...(options.externalEtcd ? { externalEtcd: options.externalEtcd } : {}),
    });
    const deleted = await applyRetention(shell, options.keep);
    if (deleted.length > 0) deps.log(`${node.name}: deleted ${deleted.length} older backup(s) this action made: ${deleted.join(', ')}`);
    if (record.etcd) {
      const s = record.etcd.status;
      deps.log(
        `${node.name}: etcd snapshot verified (revision ${s.revision}, ${s.totalKey} keys, hash ${s.hash}, sha256 ${record.etcd.file.sha256})`,
      );
    }
    return record;
  });
}

/** Backs up every node (control planes first) and puts the result where the options allow. */
export async function runBackup(options: BackupOptions, deps: BackupDeps): Promise<BackupOutcome> {
  const now = (deps.now ?? (() => new Date()))();
  const id = backupId(now, options.runAttempt && options.runAttempt !== '1' ? `${options.runId}.${options.runAttempt}` : options.runId);
  const controlPlanes = options.nodes.filter((n) => n.role === 'control-plane');
  const workers = options.nodes.filter((n) => n.role === 'worker');
  if (controlPlanes.length === 0)
    throw new Error('the backup needs at least one control-plane node in the inventory (for the etcd snapshot)');
  await mkdir(options.runnerDir, { recursive: true, mode: 0o700 });
  const nodes: NodeBackup[] = [];
  // control planes one at a time: only the first takes the snapshot, and a failure there should stop early
  for (const [i, node] of controlPlanes.entries()) nodes.push(await backupOneNode(options, deps, id, node, i === 0));
  const limit = pLimit(options.parallelism ?? 10);
  nodes.push(...(await Promise.all(workers.map((node) => limit(() => backupOneNode(options, deps, id, node, false))))));
  const manifest: BackupManifest = {
    format: 'kubeadm-upgrade-action/backup@1',
    id,
    cluster: options.cluster,
    runId: options.runId,
    createdAt: now.toISOString(),
    nodes,
  };
  return placeBackup(manifest, options, deps);
}

function manifestBytes(manifest: BackupManifest): Buffer {
  return Buffer.from(`${JSON.stringify(manifest, null, 2)}\n`);
}

async function writeManifest(dir: string, manifest: BackupManifest): Promise<string> {
  const path = join(dir, MANIFEST_FILE);
  await writeFile(path, manifestBytes(manifest), { mode: 0o644 });
  return path;
}

/**
 * The archive's entries: the manifest, then each node's files streamed from the node (one connection per node,
 * opened before its first file is due). Every connection opened or being opened is added to `opening` for the
 * caller to close.
 */
function archiveEntries(
  options: BackupOptions,
  deps: BackupDeps,
  manifest: BackupManifest,
  where: string,
  opening: Promise<NodeShell>[],
): TarEntrySource[] {
  const entries: TarEntrySource[] = [{ name: MANIFEST_FILE, data: manifestBytes(manifest) }];
  const inventory = new Map(options.nodes.map((n) => [n.name, n]));
  // the bytes go into the archive one node after another, but the next nodes' connections are opened meanwhile
  // (up to `parallelism` ahead): with many small worker backups the SSH handshakes would otherwise add up
  const ahead = Math.max(1, options.parallelism ?? 10);
  const connectors = manifest.nodes.map((node) => {
    let shell: Promise<NodeShell> | undefined;
    return (): Promise<NodeShell> => {
      const inv = inventory.get(node.node);
      if (!inv) return Promise.reject(new Error(`node ${node.node} is not in the inventory`));
      if (!shell) {
        shell = deps.openShell(inv);
        opening.push(shell);
      }
      return shell;
    };
  });
  for (const [index, node] of manifest.nodes.entries()) {
    const files = [node.files, ...(node.etcd ? [node.etcd.file] : [])];
    const connect = (): Promise<NodeShell> => {
      for (const next of connectors.slice(index + 1, index + 1 + ahead)) next().catch(() => undefined);
      return connectors[index]!();
    };
    files.forEach((file, i) => {
      entries.push({
        name: `${node.node}/${file.name}`,
        size: file.size,
        async *content() {
          const s = await connect();
          yield* streamFromNode(s, `${node.nodeDir}/${file.name}`, file);
          if (i < files.length - 1) return;
          await s.close();
          deps.log(
            `${node.node}: ${node.etcd ? 'the snapshot and ' : ''}files.tar went into the ${where} as they arrived; sizes and SHA-256 match`,
          );
        },
      });
    });
  }
  return entries;
}

async function placeBackup(manifest: BackupManifest, options: BackupOptions, deps: BackupDeps): Promise<BackupOutcome> {
  const warnings: string[] = [];
  const where = manifest.nodes.map((n) => `${n.node}:${n.nodeDir}`).join(', ');
  const outDir = join(options.runnerDir, 'artifact');
  await mkdir(outDir, { recursive: true, mode: 0o700 });
  const name = backupArtifactName(options.cluster, options.runId, options.runAttempt);
  if (!mayLeaveNode(options)) {
    const reason =
      options.upload === 'none'
        ? `backup-upload is none: the backup stays on the nodes (${where})`
        : `no backup-encryption-recipients are set, so nothing secret leaves the nodes: the backup stays on the nodes (${where}); only its manifest is uploaded`;
    const manifestPath = await writeManifest(outDir, manifest);
    if (options.upload === 'none') return { manifest, location: 'node', reason, warnings };
    const uploaded = await upload(
      name,
      [manifestPath],
      outDir,
      options,
      deps,
      warnings,
      'its manifest was not uploaded either (the backup itself stays on the nodes)',
    );
    return {
      manifest,
      location: 'node',
      reason,
      ...(uploaded.id !== undefined ? { artifactName: name, artifactId: uploaded.id } : {}),
      warnings,
    };
  }
  const encrypted = options.upload === 'encrypted';
  if (!encrypted) {
    const message =
      'backup-upload is unencrypted: the artifact holds every secret of the cluster (CA keys, etcd data) in the clear. Use it only for private test clusters.';
    warnings.push(message);
    deps.warn(message);
  }
  // the archive holds its own copy of the manifest so a decrypted archive is self-describing; an archive exists
  // only when every file passed its size and checksum on the way, so its manifest says they were fetched
  const fetched: BackupManifest = { ...manifest, nodes: manifest.nodes.map((n) => ({ ...n, fetched: true })) };
  const archiveName = `${name}.tar${encrypted ? '.age' : ''}`;
  const archivePath = join(outDir, archiveName);
  const partial = `${archivePath}.partial`;
  const opening: Promise<NodeShell>[] = [];
  try {
    const stream = tarStream(archiveEntries(options, deps, fetched, encrypted ? 'encrypted archive' : 'archive', opening));
    if (encrypted) await encryptToFile(stream, options.recipients, partial);
    else await writeStream(stream, partial);
    await rename(partial, archivePath);
  } catch (error) {
    await rm(partial, { force: true });
    throw error;
  } finally {
    // also the connections opened ahead and not used (a failure stopped the archive first)
    await Promise.all(opening.map((p) => p.then((s) => s.close()).catch(() => undefined)));
  }
  const facts = await localFileFacts(archivePath);
  const sealed: BackupManifest = {
    ...fetched,
    archive: { name: archiveName, ...facts, encrypted, recipients: encrypted ? options.recipients.length : 0 },
  };
  const manifestPath = await writeManifest(outDir, sealed);
  deps.log(
    `backup archive ${archiveName}: ${facts.size} bytes, sha256 ${facts.sha256}${encrypted ? `, encrypted to ${options.recipients.length} age recipient(s)` : ''}`,
  );
  const uploaded = await upload(
    name,
    [archivePath, manifestPath],
    outDir,
    options,
    deps,
    warnings,
    `the backup is kept on the runner at ${outDir} (output backup-path) for the workflow to store itself`,
  );
  if (uploaded.id === undefined) {
    return {
      manifest: sealed,
      location: 'runner',
      reason: uploaded.reason ?? 'the artifact service is not available',
      backupPath: outDir,
      warnings,
    };
  }
  return {
    manifest: sealed,
    location: 'artifact',
    reason: `uploaded as artifact ${name}`,
    artifactName: name,
    artifactId: uploaded.id,
    backupPath: outDir,
    warnings,
  };
}

async function writeStream(stream: AsyncIterable<Uint8Array>, path: string): Promise<void> {
  await pipeline(Readable.from(stream), createWriteStream(path, { mode: 0o600 }));
}

async function upload(
  name: string,
  files: string[],
  root: string,
  options: BackupOptions,
  deps: BackupDeps,
  warnings: string[],
  whenUnavailable: string,
): Promise<{ id?: number; reason?: string }> {
  try {
    const result = await deps.uploader.upload(name, files, root, options.retentionDays);
    deps.log(`uploaded artifact ${name}${result.id !== undefined ? ` (id ${result.id})` : ''}`);
    return { id: result.id ?? 0 };
  } catch (error) {
    if (!(error instanceof ArtifactServiceUnavailable)) throw error;
    const reason = `${error.message}: ${whenUnavailable}`;
    warnings.push(reason);
    deps.warn(reason);
    return { reason };
  }
}
