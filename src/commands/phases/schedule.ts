// Which nodes this command works on and from which stage: the plan's order corrected by the progress recorded on
// the nodes (resume), narrowed to the command's part (all, control planes, one worker batch, one node).
import pLimit from 'p-limit';
import { PROGRESS_ACCESS, type NodeProgress } from '../../adapters/cluster/progress.ts';
import type { RunPhases } from '../../upgrade/runner.ts';
import { buildSchedule, scheduledNodes, type Schedule, type ScheduleOptions } from '../../upgrade/schedule.ts';
import { nodeFacts, planTarget } from '../../upgrade/procedure.ts';
import type { CommandDeps, PreparedPlan } from '../deps.ts';
import { preparedOf, type Phase } from './phase.ts';

export interface ScheduleScope {
  scheduleOptions?(prepared: PreparedPlan): ScheduleOptions;
  /** the part of the schedule this command runs, or why it refuses */
  select(schedule: Schedule, prepared: PreparedPlan): { schedule: Schedule; parts: RunPhases } | { refuse: string };
}

async function readAllProgress(deps: CommandDeps, names: string[]): Promise<Map<string, NodeProgress | undefined>> {
  const limit = pLimit(10);
  const entries = await Promise.all(names.map((name) => limit(async () => [name, await deps.cluster.readProgress(name)] as const)));
  return new Map(entries);
}

export function schedulePhase(scope: ScheduleScope): Phase {
  return {
    title: 'schedule',
    access: () => PROGRESS_ACCESS.filter((p) => p.verb === 'get'),
    async run(run) {
      const prepared = preparedOf(run);
      const { plan, state } = prepared;
      run.progress = await readAllProgress(
        run.deps,
        plan.nodes.map((n) => n.name),
      );
      const full = buildSchedule(plan, run.progress, scope.scheduleOptions?.(prepared) ?? {});
      if (full.problems.length > 0) {
        for (const problem of full.problems) run.emit({ type: 'note', level: 'warning', text: problem });
        return {
          outcome: 'refused',
          reason: `Nothing was changed: ${full.problems.length} node(s) cannot be upgraded by this action (see the notes).`,
        };
      }
      const selected = scope.select(full, prepared);
      if ('refuse' in selected) return { outcome: 'refused', reason: selected.refuse };
      run.schedule = selected.schedule;
      run.parts = selected.parts;
      for (const skipped of selected.schedule.skipped)
        run.emit({
          type: 'node-skipped',
          node: skipped.name,
          role: skipped.role,
          ...(skipped.batch !== undefined ? { batch: skipped.batch } : {}),
          reason: skipped.reason,
        });
      run.nodes = scheduledNodes(selected.schedule);
      for (const node of run.nodes) {
        run.emit({
          type: 'node-scheduled',
          node: node.job.name,
          role: node.job.role,
          ...(node.job.batch !== undefined ? { batch: node.job.batch } : {}),
          stages: node.stages,
          doneBefore: node.doneBefore,
        });
      }
      run.target = planTarget(plan, run.deps.options);
      const reports = new Map(state.nodeReports.map((r) => [r.name, r]));
      const observed = new Map(state.nodes.map((n) => [n.name, n]));
      run.factsOf = (name) => nodeFacts(reports.get(name), observed.get(name));
      return undefined;
    },
  };
}
