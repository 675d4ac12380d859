// command: backup and command: rollback as lists of phases (the same phase loop as the upgrade commands): the nodes
// and the cluster's name from the inventory (or the cluster), real SSH shells, the artifact client, a job summary and
// outputs. Rollback holds the cluster lock while it works, so no upgrade starts under it.
import { RollbackFailedError } from '../backup/rollback.ts';
import type { KubeConfig } from '@kubernetes/client-node';
import { requireAccess } from '../adapters/cluster/access-review.ts';
import {
  acquireClusterLock,
  DEFAULT_LOCK_NAMESPACE,
  LOCK_ACCESS,
  lockName,
  releaseClusterLock,
  type LockHolder,
} from '../adapters/cluster/lease.ts';
import { isNotFound, makeClusterApis } from '../adapters/cluster/progress.ts';
import { lockLeftMessage } from './lock-state.ts';
import { READ_CLUSTER_ACCESS, readCluster } from '../adapters/cluster/read-cluster.ts';
import { API_WAIT_ACCESS } from '../backup/api-wait.ts';
import { requireCertifiedIdentities } from '../adapters/node/identity.ts';
import { shellOpener } from '../adapters/transport/open.ts';
import { inventoryFromCluster, type Inventory } from '../core/inventory.ts';
import type { Settings } from '../core/settings.ts';
import { actionsArtifactUploader, type ArtifactUploader } from '../backup/artifact.ts';
import { backupCommand } from './backup.ts';
import type { RunIdentity } from './deps.ts';
import { checkInputs } from './prepare.ts';
import { phasesAccess, runPhaseList, type Phase } from './phases/phase.ts';
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
  if (checked.inventory?.cluster)
    return { kubeconfig: checked.kubeconfig, inventory: checked.inventory, cluster: checked.inventory.cluster };
  const api = await readCluster(checked.kubeconfig);
  if (!checked.inventory && !api.apiReachable)
    throw new Error(
      `${api.apiError ?? 'the Kubernetes API cannot be reached'}; without an inventory the nodes come from the API, so pass the inventory input`,
    );
  const inventory = checked.inventory ?? inventoryFromCluster(api.nodes, settings);
  return { kubeconfig: checked.kubeconfig, inventory, cluster: api.kubeadmConfig?.clusterName ?? 'kubernetes' };
}

/**
 * The restored etcd holds the cluster lock as it was when the backup was taken: held by the run that took it.
 * That run is over, so its Lease is deleted; a new run can then start at once instead of after lock-ttl.
 */
async function clearRestoredLock(kubeconfig: KubeConfig, name: string, backupId: string, io: RecoveryIo): Promise<void> {
  const run = backupId.split('-').slice(1).join('-').split('.')[0];
  const apis = makeClusterApis(kubeconfig, { onWait: (line) => io.info(line) });
  try {
    const lease = await apis.coordination.readNamespacedLease({ name, namespace: DEFAULT_LOCK_NAMESPACE });
    if (!run || !(lease.spec?.holderIdentity ?? '').includes(` run ${run} attempt `)) return;
    await apis.coordination.deleteNamespacedLease({ name, namespace: DEFAULT_LOCK_NAMESPACE });
    io.info(
      `deleted the cluster lock ${name} restored from the snapshot (held by ${lease.spec?.holderIdentity}, the run that took the backup)`,
    );
  } catch (error) {
    if (!isNotFound(error)) io.warning(`could not check the restored cluster lock ${name}: ${(error as Error).message}`);
  }
}

/** What the recovery phases share. */
interface RecoveryRun {
  settings: Settings;
  io: RecoveryIo;
  target?: Target;
  /** the summary's body, by the phase that did the work */
  summary?: string;
  release(): Promise<void>;
}

const targetOf = (run: RecoveryRun): Target => {
  if (!run.target) throw new Error('the target phase must run first');
  return run.target;
};

/** The nodes and the cluster's name (read-only). */
const targetPhase: Phase<RecoveryRun> = {
  title: 'target',
  // read only when the inventory does not name the cluster; asked for either way
  access: () => READ_CLUSTER_ACCESS,
  async run(run) {
    run.target = await target(run.settings);
    return undefined;
  },
};

/**
 * The machine at every inventory address must be the Node of that name (its kubelet client certificate): these
 * commands start without a plan (rollback: the API may be down), so they prove it themselves. With two addresses
 * swapped, one node's files would be recorded, or restored, as another's.
 */
const identityPhase: Phase<RecoveryRun> = {
  title: 'node identity',
  async run(run) {
    await requireCertifiedIdentities(targetOf(run).inventory.nodes, shellOpener(run.settings), run.settings.parallelism);
    return undefined;
  },
};

/** Every node's backup now, placed as the backup inputs say. */
const backupNowPhase: Phase<RecoveryRun> = {
  title: 'backup',
  async run(run) {
    const { inventory, cluster } = targetOf(run);
    const { settings, io } = run;
    const result = await backupCommand(settings.backup, {
      cluster,
      runId: io.identity.runId,
      runAttempt: String(io.identity.attempt),
      nodes: inventory.nodes,
      runnerTemp: io.runnerTemp,
      openShell: shellOpener(settings),
      log: io.info,
      warn: io.warning,
      uploader: io.uploader ?? actionsArtifactUploader(),
      parallelism: settings.parallelism,
    });
    io.setOutputs(result.outputs);
    run.summary = result.summary;
    return undefined;
  },
};

/** confirm-rollback must name the cluster: nothing is touched otherwise. */
const confirmPhase: Phase<RecoveryRun> = {
  title: 'confirm',
  async run(run) {
    const { cluster } = targetOf(run);
    const given = run.settings.backup.confirmRollback;
    if (given.trim() === cluster) return undefined;
    return {
      outcome: 'refused',
      reason: `rollback refused, nothing was changed: confirm-rollback is "${given}", not the cluster's name "${cluster}". Set confirm-rollback: ${cluster} to confirm.`,
    };
  },
};

function rollbackHolder(io: RecoveryIo): LockHolder {
  return {
    repository: io.identity.repository,
    runId: io.identity.runId,
    attempt: io.identity.attempt,
    job: `${io.identity.job} (rollback)`,
  };
}

/** The cluster lock, so no upgrade starts under the rollback; released when the command ends. */
const rollbackLockPhase: Phase<RecoveryRun> = {
  title: 'lock',
  access: () => LOCK_ACCESS,
  async run(run) {
    const { kubeconfig, inventory } = targetOf(run);
    const name = lockName(inventory.cluster);
    const holder = rollbackHolder(run.io);
    const apis = makeClusterApis(kubeconfig, { onWait: (line) => run.io.info(line) });
    const lock = await acquireClusterLock(apis, { name, holder, ttlMs: run.settings.upgrade.lockTtlMs });
    if (!lock.acquired)
      return {
        outcome: 'refused',
        reason: `rollback refused, nothing was changed: another run holds the cluster lock (Lease kube-system/${name}): ${lock.holder}. Wait for it to finish.`,
      };
    run.release = async () => {
      run.release = async () => {};
      await releaseClusterLock(apis, name, holder).catch((error: Error) =>
        run.io.warning(lockLeftMessage(name, { ttlMs: run.settings.upgrade.lockTtlMs, renewedAt: lock.renewedAt }, error.message)),
      );
    };
    return undefined;
  },
};

/** Restores etcd from the backup's verified snapshot and puts manifests, kubelet files, repository and packages back. */
const rollbackPhase: Phase<RecoveryRun> = {
  title: 'rollback',
  // waits for the API and nodes, then clears the restored lock (get and delete, in LOCK_ACCESS)
  access: () => [...API_WAIT_ACCESS, ...LOCK_ACCESS.filter((p) => p.verb === 'get' || p.verb === 'delete')],
  async run(run) {
    const { kubeconfig, inventory, cluster } = targetOf(run);
    const { settings, io } = run;
    const { report, summary } = await rollbackCommand(settings.backup, {
      cluster,
      nodes: inventory.nodes,
      source: settings.backup.rollbackSource,
      runnerTemp: io.runnerTemp,
      kubeConfig: kubeconfig,
      openShell: shellOpener(settings),
      log: io.info,
      waitTimeoutMs: settings.upgrade.nodeReadyTimeoutMs * 2,
      packageLockTimeoutMs: settings.upgrade.packageLockTimeoutMs,
    }).catch(async (error: unknown) => {
      // stopped after etcd was restored: the lock Lease is the backup's (its run is over), and would refuse the
      // re-run that finishes the rollback
      if (error instanceof RollbackFailedError) await clearRestoredLock(kubeconfig, lockName(inventory.cluster), error.backupId, io);
      throw error;
    });
    await clearRestoredLock(kubeconfig, lockName(inventory.cluster), report.backupId, io);
    io.setOutputs({ 'backup-id': report.backupId });
    run.summary = summary;
    return undefined;
  },
};

/** Runs a recovery command's phases; the summary says what was done, or why nothing / not all of it was. */
async function runRecovery(
  title: string,
  verb: string,
  phases: readonly Phase<RecoveryRun>[],
  settings: Settings,
  io: RecoveryIo,
): Promise<RecoveryResult> {
  const run: RecoveryRun = { settings, io, release: async () => {} };
  // preflight: the kubeconfig may do what the phases need (an unreachable API is not refused here: a
  // rollback is what a broken cluster needs)
  await requireAccess(checkInputs(settings).kubeconfig, settings.command, phasesAccess(phases, { settings, options: settings.upgrade }));
  const heading = () => `## ${title} of ${run.target?.cluster ?? 'the cluster'}`;
  try {
    const stop = await runPhaseList(phases, run, false);
    if (stop) {
      await io.writeSummary(`${heading()} ❌\n\n**${stop.reason}**\n`);
      return { exitCode: 1, message: stop.reason ?? `${verb} ${stop.outcome}` };
    }
    await io.writeSummary(`${heading()} ✅\n\n${run.summary ?? ''}`);
    return { exitCode: 0 };
  } catch (error) {
    // Before the target is known nothing was touched: the error (an input, an unreachable API) is the command's.
    if (!run.target) throw error;
    const message = `${verb} failed: ${(error as Error).message}`;
    await io.writeSummary(`${heading()} ❌\n\n**${message}**\n`);
    return { exitCode: 1, message };
  } finally {
    await run.release();
  }
}

export const BACKUP_PHASES: readonly Phase<RecoveryRun>[] = [targetPhase, identityPhase, backupNowPhase];
export const ROLLBACK_PHASES: readonly Phase<RecoveryRun>[] = [targetPhase, confirmPhase, identityPhase, rollbackLockPhase, rollbackPhase];

/** command: backup — every node's backup now, placed as the backup inputs say. */
export function runBackupStep(settings: Settings, io: RecoveryIo): Promise<RecoveryResult> {
  return runRecovery('Backup', 'the backup', BACKUP_PHASES, settings, io);
}

/** command: rollback — refuses without confirm-rollback = the cluster's name and without a verified snapshot. */
export function runRollbackStep(settings: Settings, io: RecoveryIo): Promise<RecoveryResult> {
  return runRecovery('Rollback', 'rollback', ROLLBACK_PHASES, settings, io);
}
