// The verified etcd snapshot and config backups, before the first control plane's `kubeadm upgrade apply`
// (not again when a re-run resumes after apply). A failed backup stops the run before any node is changed.
import { applyPending, backupDryRun, runBackupStage, upgradeStartedBecause, type BackupStageInput } from '../upgrade-backup.ts';
import { preparedOf, scheduleOf, type Phase, type RunState } from './phase.ts';

function stageInput(run: RunState): BackupStageInput {
  const prepared = preparedOf(run);
  return {
    deps: run.deps,
    prepared,
    emit: run.emit,
    startedBecause: upgradeStartedBecause(run.target!.version, prepared.state.kubeadmConfig?.kubernetesVersion, run.progress ?? new Map()),
  };
}

export const backupPhase: Phase = {
  title: 'backup',
  shouldRun: (run) => applyPending(scheduleOf(run), run.parts!.controlPlanes),
  async run(run) {
    try {
      run.backup = await runBackupStage(stageInput(run));
      return undefined;
    } catch (error) {
      const message = (error as Error).message;
      run.emit({ type: 'note', level: 'warning', text: `backup failed: ${message}` });
      return {
        outcome: 'failed',
        reason: `The backup failed, so the upgrade stopped before kubeadm upgrade apply and no node was changed: ${message}. Fix the cause and run again, or set backup: false to upgrade without a backup.`,
      };
    }
  },
  async dryRun(run) {
    run.deps.reporter.group('backup (dry run)', [backupDryRun(stageInput(run))]);
    return undefined;
  },
};
