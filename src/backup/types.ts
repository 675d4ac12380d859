// The backup's data: what was saved on each node, verified how, and where it is. Plain JSON; no secret in it
// (names, sizes, checksums, snapshot status, versions), so the manifest may travel unencrypted.
import type { PackageFamily } from '../adapters/node/packages/manager.ts';

export interface EtcdSnapshotStatus {
  hash: number;
  revision: number;
  totalKey: number;
  totalSize: number;
}

export interface SavedFile {
  /** name inside the node's backup folder and inside the archive under the node's name */
  name: string;
  size: number;
  sha256: string;
}

/** etcd member flags from the etcd static pod manifest: what `etcdctl snapshot restore` needs. */
export interface EtcdMember {
  name: string;
  dataDir: string;
  initialCluster: string;
  initialAdvertisePeerUrls: string;
  initialClusterToken: string;
}

export interface EtcdSnapshotRecord {
  file: SavedFile;
  status: EtcdSnapshotStatus;
  /** how etcdctl ran: on the host, or inside the etcd container through crictl */
  via: 'host' | 'crictl';
  endpoint: string;
  external: boolean;
  member?: EtcdMember;
}

export interface PackageVersions {
  /** the package family ('apt', 'rpm'); rollback installs with the node's own manager of that family (dnf or yum) */
  manager: PackageFamily | 'unknown';
  /** full package versions with revision, e.g. kubeadm → "1.30.5-1.1" */
  packages: Record<string, string>;
  /** path and content of the pkgs.k8s.io repository file (no secret in it) */
  repoFile?: { path: string; content: string };
}

export interface NodeBackup {
  node: string;
  role: 'control-plane' | 'worker';
  /** folder on the node holding this backup */
  nodeDir: string;
  etcd?: EtcdSnapshotRecord;
  /** the files archive (files.tar) and the paths inside it */
  files: SavedFile;
  paths: string[];
  versions: PackageVersions;
  /** set when the files were copied to the runner and their sizes and checksums matched */
  fetched: boolean;
}

export interface BackupManifest {
  format: 'kubeadm-upgrade-action/backup@1';
  id: string;
  cluster: string;
  runId: string;
  createdAt: string;
  nodes: NodeBackup[];
  /** the encrypted archive in the artifact, when there is one */
  archive?: { name: string; size: number; sha256: string; encrypted: boolean; recipients: number };
}

/** What a backup ended as, for the summary and the outputs. */
export interface BackupOutcome {
  manifest: BackupManifest;
  /** where the files are: 'artifact' (uploaded), 'runner' (kept at backupPath), 'node' (only on the nodes) */
  location: 'artifact' | 'runner' | 'node';
  /** why it is where it is, in a sentence for the summary */
  reason: string;
  artifactName?: string;
  artifactId?: number;
  backupPath?: string;
  warnings: string[];
}
