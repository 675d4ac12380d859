// command: workers with `batch: N` — one worker batch (one worker-matrix entry). Refuses while any control
// plane is not yet at the target. Batches are numbered over every inventory worker, upgraded or not, so the
// index a matrix leg got from the plan names the same nodes in every leg, however far the others are.
import { planOrder } from '../core/order.ts';
import type { CommandDeps, CommandResult, PreparedPlan } from './deps.ts';
import { lockPhase } from './phases/lock.ts';
import { runPhases } from './phases/manager.ts';
import type { Phase, PhaseDeps } from './phases/phase.ts';
import { workersPhase } from './phases/nodes.ts';
import { planPhase } from './phases/plan.ts';
import { schedulePhase } from './phases/schedule.ts';
import type { Schedule } from '../upgrade/schedule.ts';

/** The worker batches as the plan numbers them when no worker is upgraded yet. */
export function stableWorkerBatches(prepared: PreparedPlan, deps: PhaseDeps) {
  return planOrder({
    state: prepared.state,
    inventory: prepared.inventory,
    targetVersion: undefined,
    maxUnavailable: deps.settings.maxUnavailable,
    ...(deps.settings.batchByLabel ? { batchByLabel: deps.settings.batchByLabel } : {}),
  }).order.workerBatches;
}

/** Why workers may not start yet: control planes still to do (pending or mid-way). */
export function controlPlanesPending(schedule: Schedule): string | undefined {
  if (schedule.controlPlanes.length === 0) return undefined;
  const names = schedule.controlPlanes.map((c) =>
    c.doneBefore.length > 0 ? `${c.job.name} (resumes at ${c.stages.find((s) => !c.doneBefore.includes(s))})` : c.job.name,
  );
  return `Control plane(s) not yet at the target: ${names.join(', ')}. Workers are upgraded only after every control plane (the upstream order); run command: control-plane first.`;
}

/** The command's phases in order (their `access` is what the preflight review asks for). */
export function workersPhases(deps: PhaseDeps): Phase[] {
  const index = deps.options.batch ?? 0;
  return [
    planPhase(),
    lockPhase(` (batch ${index})`),
    schedulePhase({
      scheduleOptions: (prepared) => {
        const batch = stableWorkerBatches(prepared, deps).find((b) => b.index === index);
        return { workerBatches: batch ? [batch] : [] };
      },
      select: (schedule, prepared) => {
        const pending = controlPlanesPending(schedule);
        if (pending) return { refuse: pending };
        const batches = stableWorkerBatches(prepared, deps);
        if (!batches.some((b) => b.index === index)) {
          return {
            refuse: `batch ${index} does not exist: the plan has ${batches.length} worker batch(es)${batches.length > 0 ? ` (0 to ${batches.length - 1})` : ''}`,
          };
        }
        return {
          schedule: { ...schedule, controlPlanes: [], skipped: schedule.skipped.filter((s) => s.role === 'worker') },
          parts: { controlPlanes: false, workers: true },
        };
      },
    }),
    workersPhase,
  ];
}

export function workersCommand(deps: CommandDeps): Promise<CommandResult> {
  return runPhases('workers', workersPhases(deps), deps);
}
