// command: control-plane — only the control planes, one at a time (a workflow then fans the workers out to a
// matrix of `command: workers` jobs).
import type { CommandDeps, CommandResult } from './deps.ts';
import { backupPhase } from './phases/backup.ts';
import { lockPhase } from './phases/lock.ts';
import { runPhases } from './phases/manager.ts';
import type { Phase, PhaseDeps } from './phases/phase.ts';
import { controlPlanesPhase } from './phases/nodes.ts';
import { planPhase } from './phases/plan.ts';
import { schedulePhase } from './phases/schedule.ts';

/** The command's phases in order (their `access` is what the preflight review asks for). */
export function controlPlanePhases(_deps: PhaseDeps): Phase[] {
  return [
    planPhase(),
    lockPhase(),
    schedulePhase({
      select: (schedule) => ({
        schedule: { ...schedule, workerBatches: [], skipped: schedule.skipped.filter((s) => s.role === 'control-plane') },
        parts: { controlPlanes: true, workers: false },
      }),
    }),
    backupPhase,
    controlPlanesPhase,
  ];
}

export function controlPlaneCommand(deps: CommandDeps): Promise<CommandResult> {
  return runPhases('control-plane', controlPlanePhases(deps), deps);
}
