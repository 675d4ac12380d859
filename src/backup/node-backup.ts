// One node's backup: a marked folder on the node with the etcd snapshot (first control plane, or every
// control plane when asked), files.tar, and node.json (this node's part of the manifest, no secret in it).
import type { NodeShell } from '../adapters/transport/node-shell.ts';
import type { ExternalEtcd } from '../core/backup-settings.ts';
import { ETCD_MANIFEST, etcdAccessFromManifest, etcdMemberFromManifest, saveSnapshot, type EtcdAccess } from './etcd.ts';
import { collectFiles, readVersions } from './collect.ts';
import { remoteFileFacts, runAsRoot } from './remote.ts';
import { createBackupDir } from './retention.ts';
import type { EtcdMember, EtcdSnapshotRecord, NodeBackup } from './types.ts';

export const SNAPSHOT_NAME = 'etcd-snapshot.db';
export const FILES_NAME = 'files.tar';
export const NODE_RECORD_NAME = 'node.json';

export interface NodeBackupRequest {
  id: string;
  cluster: string;
  runId: string;
  role: 'control-plane' | 'worker';
  /** take the etcd snapshot on this node */
  snapshot: boolean;
  externalEtcd?: ExternalEtcd;
  root?: string;
}

async function snapshotOn(shell: NodeShell, dir: string, request: NodeBackupRequest): Promise<EtcdSnapshotRecord> {
  const target = `${dir}/${SNAPSHOT_NAME}`;
  let access: EtcdAccess;
  let member: EtcdMember | undefined;
  let dataDir: string | undefined;
  if (request.externalEtcd) {
    const ext = request.externalEtcd;
    const endpoint = ext.endpoints[0];
    if (!endpoint) throw new Error('etcd-endpoints is empty: an external etcd needs at least one client URL');
    access = { endpoint, cacert: ext.caFile, cert: ext.certFile, key: ext.keyFile, external: true };
  } else {
    const manifest = await runAsRoot(shell, ['cat', '--', ETCD_MANIFEST], 'reading the etcd static pod manifest');
    access = etcdAccessFromManifest(manifest);
    member = etcdMemberFromManifest(manifest);
    dataDir = member.dataDir;
  }
  const { status, via } = await saveSnapshot(shell, access, target, dataDir);
  if (status.totalKey < 1) throw new Error(`the etcd snapshot on ${shell.node} holds no key: refusing to call it a backup`);
  const facts = await remoteFileFacts(shell, target);
  return {
    file: { name: SNAPSHOT_NAME, ...facts },
    status,
    via,
    endpoint: access.endpoint,
    external: access.external,
    ...(member ? { member } : {}),
  };
}

/** Makes this node's backup on the node. Nothing leaves the node here (see fetchNodeBackup). */
export async function backupNode(shell: NodeShell, request: NodeBackupRequest): Promise<NodeBackup> {
  const dir = await createBackupDir(
    shell,
    request.id,
    { id: request.id, cluster: request.cluster, runId: request.runId, node: shell.node },
    request.root,
  );
  const etcd = request.snapshot ? await snapshotOn(shell, dir, request) : undefined;
  const { paths, file } = await collectFiles(shell, request.role, `${dir}/${FILES_NAME}`);
  const versions = await readVersions(shell);
  const record: NodeBackup = {
    node: shell.node,
    role: request.role,
    nodeDir: dir,
    ...(etcd ? { etcd } : {}),
    files: { name: FILES_NAME, ...file },
    paths,
    versions,
    fetched: false,
  };
  await runAsRoot(shell, ['sh', '-c', 'umask 077 && cat > "$1"', 'sh', `${dir}/${NODE_RECORD_NAME}`], 'writing the node record', {
    stdin: `${JSON.stringify(record, null, 2)}\n`,
  });
  return record;
}
