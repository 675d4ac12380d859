// The phase model above the node: a command (upgrade, control-plane, workers, node, verify) is an ordered list of
// phases run by one manager (manager.ts). A phase is a small object in the shape of k0sctl's phases: a title,
// whether it runs in this run, run, and dry-run; dry-run goes through the same manager and the same phases.
import type { LockHolder } from '../../adapters/cluster/lease.ts';
import type { NodeProgress } from '../../adapters/cluster/progress.ts';
import type { RunCommand, RunEvent, RunOutcome } from '../../core/run-record.ts';
import { uniquePermissions, type Permission } from '../../core/permissions.ts';
import type { Settings } from '../../core/settings.ts';
import type { UpgradeOptions } from '../../core/upgrade-options.ts';
import type { RunPhases } from '../../upgrade/runner.ts';
import type { Schedule, ScheduledNode } from '../../upgrade/schedule.ts';
import type { NodeFacts, RunFacts, UpgradeTarget } from '../../upgrade/types.ts';
import type { CommandDeps, PreparedPlan } from '../deps.ts';
import type { UpgradeBackup } from '../upgrade-backup.ts';

export type EventBody = RunEvent extends infer E ? (E extends RunEvent ? Omit<E, 'at'> : never) : never;

/** What the phases of one run share; each phase fills in what later ones read. */
export interface RunState {
  deps: CommandDeps;
  command: RunCommand;
  emit(event: EventBody): void;
  dryRun: boolean;
  /** the plan command's result (plan phase) */
  prepared?: PreparedPlan;
  /** the lock (lock phase); released when the run finishes */
  holder?: LockHolder;
  lostTo?: string;
  release(): Promise<void>;
  /** progress read from the nodes and this command's part of the schedule (schedule phase) */
  progress?: Map<string, NodeProgress | undefined>;
  schedule?: Schedule;
  parts?: RunPhases;
  nodes: ScheduledNode[];
  target?: UpgradeTarget;
  factsOf?: (node: string) => NodeFacts;
  backup: UpgradeBackup;
  /** facts stages hand on (the CoreDNS version kubeadm announced) */
  facts: RunFacts;
  /** the target version verify checks (verify phase) */
  verifyVersion?: string;
}

/** A phase that ends the run early: with this outcome and the reason the report gives. */
export interface PhaseStop {
  outcome: RunOutcome;
  reason?: string;
}

/** A phase over the state S its command's phases share (RunState for the upgrade commands). */
export interface Phase<S = RunState> {
  title: string;
  /** false: the phase has nothing to do in this run (it is skipped, in dry runs too) */
  shouldRun?(run: S): boolean;
  run(run: S): Promise<PhaseStop | undefined>;
  /** what the phase would do, printed to the log; absent: the phase only reads, so it runs as it is */
  dryRun?(run: S): Promise<PhaseStop | undefined>;
  /**
   * The Kubernetes API permissions the phase's calls need (the adapters' lists), for the preflight access
   * review and the README's role; absent: the phase makes no API call.
   */
  access?(needs: AccessNeeds): readonly Permission[];
}

/** What a command's phase list is made from. */
export type PhaseDeps = Pick<CommandDeps, 'settings' | 'options'>;

/** What decides a phase's permissions: the inputs (dry run, drain-fallback-delete, verify-workload). */
export interface AccessNeeds {
  settings: Settings;
  options: UpgradeOptions;
}

/** The permissions a list of phases needs, each once. */
export function phasesAccess<S>(phases: readonly Phase<S>[], needs: AccessNeeds): Permission[] {
  return uniquePermissions(phases.map((p) => p.access?.(needs) ?? []));
}

/**
 * Runs phases in order (dryRun instead of run in a dry run, when the phase has one); the first stop ends the list.
 * The one loop every command goes through.
 */
export async function runPhaseList<S>(phases: readonly Phase<S>[], state: S, dryRun: boolean): Promise<PhaseStop | undefined> {
  for (const phase of phases) {
    if (phase.shouldRun && !phase.shouldRun(state)) continue;
    const stop = dryRun && phase.dryRun ? await phase.dryRun(state) : await phase.run(state);
    if (stop) return stop;
  }
  return undefined;
}

/** The run's prepared plan, once the plan phase ran (every later phase runs after it). */
export function preparedOf(run: RunState): PreparedPlan {
  if (!run.prepared) throw new Error('the plan phase must run before this phase');
  return run.prepared;
}

export function scheduleOf(run: RunState): Schedule {
  if (!run.schedule || !run.parts) throw new Error('the schedule phase must run before this phase');
  return run.schedule;
}
