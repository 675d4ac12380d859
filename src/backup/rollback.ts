// command: rollback — puts the cluster back to a recorded backup after a failed upgrade, the way upstream
// etcd documents a restore: stop every control plane's static pods (manifests moved out), restore the same
// snapshot into a fresh data dir on every stacked member (the failed data dir kept aside), put back the
// recorded manifests, kubelet files, repository and package versions, restart kubelet, wait for the API,
// then the workers that were already changed, then verify.
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { InventoryNode } from '../core/inventory.ts';
import type { NodeShell } from '../adapters/transport/node-shell.ts';
import { fetchFromNode, pushToNode } from '../adapters/transport/fetch.ts';
import { detectPackageManager, readVersions, readVersionsWith } from './collect.ts';
import { clusterRestoreMembers, etcdAccessFromManifest, memberHealthy, restoreSnapshot, snapshotStatus } from './etcd.ts';
import { FILES_NAME, SNAPSHOT_NAME } from './node-backup.ts';
import { downgradePackages, versionsDiffer } from './packages.ts';
import { remoteFileFacts, runAsRoot, tryAsRoot } from './remote.ts';
import { loadRecord, type RollbackSource } from './rollback-source.ts';
import type { EtcdMember, EtcdSnapshotRecord, NodeBackup } from './types.ts';

/**
 * A rollback that stopped part way, maybe after etcd was restored: what the cluster now holds (its lock Lease
 * among it) may be the backup's. Carries the backup's id so the caller can clear what the restore brought back.
 */
export class RollbackFailedError extends Error {
  readonly backupId: string;
  constructor(backupId: string, cause: Error) {
    super(cause.message, { cause });
    this.name = 'RollbackFailedError';
    this.backupId = backupId;
  }
}

export interface RollbackOptions {
  cluster: string;
  /** the confirm-rollback input: must be the cluster's name */
  confirm: string;
  nodes: InventoryNode[];
  source: RollbackSource;
  /** scratch folder on the runner */
  runnerDir: string;
  /** how long a package command waits for a package-database lock another process holds */
  packageLockTimeoutSeconds: number;
}

export interface RollbackDeps {
  openShell: (node: InventoryNode) => Promise<NodeShell>;
  /** resolves once the API server answers again (e.g. /readyz) */
  waitForApi: () => Promise<void>;
  /** resolves once these nodes are Ready; rejects naming those that are not */
  waitNodesReady: (names: string[]) => Promise<void>;
  log: (message: string) => void;
  now?: () => Date;
}

export interface RollbackReport {
  backupId: string;
  snapshot: EtcdSnapshotRecord;
  controlPlanes: string[];
  workers: string[];
  /** per node, where the failed state was kept */
  keptAside: Record<string, string[]>;
  packageChanges: Record<string, string[]>;
}

const STAGING = '/etc/kubernetes/tmp';
const STOP_WAIT_MS = 120_000;

export function checkConfirmation(cluster: string, confirm: string): void {
  if (confirm.trim() !== cluster) {
    throw new Error(
      `rollback rewinds the cluster's state to the backup (every change to the cluster since then is lost). ` +
        `To confirm, set the input confirm-rollback to the cluster's name, "${cluster}"${confirm ? ` (it is "${confirm}")` : ''}.`,
    );
  }
}

async function withShell<T>(deps: RollbackDeps, node: InventoryNode, work: (shell: NodeShell) => Promise<T>): Promise<T> {
  const shell = await deps.openShell(node);
  try {
    return await work(shell);
  } finally {
    await shell.close();
  }
}

/** The snapshot must be recorded as verified, and the file must still be the one that was verified. */
async function verifySnapshotFile(shell: NodeShell, path: string, snapshot: EtcdSnapshotRecord): Promise<void> {
  const facts = await remoteFileFacts(shell, path);
  if (facts.sha256 !== snapshot.file.sha256 || facts.size !== snapshot.file.size) {
    throw new Error(
      `refusing to roll back: the snapshot ${path} on ${shell.node} is not the verified one (sha256 ${facts.sha256}, recorded ${snapshot.file.sha256})`,
    );
  }
  const status = await snapshotStatus(shell, path);
  if (
    status.hash !== snapshot.status.hash ||
    status.revision !== snapshot.status.revision ||
    status.totalKey !== snapshot.status.totalKey
  ) {
    throw new Error(`refusing to roll back: etcdctl snapshot status of ${path} on ${shell.node} differs from the recorded status`);
  }
}

function recordedSnapshot(records: NodeBackup[]): { owner: NodeBackup; snapshot: EtcdSnapshotRecord } {
  const owner = records.find((r) => r.etcd);
  const snapshot = owner?.etcd;
  if (!owner || !snapshot) throw new Error('refusing to roll back: the backup holds no verified etcd snapshot');
  if (snapshot.external)
    throw new Error(
      "refusing to roll back: the snapshot is of an external etcd, which this action does not restore (restore it with the etcd operator's procedure, then run rollback again without it)",
    );
  if (!(snapshot.status.totalKey > 0) || !/^[0-9a-f]{64}$/.test(snapshot.file.sha256))
    throw new Error('refusing to roll back: the recorded etcd snapshot was not verified');
  return { owner, snapshot };
}

/** Where a node's copy of the snapshot comes from: a file on this node, or a file on the runner to push. */
type SnapshotFrom = { onNode: string } | { local: string } | undefined;

/** Puts files.tar (and on control planes the snapshot, verified) into a staging folder on the node and unpacks it. */
async function stageFiles(
  shell: NodeShell,
  record: NodeBackup,
  snapshotFrom: SnapshotFrom,
  runnerDir: string | undefined,
  stamp: string,
  snapshot: EtcdSnapshotRecord,
): Promise<string> {
  const stage = `${STAGING}/kubeadm-upgrade-action-rollback-${stamp}`;
  await runAsRoot(shell, ['install', '-d', '-m', '0700', '--', STAGING, stage], 'creating the rollback folder');
  if (runnerDir) await pushToNode(shell, join(runnerDir, record.node, FILES_NAME), `${stage}/${FILES_NAME}`);
  else await runAsRoot(shell, ['cp', '--', `${record.nodeDir}/${FILES_NAME}`, `${stage}/${FILES_NAME}`], 'staging files.tar');
  if (record.role === 'control-plane') {
    if (!snapshotFrom) throw new Error(`no copy of the snapshot for ${shell.node}`);
    if ('onNode' in snapshotFrom)
      await runAsRoot(shell, ['cp', '--', snapshotFrom.onNode, `${stage}/${SNAPSHOT_NAME}`], 'staging the snapshot');
    else await pushToNode(shell, snapshotFrom.local, `${stage}/${SNAPSHOT_NAME}`);
    await verifySnapshotFile(shell, `${stage}/${SNAPSHOT_NAME}`, snapshot);
  }
  await runAsRoot(shell, ['tar', '-xf', `${stage}/${FILES_NAME}`, '-C', stage], 'unpacking files.tar');
  return stage;
}

async function stopStaticPods(shell: NodeShell, stage: string): Promise<void> {
  await runAsRoot(
    shell,
    ['install', '-d', '-m', '0700', '--', `${stage}/failed-manifests`],
    'creating the folder for the failed manifests',
  );
  await runAsRoot(
    shell,
    [
      'sh',
      '-c',
      'for f in /etc/kubernetes/manifests/*.yaml; do [ -e "$f" ] && mv -- "$f" "$1/"; done; true',
      'sh',
      `${stage}/failed-manifests`,
    ],
    'moving the static pod manifests out',
  );
  const deadline = Date.now() + STOP_WAIT_MS;
  for (;;) {
    const ps = await tryAsRoot(shell, ['crictl', 'ps', '--name', '^(etcd|kube-apiserver)$', '-q']);
    if (ps.code === 0 && ps.stdout.trim() === '') return;
    if (Date.now() > deadline)
      throw new Error(`${shell.node}: etcd and kube-apiserver still run ${STOP_WAIT_MS / 1000}s after their manifests were moved out`);
    await new Promise((r) => setTimeout(r, 2000));
  }
}

/** The recorded etcd manifest of a control plane (as it was at backup time). */
function readRecordedEtcdManifest(shell: NodeShell, stage: string): Promise<string> {
  return runAsRoot(shell, ['cat', '--', `${stage}/etc/kubernetes/manifests/etcd.yaml`], 'reading the recorded etcd manifest');
}

/** Every member restores the same snapshot under its own name and peer URL, into the same whole cluster. */
async function restoreEtcdMember(shell: NodeShell, stage: string, stamp: string, member: EtcdMember): Promise<string> {
  const aside = `${member.dataDir}.failed-${stamp}`;
  await runAsRoot(
    shell,
    ['sh', '-c', 'if [ -e "$1" ]; then mv -- "$1" "$2"; fi', 'sh', member.dataDir, aside],
    'keeping the failed etcd data dir aside',
  );
  await restoreSnapshot(shell, `${stage}/${SNAPSHOT_NAME}`, member);
  return aside;
}

async function restoreNodeFiles(shell: NodeShell, record: NodeBackup, stage: string): Promise<void> {
  for (const path of ['/var/lib/kubelet/config.yaml', '/var/lib/kubelet/kubeadm-flags.env']) {
    if (record.paths.includes(path)) await runAsRoot(shell, ['cp', '-p', '--', `${stage}${path}`, path], `restoring ${path}`);
  }
  if (record.role === 'control-plane') {
    // etcd.yaml and the others come back together: the kubelet starts them with the restored data dir
    await runAsRoot(
      shell,
      ['sh', '-c', 'cp -p -- "$1"/*.yaml /etc/kubernetes/manifests/', 'sh', `${stage}/etc/kubernetes/manifests`],
      'restoring the static pod manifests',
    );
  }
}

async function restartKubelet(shell: NodeShell): Promise<void> {
  await runAsRoot(shell, ['systemctl', 'daemon-reload'], 'systemctl daemon-reload');
  await runAsRoot(shell, ['systemctl', 'restart', 'kubelet'], 'systemctl restart kubelet');
}

export async function runRollback(options: RollbackOptions, deps: RollbackDeps): Promise<RollbackReport> {
  checkConfirmation(options.cluster, options.confirm);
  const { manifest, runnerDir } = await loadRecord(options.source, options.nodes, deps.openShell);
  const { owner, snapshot } = recordedSnapshot(manifest.nodes);
  const byName = new Map(manifest.nodes.map((r) => [r.node, r]));
  const missing = options.nodes.filter((n) => !byName.has(n.name)).map((n) => n.name);
  if (missing.length > 0) throw new Error(`the backup ${manifest.id} has no record of ${missing.join(', ')}: refusing a partial rollback`);
  const stamp = (deps.now ?? (() => new Date()))()
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, 'Z');
  const controlPlanes = options.nodes.filter((n) => n.role === 'control-plane');
  const report: RollbackReport = {
    backupId: manifest.id,
    snapshot,
    controlPlanes: controlPlanes.map((n) => n.name),
    workers: [],
    keptAside: {},
    packageChanges: {},
  };

  // the snapshot reaches every stacked member: from the runner copy, or fetched once from the node that took it
  let snapshotLocal = runnerDir ? join(runnerDir, owner.node, SNAPSHOT_NAME) : undefined;
  if (!snapshotLocal && controlPlanes.length > 1) {
    const ownerNode = options.nodes.find((n) => n.name === owner.node);
    if (!ownerNode) throw new Error(`the snapshot was taken on ${owner.node}, which is not in the inventory`);
    snapshotLocal = join(options.runnerDir, SNAPSHOT_NAME);
    await mkdir(options.runnerDir, { recursive: true, mode: 0o700 });
    await withShell(deps, ownerNode, (shell) =>
      fetchFromNode(shell, `${owner.nodeDir}/${SNAPSHOT_NAME}`, snapshotLocal as string, snapshot.file),
    );
  }
  try {
    await restoreCluster(options, deps, { byName, owner, snapshot, snapshotLocal, runnerDir, stamp, report });
  } catch (error) {
    throw new RollbackFailedError(manifest.id, error as Error);
  } finally {
    // a snapshot this rollback copied to the runner holds every secret: do not leave it there
    if (!runnerDir && snapshotLocal) await rm(snapshotLocal, { force: true });
  }
  return report;
}

interface RestoreContext {
  byName: Map<string, NodeBackup>;
  owner: NodeBackup;
  snapshot: EtcdSnapshotRecord;
  snapshotLocal: string | undefined;
  runnerDir: string | undefined;
  stamp: string;
  report: RollbackReport;
}

async function restoreCluster(options: RollbackOptions, deps: RollbackDeps, ctx: RestoreContext): Promise<void> {
  const { byName, owner, snapshot, snapshotLocal, runnerDir, stamp, report } = ctx;
  const controlPlanes = options.nodes.filter((n) => n.role === 'control-plane');
  const workers = options.nodes.filter((n) => n.role === 'worker');
  const stages = new Map<string, string>();
  for (const node of controlPlanes) {
    const record = byName.get(node.name) as NodeBackup;
    const from: SnapshotFrom =
      !runnerDir && node.name === owner.node
        ? { onNode: `${owner.nodeDir}/${SNAPSHOT_NAME}` }
        : snapshotLocal
          ? { local: snapshotLocal }
          : undefined;
    const stage = await withShell(deps, node, (shell) => stageFiles(shell, record, from, runnerDir, stamp, snapshot));
    stages.set(node.name, stage);
    deps.log(`${node.name}: snapshot and recorded files staged in ${stage}; snapshot verified`);
  }
  // one --initial-cluster for every member, from all recorded manifests (each alone lists the cluster as it was
  // when that member joined)
  const recorded: { node: string; manifest: string }[] = [];
  for (const node of controlPlanes) {
    const manifest = await withShell(deps, node, (shell) => readRecordedEtcdManifest(shell, stages.get(node.name) as string));
    recorded.push({ node: node.name, manifest });
  }
  const members = new Map(clusterRestoreMembers(recorded).map((m, i) => [recorded[i]?.node, m]));
  // upstream: stop every API server and etcd member first, then restore all members, then start them
  for (const node of controlPlanes) {
    await withShell(deps, node, (shell) => stopStaticPods(shell, stages.get(node.name) as string));
    deps.log(`${node.name}: control plane static pods stopped (manifests moved to ${stages.get(node.name)}/failed-manifests)`);
  }
  for (const node of controlPlanes) {
    const record = byName.get(node.name) as NodeBackup;
    const stage = stages.get(node.name) as string;
    await withShell(deps, node, async (shell) => {
      const aside = await restoreEtcdMember(shell, stage, stamp, members.get(node.name) as EtcdMember);
      report.keptAside[node.name] = [aside, `${stage}/failed-manifests`];
      deps.log(
        `${node.name}: etcd restored from the snapshot (revision ${snapshot.status.revision}); the failed data dir is kept at ${aside}`,
      );
      report.packageChanges[node.name] = await downgradePackages(shell, record.versions, options.packageLockTimeoutSeconds);
      await restoreNodeFiles(shell, record, stage);
      await restartKubelet(shell);
      deps.log(
        `${node.name}: manifests, kubelet files and packages restored${report.packageChanges[node.name]?.length ? ` (${report.packageChanges[node.name]?.join(', ')})` : ''}; kubelet restarted`,
      );
    });
  }
  await deps.waitForApi();
  deps.log('the API server answers again');
  for (const node of workers) {
    const record = byName.get(node.name) as NodeBackup;
    await withShell(deps, node, async (shell) => {
      const pm = await detectPackageManager(shell);
      const changes = versionsDiffer(record.versions, await readVersionsWith(shell, pm));
      if (changes.length === 0) return;
      const stage = await stageFiles(shell, record, undefined, runnerDir, stamp, snapshot);
      report.packageChanges[node.name] = await downgradePackages(shell, record.versions, options.packageLockTimeoutSeconds, pm);
      await restoreNodeFiles(shell, record, stage);
      await restartKubelet(shell);
      report.workers.push(node.name);
      deps.log(`${node.name}: kubelet files and packages restored (${changes.join(', ')}); kubelet restarted`);
    });
  }
  await verifyRollback(options.nodes, byName, deps);
}

async function verifyRollback(nodes: InventoryNode[], byName: Map<string, NodeBackup>, deps: RollbackDeps): Promise<void> {
  const wrong: string[] = [];
  for (const node of nodes) {
    const record = byName.get(node.name) as NodeBackup;
    const diff = await withShell(deps, node, async (shell) => versionsDiffer(record.versions, await readVersions(shell)));
    if (diff.length > 0) wrong.push(`${node.name}: ${diff.join(', ')}`);
  }
  if (wrong.length > 0) throw new Error(`after the rollback some packages are not the recorded versions: ${wrong.join('; ')}`);
  await deps.waitNodesReady(nodes.map((n) => n.name));
  // the API answering needs a quorum, not every member: each restored member must answer on its own too
  // (rollback restores stacked etcd only: every control plane has a restored member)
  for (const node of nodes.filter((n) => n.role === 'control-plane')) await waitMemberHealthy(node, deps);
  deps.log('rollback verified: every node has the recorded package versions and is Ready, every etcd member is healthy');
}

const MEMBER_HEALTH_BOUND_MS = 180_000;

async function waitMemberHealthy(node: InventoryNode, deps: RollbackDeps): Promise<void> {
  await withShell(deps, node, async (shell) => {
    const access = etcdAccessFromManifest(
      await runAsRoot(shell, ['cat', '--', '/etc/kubernetes/manifests/etcd.yaml'], 'reading the etcd manifest'),
    );
    const until = Date.now() + MEMBER_HEALTH_BOUND_MS;
    while (!(await memberHealthy(shell, access))) {
      if (Date.now() > until)
        throw new Error(
          `${node.name}: the restored etcd member does not answer etcdctl endpoint health at ${access.endpoint} after ${MEMBER_HEALTH_BOUND_MS / 1000}s; check its static pod (crictl ps, crictl logs) on the node`,
        );
      await new Promise((r) => setTimeout(r, 2000));
    }
  });
}
