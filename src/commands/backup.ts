// command: backup, and the backup stage of the upgrade (before the first control plane's
// `kubeadm upgrade apply`). Both call runBackup; the stage is a small object the upgrade runner lists.
import type { InventoryNode } from '../core/inventory.ts';
import type { NodeShell } from '../adapters/transport/node-shell.ts';
import { actionsArtifactUploader, type ArtifactUploader } from '../backup/artifact.ts';
import { BACKUP_RUNNER_DIR, runBackup, type BackupOptions } from '../backup/backup.ts';
import type { BackupSettings } from '../core/settings.ts';
import { backupOutputs, backupSummaryMarkdown } from '../backup/report.ts';
import type { BackupOutcome } from '../backup/types.ts';

export interface BackupCommandContext {
  cluster: string;
  /** GITHUB_RUN_ID (or 'local') and GITHUB_RUN_ATTEMPT */
  runId: string;
  runAttempt?: string;
  nodes: InventoryNode[];
  /** RUNNER_TEMP; the copies go to RUNNER_TEMP/kubeadm-upgrade-backup/<run> */
  runnerTemp: string;
  openShell: (node: InventoryNode) => Promise<NodeShell>;
  log: (message: string) => void;
  warn: (message: string) => void;
  uploader?: ArtifactUploader;
  parallelism?: number;
  /**
   * True once any node of this cluster was upgraded by this run (progress annotations): a backup taken then
   * would record the half-upgraded state, and rollback would take it for the one to return to.
   */
  upgradeStarted?: () => boolean;
}

export interface BackupCommandResult {
  outcome: BackupOutcome;
  summary: string;
  outputs: Record<string, string>;
}

export function backupOptions(settings: BackupSettings, ctx: BackupCommandContext): BackupOptions {
  return {
    cluster: ctx.cluster,
    runId: ctx.runId,
    ...(ctx.runAttempt ? { runAttempt: ctx.runAttempt } : {}),
    nodes: ctx.nodes,
    keep: settings.keep,
    recipients: settings.recipients,
    upload: settings.upload,
    ...(settings.retentionDays !== undefined ? { retentionDays: settings.retentionDays } : {}),
    runnerDir: `${ctx.runnerTemp}/${BACKUP_RUNNER_DIR}/${ctx.runId.replace(/[^A-Za-z0-9._-]/g, '-')}`,
    ...(settings.externalEtcd ? { externalEtcd: settings.externalEtcd } : {}),
    ...(ctx.parallelism ? { parallelism: ctx.parallelism } : {}),
  };
}

/** command: backup — the whole backup; returns the summary section and the outputs (backup-path, backup-artifact). */
export async function backupCommand(settings: BackupSettings, ctx: BackupCommandContext): Promise<BackupCommandResult> {
  const outcome = await runBackup(backupOptions(settings, ctx), {
    openShell: ctx.openShell,
    uploader: ctx.uploader ?? actionsArtifactUploader(),
    log: ctx.log,
    warn: ctx.warn,
  });
  return { outcome, summary: backupSummaryMarkdown(outcome), outputs: backupOutputs(outcome) };
}

/** The backup as a stage of the upgrade: runs once per run (not per node), before the first `upgrade apply`. */
export interface BackupStage {
  name: 'backup';
  shouldRun(): boolean;
  run(): Promise<BackupCommandResult>;
  dryRun(): string;
  /** the result once run() has finished (the runner puts it in the run record) */
  result(): BackupCommandResult | undefined;
}

export function createBackupStage(settings: BackupSettings, ctx: BackupCommandContext): BackupStage {
  let done: BackupCommandResult | undefined;
  return {
    name: 'backup',
    shouldRun: () => settings.enabled && done === undefined && !(ctx.upgradeStarted?.() ?? false),
    async run() {
      done = await backupCommand(settings, ctx);
      return done;
    },
    dryRun() {
      if (ctx.upgradeStarted?.())
        return 'would not back up: this run already upgraded a node (the backup from its first attempt is the one to roll back to)';
      const cps = ctx.nodes.filter((n) => n.role === 'control-plane').map((n) => n.name);
      const where =
        settings.upload === 'none'
          ? 'kept on the nodes'
          : settings.recipients.length > 0 || settings.upload === 'unencrypted'
            ? `uploaded as an ${settings.upload === 'unencrypted' ? 'UNENCRYPTED' : 'age-encrypted'} artifact`
            : 'kept on the nodes (no backup-encryption-recipients)';
      return `would snapshot etcd on ${cps[0] ?? '(no control plane)'}, save kubeadm files on ${cps.length} control plane(s) and kubelet files on ${ctx.nodes.length - cps.length} worker(s), keep the last ${settings.keep} on each node, ${where}`;
    },
    result: () => done,
  };
}
