// command: rollback — see src/backup/rollback.ts for the procedure. Refuses without confirm-rollback set to
// the cluster's name, and without a verified snapshot in the recorded backup.
import type { KubeConfig } from '@kubernetes/client-node';
import type { InventoryNode } from '../core/inventory.ts';
import type { NodeShell } from '../adapters/transport/node-shell.ts';
import { apiWaiters } from '../backup/api-wait.ts';
import type { BackupSettings } from '../core/settings.ts';
import { DEFAULT_PACKAGE_LOCK_TIMEOUT_MS } from '../core/upgrade-options.ts';
import { runRollback, type RollbackReport } from '../backup/rollback.ts';
import { ROLLBACK_RUNNER_DIR } from '../backup/backup.ts';
import type { RollbackSource } from '../backup/rollback-source.ts';

export interface RollbackCommandContext {
  cluster: string;
  nodes: InventoryNode[];
  /** the backup to return to: on the nodes (newest, or an id), or an unpacked artifact on the runner */
  source: RollbackSource;
  runnerTemp: string;
  kubeConfig: KubeConfig;
  openShell: (node: InventoryNode) => Promise<NodeShell>;
  log: (message: string) => void;
  waitTimeoutMs?: number;
  /** package-lock-timeout (its default when absent) */
  packageLockTimeoutMs?: number;
}

export function rollbackSummaryMarkdown(report: RollbackReport): string {
  const lines = [
    `### Rollback to backup \`${report.backupId}\``,
    '',
    `etcd restored from the snapshot at revision ${report.snapshot.status.revision} (${report.snapshot.status.totalKey} keys) on ${report.controlPlanes.join(', ')}.`,
    `Workers put back: ${report.workers.length > 0 ? report.workers.join(', ') : 'none needed'}.`,
    '',
    '| node | packages changed | failed state kept at |',
    '| --- | --- | --- |',
  ];
  for (const node of new Set([...report.controlPlanes, ...report.workers])) {
    lines.push(
      `| ${node} | ${report.packageChanges[node]?.join(', ') || 'none'} | ${(report.keptAside[node] ?? []).map((p) => `\`${p}\``).join(', ') || '-'} |`,
    );
  }
  return `${lines.join('\n')}\n`;
}

export async function rollbackCommand(
  settings: Pick<BackupSettings, 'confirmRollback'>,
  ctx: RollbackCommandContext,
): Promise<{ report: RollbackReport; summary: string }> {
  const waiters = apiWaiters(ctx.kubeConfig, ctx.waitTimeoutMs);
  const report = await runRollback(
    {
      cluster: ctx.cluster,
      confirm: settings.confirmRollback,
      nodes: ctx.nodes,
      source: ctx.source,
      runnerDir: `${ctx.runnerTemp}/${ROLLBACK_RUNNER_DIR}`,
      packageLockTimeoutSeconds: Math.ceil((ctx.packageLockTimeoutMs ?? DEFAULT_PACKAGE_LOCK_TIMEOUT_MS) / 1000),
    },
    { openShell: ctx.openShell, waitForApi: waiters.waitForApi, waitNodesReady: waiters.waitNodesReady, log: ctx.log },
  );
  return { report, summary: rollbackSummaryMarkdown(report) };
}
