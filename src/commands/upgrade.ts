// command: upgrade — the whole cluster in one job: the first control plane, the others one at a time, the
// workers in batches of max-unavailable, then verify.
import type { CommandDeps, CommandResult } from './deps.ts';
import { runUpgradeScope } from './run-upgrade.ts';

export function upgradeCommand(deps: CommandDeps): Promise<CommandResult> {
  return runUpgradeScope({
    command: 'upgrade',
    select: (schedule) => ({ schedule, phases: { controlPlanes: true, workers: true } }),
    verifyAfter: true,
  }, deps);
}
