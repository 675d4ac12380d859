// command: backup and command: rollback as steps of the Action: the nodes and the cluster's name from the
// inventory (or the cluster), real SSH shells, the artifact client, a job summary and outputs. Rollback holds
// the cluster lock while it works, so no upgrade starts under it.
import type { KubeConfig } from '@kubernetes/client-node';
import { acquireClusterLock, DEFAULT_LOCK_NAMESPACE, lockName, releaseClusterLock, type LockHolder } from '../adapters/cluster/lease.ts';
import { isNotFound, makeClusterApis } from '../adapters/cluster/progress.ts';
import { readCluster } from '../adapters/cluster/read-cluster.ts';
import { shellOpener } from '../adapters/transport/open.ts';
import { inventoryFromCluster, type Inventory } from '../core/inventory.ts';
import type { Settings } from '../core/settings.ts';
import { actionsArtifactUploader, type ArtifactUploader } from '../backup/artifact.ts';
import { backupCommand } from './backup.ts';
import type { RunIdentity } from './deps.ts';
import { checkInputs } from './prepare.ts';
import { rollbackCommand } from './rollback.ts';

export interface RecoveryIo {
  info(line: string): void;
  warning(line: string): void;
  setOutputs(outputs: Record<string, string>): void;
  writeSummary(markdown: string): Promise<void>;
  identity: RunIdentity;
  runnerTemp: string;
  uploader?: ArtifactUploader;
}

export interface RecoveryResult {
  exitCode: 0 | 1;
  /** one line for core.setFailed when exitCode is 1 */
  message?: string;
}

interface Target {
  kubeconfig: KubeConfig;
  inventory: Inventory;
  cluster: string;
}

/** The nodes and the cluster's name; the API is read only when the inventory does not say them. */
async function target(settings: Settings): Promise<Target> {
  const checked = checkInputs(settings);
  if (checked.inventory?.cluster) return { kubeconfig: checked.kubeconfig, inventory: checked.inventory, cluster: checked.inventory.cluster };
  const api = await readCluster(checked.kubeconfig);
  if (!checked.inventory && !api.apiReachable) throw new Error(`${api.apiError ?? 'the Kubernetes API cannot be reached'}; without an inventory the nodes come from the API, so pass the inventory input`);
  const inventory = checked.inventory ?? inventoryFromCluster(api.nodes, settings);
  return { kubeconfig: checked.kubeconfig, inventory, cluster: api.kubeadmConfig?.clusterName ?? 'kubernetes' };
}

/** command: backup — every node's backup now, placed as the backup inputs say. */
export async function runBackupStep(settings: Settings, io: RecoveryIo): Promise<RecoveryResult> {
  const { inventory, cluster } = await target(settings);
  const open = shellOpener(settings);
  try {
    const result = await backupCommand(settings.backup, {
      cluster, runId: io.identity.runId, runAttempt: String(io.identity.attempt), nodes: inventory.nodes, runnerTemp: io.runnerTemp,
      openShell: open, log: io.info, warn: io.warning, uploader: io.uploader ?? actionsArtifactUploader(), parallelism: settings.parallelism,
    });
    io.setOutputs(result.outputs);
    await io.writeSummary(`## Backup of ${cluster} ✅\n\n${result.summary}`);
    return { exitCode: 0 };
  } catch (error) {
    const message = `the backup failed: ${(error as Error).message}`;
    await io.writeSummary(`## Backup of ${cluster} ❌\n\n**${message}**\n`);
    return { exitCode: 1, message };
  }
}

/**
 * The restored etcd holds the cluster lock as it was when the backup was taken: held by the run that took it.
 * That run is over, so its Lease is deleted; a new run can then start at once instead of after lock-ttl.
 */
async function clearRestoredLock(kubeconfig: KubeConfig, name: string, backupId: string, io: RecoveryIo): Promise<void> {
  const run = backupId.split('-').slice(1).join('-').split('.')[0];
  const apis = makeClusterApis(kubeconfig);
  try {
    const lease = await apis.coordination.readNamespacedLease({ name, namespace: DEFAULT_LOCK_NAMESPACE });
    if (!run || !(lease.spec?.holderIdentity ?? '').includes(` run ${run} attempt `)) return;
    await apis.coordination.deleteNamespacedLease({ name, namespace: DEFAULT_LOCK_NAMESPACE });
    io.info(`deleted the cluster lock ${name} restored from the snapshot (held by ${lease.spec?.holderIdentity}, the run that took the backup)`);
  } catch (error) {
    if (!isNotFound(error)) io.warning(`could not check the restored cluster lock ${name}: ${(error as Error).message}`);
  }
}

/** command: rollback — refuses without confirm-rollback = the cluster's name and without a verified snapshot. */
export async function runRollbackStep(settings: Settings, io: RecoveryIo): Promise<RecoveryResult> {
  const { kubeconfig, inventory, cluster } = await target(settings);
  const name = lockName(inventory.cluster);
  const holder: LockHolder = { repository: io.identity.repository, runId: io.identity.runId, attempt: io.identity.attempt, job: `${io.identity.job} (rollback)` };
  const apis = makeClusterApis(kubeconfig);
  const refuse = async (message: string): Promise<RecoveryResult> => {
    await io.writeSummary(`## Rollback of ${cluster} ❌\n\n**${message}**\n`);
    return { exitCode: 1, message };
  };
  if (settings.backup.confirmRollback.trim() !== cluster) {
    return refuse(`rollback refused, nothing was changed: confirm-rollback is "${settings.backup.confirmRollback}", not the cluster's name "${cluster}". Set confirm-rollback: ${cluster} to confirm.`);
  }
  const lock = await acquireClusterLock(apis, { name, holder, ttlMs: settings.upgrade.lockTtlMs });
  if (!lock.acquired) return refuse(`rollback refused, nothing was changed: another run holds the cluster lock (Lease kube-system/${name}): ${lock.holder}. Wait for it to finish.`);
  try {
    const { report, summary } = await rollbackCommand(settings.backup, {
      cluster, nodes: inventory.nodes, source: settings.backup.rollbackSource, runnerTemp: io.runnerTemp, kubeConfig: kubeconfig,
      openShell: shellOpener(settings), log: io.info, waitTimeoutMs: settings.upgrade.nodeReadyTimeoutMs * 2,
    });
    await clearRestoredLock(kubeconfig, name, report.backupId, io);
    io.setOutputs({ 'backup-id': report.backupId });
    await io.writeSummary(`## Rollback of ${cluster} ✅\n\n${summary}`);
    return { exitCode: 0 };
  } catch (error) {
    return refuse(`rollback failed: ${(error as Error).message}`);
  } finally {
    await releaseClusterLock(apis, name, holder).catch(() => undefined);
  }
}
