// command: upgrade — the whole cluster in one job: the first control plane, the others one at a time, the
// workers in batches of max-unavailable, then verify.
import type { CommandDeps, CommandResult } from './deps.ts';
import { backupPhase } from './phases/backup.ts';
import { lockPhase } from './phases/lock.ts';
import { runPhases } from './phases/manager.ts';
import type { Phase, PhaseDeps } from './phases/phase.ts';
import { controlPlanesPhase, workersPhase } from './phases/nodes.ts';
import { planPhase } from './phases/plan.ts';
import { schedulePhase } from './phases/schedule.ts';
import { verifyAfterUpgradePhase } from './phases/verify.ts';

/** The command's phases in order (their `access` is what the preflight review asks for). */
export function upgradePhases(_deps: PhaseDeps): Phase[] {
  return [
    planPhase(),
    lockPhase(),
    schedulePhase({ select: (schedule) => ({ schedule, parts: { controlPlanes: true, workers: true } }) }),
    backupPhase,
    controlPlanesPhase,
    workersPhase,
    verifyAfterUpgradePhase,
  ];
}

export function upgradeCommand(deps: CommandDeps): Promise<CommandResult> {
  return runPhases('upgrade', upgradePhases(deps), deps);
}
