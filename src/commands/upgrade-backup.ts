// The backup inside the upgrade: taken once, before the first control plane's `kubeadm upgrade apply`, and
// never of a half-upgraded cluster (a resumed run points at the backup an earlier attempt took instead); after
// each `kubeadm upgrade apply/node`, the folders kubeadm itself left are listed (and collected) for the report.
import type { NodeProgress } from '../adapters/cluster/progress.ts';
import type { InventoryNode } from '../core/inventory.ts';
import type { RunEvent } from '../core/run-record.ts';
import { backupArtifactName } from '../backup/artifact.ts';
import { collectKubeadmBackups, listKubeadmBackups, type KubeadmBackupFolder } from '../backup/kubeadm-backups.ts';
import { listOwnBackups } from '../backup/retention.ts';
import type { Schedule } from '../upgrade/schedule.ts';
import type { NodeJob } from '../upgrade/types.ts';
import { backupOptions, createBackupStage, type BackupCommandContext, type BackupCommandResult } from './backup.ts';
import type { CommandDeps, PreparedPlan } from './deps.ts';

type EventBody = RunEvent extends infer E ? (E extends RunEvent ? Omit<E, 'at'> : never) : never;
type Emit = (event: EventBody) => void;

/** The cluster's name: the inventory's `cluster`, else kubeadm-config's clusterName. */
export function clusterNameOf(prepared: Pick<PreparedPlan, 'inventory' | 'state'>): string {
  return prepared.inventory.cluster ?? prepared.state.kubeadmConfig?.clusterName ?? 'kubernetes';
}

/** Why a backup taken now would record a half-upgraded cluster; undefined while nothing was changed for the target. */
export function upgradeStartedBecause(
  target: string,
  kubeadmConfigVersion: string | undefined,
  progress: ReadonlyMap<string, NodeProgress | undefined>,
): string | undefined {
  if (kubeadmConfigVersion !== undefined && kubeadmConfigVersion.replace(/^v/, '') === target)
    return `kubeadm-config already holds ${target} (kubeadm upgrade apply ran)`;
  const touched = [...progress]
    .filter(([, p]) => p?.target === target && (p.doneStages.length > 0 || p.stage !== undefined))
    .map(([name]) => name);
  return touched.length > 0 ? `an earlier run already worked on ${touched.join(', ')} for ${target} (progress annotations)` : undefined;
}

/** Whether the first control plane's `kubeadm upgrade apply` is still to come in the part this command runs. */
export function applyPending(schedule: Schedule, controlPlanesRun: boolean): boolean {
  return (
    controlPlanesRun && schedule.controlPlanes.some((c) => c.job.kubeadmAction === 'apply' && !c.doneBefore.includes('kubeadm-upgrade'))
  );
}

export interface UpgradeBackup {
  /** this run's backup, when it took one */
  taken?: BackupCommandResult;
  /** the backup the report points at: this run's, or the newest found on the nodes on a resumed run */
  id?: string;
  /** outputs for the step (backup-id, backup-path, backup-artifact) */
  outputs: Record<string, string>;
  /** the backup's section of the job summary */
  summary?: string;
}

export interface BackupStageInput {
  deps: CommandDeps;
  prepared: PreparedPlan;
  emit: Emit;
  /** why the cluster is already half-upgraded, or undefined */
  startedBecause: string | undefined;
}

function backupContext({ deps, prepared, startedBecause }: BackupStageInput): BackupCommandContext {
  return {
    cluster: clusterNameOf(prepared),
    runId: deps.identity.runId,
    runAttempt: String(deps.identity.attempt),
    nodes: prepared.inventory.nodes,
    runnerTemp: deps.artifacts.runnerTemp,
    openShell: (node: InventoryNode) => deps.openShell(node.name),
    log: (line) => deps.reporter.info(line),
    warn: (line) => deps.reporter.warning(line),
    uploader: deps.artifacts.uploader,
    parallelism: deps.settings.parallelism,
    upgradeStarted: () => startedBecause !== undefined,
  };
}

/** The dry run's line for the backup. */
export function backupDryRun(input: BackupStageInput): string {
  if (!input.deps.settings.backup.enabled) return 'backup: false — no backup is taken';
  return createBackupStage(input.deps.settings.backup, backupContext(input)).dryRun();
}

/** The newest backup this action made on the first control plane, for a run that does not take a new one. */
async function newestOnNodes(deps: CommandDeps, prepared: PreparedPlan): Promise<string | undefined> {
  const first = prepared.inventory.nodes.find((n) => n.role === 'control-plane');
  if (!first) return undefined;
  const shell = await deps.openShell(first.name);
  try {
    return (await listOwnBackups(shell)).at(-1);
  } finally {
    await shell.close();
  }
}

/**
 * Runs the backup stage. Throws when the backup failed or its snapshot is not verified: the upgrade must stop
 * before `kubeadm upgrade apply`. On a resumed run it takes none and points at the earlier one.
 */
export async function runBackupStage(input: BackupStageInput): Promise<UpgradeBackup> {
  const { deps, prepared, emit, startedBecause } = input;
  const settings = deps.settings.backup;
  if (!settings.enabled) {
    emit({
      type: 'note',
      level: 'warning',
      text: 'backup: false — no backup was taken before kubeadm upgrade apply; command: rollback has nothing from this run to return to',
    });
    return { outputs: {} };
  }
  const stage = createBackupStage(settings, backupContext(input));
  if (!stage.shouldRun()) {
    const earlier = await newestOnNodes(deps, prepared).catch(() => undefined);
    emit({
      type: 'note',
      level: earlier ? 'info' : 'warning',
      text: `No new backup: ${startedBecause}, so a backup now would record a half-upgraded cluster. ${earlier ? `The backup to roll back to is ${earlier} on the nodes (the newest this action made; rollback-source: ${earlier}).` : 'No backup made by this action was found on the first control plane.'}`,
    });
    return { ...(earlier ? { id: earlier } : {}), outputs: earlier ? { 'backup-id': earlier } : {} };
  }
  deps.reporter.info('Backing up before kubeadm upgrade apply (etcd snapshot, control-plane and kubelet files, package versions)');
  const taken = await stage.run();
  const { manifest } = taken.outcome;
  const snapshot = manifest.nodes.find((n) => n.etcd)?.etcd;
  if (!snapshot || !/^[0-9a-f]{64}$/.test(snapshot.file.sha256) || !(snapshot.status.totalKey > 0)) {
    throw new Error(`backup ${manifest.id} holds no verified etcd snapshot`);
  }
  emit({
    type: 'note',
    level: 'info',
    text: `Backup ${manifest.id}: etcd snapshot verified (revision ${snapshot.status.revision}, ${snapshot.status.totalKey} keys, sha256 ${snapshot.file.sha256.slice(0, 12)}…). ${taken.outcome.reason}.`,
  });
  for (const warning of taken.outcome.warnings) emit({ type: 'note', level: 'warning', text: `backup: ${warning}` });
  return { taken, id: manifest.id, outputs: taken.outputs, summary: taken.summary };
}

function describeFolders(node: string, folders: KubeadmBackupFolder[]): string {
  if (folders.length === 0) return `${node}: kubeadm left no /etc/kubernetes/tmp/kubeadm-backup-* folder`;
  return `${node}: kubeadm left ${folders.map((f) => `${f.path} (${f.sizeKb} KiB)`).join(', ')}`;
}

/** The runner hook: after `kubeadm upgrade apply/node`, list kubeadm's backup folders; collect them when asked. */
export function kubeadmBackupsHook(
  deps: CommandDeps,
  prepared: PreparedPlan,
  emit: Emit,
  backup: () => UpgradeBackup,
): (job: NodeJob) => Promise<void> {
  const settings = deps.settings.backup;
  return async (job) => {
    const shell = await deps.openShell(job.name);
    try {
      if (!settings.collectKubeadmBackups) {
        emit({ type: 'note', level: 'info', node: job.name, text: describeFolders(job.name, await listKubeadmBackups(shell)) });
        return;
      }
      const id = backup().taken?.outcome.manifest.id ?? (await listOwnBackups(shell)).at(-1);
      if (!id) {
        emit({
          type: 'note',
          level: 'warning',
          node: job.name,
          text: `${describeFolders(job.name, await listKubeadmBackups(shell))}; not collected: no backup folder of this action on the node to put them in`,
        });
        return;
      }
      const encrypted = settings.upload === 'encrypted' && settings.recipients.length > 0;
      const name = `${backupArtifactName(clusterNameOf(prepared), deps.identity.runId, String(deps.identity.attempt))}-kubeadm-${job.name}`;
      const runnerDir = `${backupOptions(settings, backupContext({ deps, prepared, emit, startedBecause: undefined })).runnerDir}/artifact`;
      const upload = encrypted
        ? {
            recipients: settings.recipients,
            runnerDir,
            artifactName: name,
            uploader: deps.artifacts.uploader,
            ...(settings.retentionDays !== undefined ? { retentionDays: settings.retentionDays } : {}),
          }
        : undefined;
      const collected = await collectKubeadmBackups(shell, id, upload);
      const where = collected.artifactName
        ? `; uploaded encrypted as artifact ${collected.artifactName}`
        : collected.keptOnRunner
          ? `; the encrypted copy is on the runner at ${collected.keptOnRunner}`
          : encrypted
            ? ''
            : ' (not uploaded: no backup-encryption-recipients)';
      emit({
        type: 'note',
        level: 'info',
        node: job.name,
        text: `${describeFolders(job.name, collected.folders)}${collected.onNode ? `; collected into ${collected.onNode.path} on the node${where}` : ''}`,
      });
    } finally {
      await shell.close();
    }
  };
}
