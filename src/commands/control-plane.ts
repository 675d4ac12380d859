// command: control-plane — only the control planes, one at a time (a workflow then fans the workers out to a
// matrix of `command: workers` jobs).
import type { CommandDeps, CommandResult } from './deps.ts';
import { runUpgradeScope } from './run-upgrade.ts';

export function controlPlaneCommand(deps: CommandDeps): Promise<CommandResult> {
  return runUpgradeScope({
    command: 'control-plane',
    select: (schedule) => ({
      schedule: { ...schedule, workerBatches: [], skipped: schedule.skipped.filter((s) => s.role === 'control-plane') },
      phases: { controlPlanes: true, workers: false },
    }),
    verifyAfter: false,
  }, deps);
}
