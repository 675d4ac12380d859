// Runs a command's phases in order, the same way for a real run and a dry run, and reports once at the end:
// job summary, outputs and PR comment from the RunRecord the phases' events fold into.
import { foldRun, type RunCommand, type RunEvent, type RunOutcome } from '../../core/run-record.ts';
import { runOutputs, runSummaryMarkdown } from '../../report/run-report.ts';
import type { CommandDeps, CommandResult } from '../deps.ts';
import { phasesAccess, runPhaseList, type EventBody, type Phase, type RunState } from './phase.ts';

export async function runPhases(
  command: RunCommand,
  phases: readonly Phase[],
  deps: CommandDeps,
  target = deps.settings.target.raw,
): Promise<CommandResult> {
  // preflight, before any node is touched: the kubeconfig may do what every phase of the command needs
  await deps.checkAccess?.(command, phasesAccess(phases, { settings: deps.settings, options: deps.options }));
  const events: RunEvent[] = [];
  const run: RunState = {
    deps,
    command,
    dryRun: deps.options.dryRun,
    nodes: [],
    backup: { outputs: {} },
    facts: {},
    emit: (event: EventBody) => events.push({ ...event, at: deps.clock.now() } as RunEvent),
    release: async () => {},
  };
  run.emit({ type: 'run-started', command, target });

  const finish = async (outcome: RunOutcome, reason?: string): Promise<CommandResult> => {
    await run.release();
    run.emit({ type: 'run-finished', outcome, ...(reason ? { reason } : {}) });
    const record = foldRun(events);
    const markdown = runSummaryMarkdown(record) + (run.backup.summary ? `\n${run.backup.summary}` : '');
    deps.reporter.setOutputs({ ...runOutputs(record), ...run.backup.outputs });
    const notice = await deps.reporter.prComment(record, markdown);
    await deps.reporter.writeSummary(markdown + (notice ? `\n> [!NOTE]\n> ${notice}\n` : ''));
    const ok: RunOutcome[] = ['succeeded', 'nothing-to-do'];
    return { record, exitCode: ok.includes(outcome) ? 0 : 1 };
  };

  try {
    const stop = await runPhaseList(phases, run, run.dryRun);
    if (stop) return await finish(stop.outcome, stop.reason);
  } catch (error) {
    // Before the plan exists nothing was touched: the error (an input, an unreachable API) is the command's.
    if (!run.prepared) throw error;
    run.emit({ type: 'note', level: 'warning', text: `the run stopped on an error: ${(error as Error).message}` });
    return finish('failed', (error as Error).message);
  }
  if (run.dryRun) return finish('succeeded', 'Dry run: the commands are in the log; nothing was changed.');
  if (run.command !== 'verify' && run.nodes.length === 0) {
    return finish(
      'nothing-to-do',
      run.verifyVersion ? undefined : `Every node of this ${command} run is already at ${run.target?.version ?? target}.`,
    );
  }
  return finish('succeeded');
}
