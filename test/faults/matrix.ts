// The fault matrix, generated from the Action's own lists: the upgrade command's phases (upgradePhases) and a
// node's stages (NODE_STAGES). Every fault kind meets every stage on the first control plane, another control
// plane and a worker; a kind that cannot happen at a stage is skipped by a rule below, and the skip is listed with
// its reason. Adding a stage to src/upgrade/stages/index.ts adds its scenarios here without new code.
//
// A scenario says what to inject, where, and when to arm it: faults are armed when the Action's log announces a
// stage (`▶ NODE: STAGE (…)`), so a fault meant for one stage never fires in another.
import type { FaultSpec } from '../../sim/node/faults.ts';
import type { PhaseDeps } from '../../src/commands/phases/phase.ts';
import { upgradePhases } from '../../src/commands/upgrade.ts';
import { commandLine } from '../../src/upgrade/procedure.ts';
import { NODE_STAGES } from '../../src/upgrade/stages/index.ts';
import type { NodeJob, StageInput } from '../../src/upgrade/types.ts';

export const FAULT_KINDS = ['command-fails', 'ssh-drop', 'never-ready', 'api-503', 'kill'] as const;
export type FaultKind = (typeof FAULT_KINDS)[number];

/** The three roles, as nodes of the smallest cluster that has them all: 2 control planes + 1 worker. */
export const ROLES = {
  'first-cp': { node: 'cp-1', role: 'control-plane', kubeadmAction: 'apply' },
  'other-cp': { node: 'cp-2', role: 'control-plane', kubeadmAction: 'node' },
  worker: { node: 'worker-1', role: 'worker', kubeadmAction: 'node' },
} as const;
export type Role = keyof typeof ROLES;

/** How long the API answers 503 in the api-503 kind. */
export const API_OUTAGE_MS = 25_000;

/**
 * What a node prints in the command-fails kind (its stderr, shown in the log): workflow commands that must not
 * reach the runner. Each carries FAULT_MARKER, so a command the runner would execute with it came from the node.
 */
export const FAULT_MARKER = 'fault-marker-7f3a';
export const HOSTILE_OUTPUT = [
  `simulated failure (${FAULT_MARKER})`,
  `::set-output name=outcome::${FAULT_MARKER}`,
  `::save-state name=isPost::${FAULT_MARKER}`,
  `::add-mask::${FAULT_MARKER}`,
  `::stop-commands::${FAULT_MARKER}`,
  `##[set-output name=outcome;]${FAULT_MARKER}`,
].join('\n');

/** Where a fault strikes: a node's stage, or a phase of the run that touches nodes. */
export interface FaultPoint {
  /** the stage or phase name, as the report and the progress records name it */
  stage: string;
  /** the upgrade phase it belongs to ("control planes", "workers", "backup") */
  phase: string;
  /** the line in the Action's log that says the point starts (armed on its first match) */
  announce: RegExp;
}

export interface Scenario {
  id: string;
  kind: FaultKind;
  role: Role;
  node: string;
  stage: string;
  phase: string;
  /** arm the fault when this line first appears in the Action's stdout; undefined: before the run starts */
  armOn: RegExp | undefined;
  /** the faults to write when armed (empty for kill: the harness kills the bundle process) */
  faults: FaultSpec[];
  /** for command faults: the command line (quoted as the Action sends it) the fault matches */
  command?: string;
}

export interface Skipped {
  kind: FaultKind;
  role: Role | '-';
  stage: string;
  reason: string;
}

const TARGET = '9.99.99';
const escapeRegExp = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
const stageAnnounce = (node: string, stage: string) => new RegExp(`^▶ ${escapeRegExp(node)}: ${escapeRegExp(stage)} \\(`, 'm');

/** A stage's input for a node of this role, as the plan makes it (a Debian node one minor below the target). */
function stageInput(role: Role): StageInput {
  const r = ROLES[role];
  const job: NodeJob = { name: r.node, role: r.role, packageManager: 'apt', kubeadmAction: r.kubeadmAction };
  return {
    job,
    target: {
      version: TARGET,
      packageVersions: { apt: `${TARGET}-1.1` },
      kubeadmFlags: [],
      certificateRenewal: true,
      etcdUpgrade: true,
      gracefulApiserverStopMs: 0,
    },
    node: { repoFiles: [{ path: '/etc/apt/sources.list.d/kubernetes.list', minors: ['9.98'] }], cordonedBefore: false },
    drain: { timeoutMs: 120_000, deleteEmptyDirData: true, forceUnmanaged: false, fallbackDelete: false },
    readyTimeoutMs: 60_000,
    packageLockTimeoutMs: 60_000,
    kubeadmBackups: 'list',
  };
}

/** Commands that change a node (the same list the upgrade e2e tests use to tell changes from probes). */
export const CHANGING =
  /(^|\s)(kubeadm upgrade (apply|node)|apt-get install|(yum|dnf) (install|downgrade)|apt-mark( -o \S+)* (hold|unhold)|(yum|dnf)( --setopt=\S+)* versionlock (add|delete)|systemctl restart|sed -i|tee )/;

/**
 * The part of a command line that does not depend on the plan's facts (the target version, a revision read at
 * run time, option values): its words up to the first one that does, so the fault matches the real command.
 */
function stableMatch(argv: readonly (string | { runtime: string })[]): string {
  const words: string[] = [];
  for (const arg of argv) {
    if (typeof arg !== 'string' || arg.includes('9.9') || (words.length >= 2 && arg.startsWith('-'))) break;
    words.push(arg);
  }
  return commandLine(words);
}

export interface StageCommands {
  stage: string;
  /** each command step's full line and the stable part a fault matches */
  commands: { line: string; match: string; changing: boolean }[];
}

/** Every stage this role's node runs, with its commands (from the stages' own steps). */
export function stageCommands(role: Role): StageCommands[] {
  const input = stageInput(role);
  return NODE_STAGES.filter((s) => s.shouldRun?.(input) ?? true).map((stage) => ({
    stage: stage.name,
    commands: stage
      .steps(input)
      .flatMap((step) => (step.kind === 'command' ? [step] : []))
      .map((step) => {
        const line = commandLine(step.argv.map((a) => (typeof a === 'string' ? a : a.shown)));
        return { line, match: stableMatch(step.argv), changing: CHANGING.test(line) };
      }),
  }));
}

/**
 * The command a command fault strikes in a stage: the one right after the stage's first changing command (the
 * node is then half changed, the hardest case for a re-run), or that changing command when it is the stage's last.
 * Undefined when the stage changes nothing through a command (drain, wait-ready, uncordon work through the API).
 */
export function faultedCommand(stage: StageCommands): { line: string; match: string; index: number } | undefined {
  const first = stage.commands.findIndex((c) => c.changing);
  if (first < 0) return undefined;
  const index = first + 1 < stage.commands.length ? first + 1 : first;
  return { ...stage.commands[index]!, index };
}

/** The first stage after the one that restarts the kubelet: where a node that never returns Ready shows. */
function readinessStage(stages: StageCommands[]): string | undefined {
  const restart = stages.findIndex((s) => s.commands.some((c) => /systemctl restart kubelet/.test(c.line)));
  return restart >= 0 ? stages[restart + 1]?.stage : undefined;
}

/** The phases of `command: upgrade` that are not node stages, and whether a fault there touches anything. */
export const PHASE_POINTS: Record<string, { announce: RegExp; role: Role } | { skip: string }> = {
  plan: { skip: 'reads only: a fault there fails the run before the lock is taken and before any change' },
  lock: { skip: 'takes the Lease before any change; its faults are the lock tests’ (test/e2e/permissions, test/commands)' },
  schedule: { skip: 'reads the progress records only: a fault there fails the run before any change' },
  backup: { announce: /^Backing up before kubeadm upgrade apply/m, role: 'first-cp' },
  verify: { skip: 'reads only, after every node is upgraded; a fault there leaves nothing to resume' },
};

export interface Matrix {
  scenarios: Scenario[];
  skipped: Skipped[];
}

/** The whole matrix: every kind × every point (phases and node stages) × every role. */
export function faultMatrix(): Matrix {
  const scenarios: Scenario[] = [];
  const skipped: Skipped[] = [];
  const phases = upgradePhases({} as PhaseDeps).map((p) => p.title);
  for (const phase of phases) {
    if (phase === 'control planes' || phase === 'workers') {
      const roles: Role[] = phase === 'control planes' ? ['first-cp', 'other-cp'] : ['worker'];
      for (const role of roles) addStageScenarios(role, phase, scenarios, skipped);
      continue;
    }
    const point = PHASE_POINTS[phase];
    if (!point) {
      for (const kind of FAULT_KINDS)
        skipped.push({
          kind,
          role: '-',
          stage: phase,
          reason: `no fault point is defined for the phase "${phase}" (add it to PHASE_POINTS)`,
        });
      continue;
    }
    if ('skip' in point) {
      for (const kind of FAULT_KINDS) skipped.push({ kind, role: '-', stage: phase, reason: point.skip });
      continue;
    }
    const node = ROLES[point.role].node;
    for (const kind of FAULT_KINDS) {
      const id = `${kind}@${phase}@${point.role}`;
      const base = { id, kind, role: point.role, node, stage: phase, phase, armOn: point.announce };
      if (kind === 'never-ready') skipped.push({ kind, role: point.role, stage: phase, reason: 'no kubelet restarts in this phase' });
      else if (kind === 'command-fails' || kind === 'ssh-drop')
        // the backup's archive on the node: `tar` is how it packs the files (src/backup/collect.ts)
        scenarios.push({ ...base, faults: [commandFault(kind, node, 'tar ')], command: 'tar …' });
      else scenarios.push({ ...base, faults: kind === 'api-503' ? [apiOutage()] : [] });
    }
  }
  return { scenarios, skipped };
}

function commandFault(kind: 'command-fails' | 'ssh-drop', node: string, match: string): FaultSpec {
  return kind === 'command-fails'
    ? { type: 'command-fails', node, match, times: 1, exitCode: 1, stderr: HOSTILE_OUTPUT }
    : { type: 'ssh-drop', node, match, times: 1 };
}

const apiOutage = (): FaultSpec => ({ type: 'api-unavailable', durationMs: API_OUTAGE_MS });

function addStageScenarios(role: Role, phase: string, scenarios: Scenario[], skipped: Skipped[]): void {
  const node = ROLES[role].node;
  const stages = stageCommands(role);
  const ready = readinessStage(stages);
  for (const [i, stage] of stages.entries()) {
    for (const kind of FAULT_KINDS) {
      const base = {
        id: `${kind}@${stage.stage}@${role}`,
        kind,
        role,
        node,
        stage: stage.stage,
        phase,
        armOn: stageAnnounce(node, stage.stage),
      };
      if (kind === 'command-fails' || kind === 'ssh-drop') {
        const command = faultedCommand(stage);
        if (!command) {
          skipped.push({
            kind,
            role,
            stage: stage.stage,
            reason: 'the stage runs no command that changes the node (it works through the API)',
          });
          continue;
        }
        // armed at the stage's start, unless the faulted command is the stage's first (it may be sent before the
        // harness reads the announcement): then at the previous stage's (before the run for the node's first
        // stage), and no command of the node's stages before it may match
        let armOn: RegExp | undefined = base.armOn;
        if (command.index === 0) {
          const earlier = stages.slice(0, i).flatMap((s) => s.commands);
          if (earlier.some((c) => c.line.includes(command.match))) throw new Error(`fault match ${command.match} is not unique`);
          armOn = i > 0 ? stageAnnounce(node, stages[i - 1]!.stage) : undefined;
        }
        scenarios.push({ ...base, armOn, faults: [commandFault(kind, node, command.match)], command: command.line });
      } else if (kind === 'never-ready') {
        if (stage.stage !== ready) {
          skipped.push({ kind, role, stage: stage.stage, reason: `readiness is only awaited after the kubelet restart, in ${ready}` });
          continue;
        }
        // the restart must see the fault: armed when the restarting stage starts
        scenarios.push({ ...base, armOn: stageAnnounce(node, stages[i - 1]!.stage), faults: [{ type: 'never-ready', node }] });
      } else scenarios.push({ ...base, faults: kind === 'api-503' ? [apiOutage()] : [] });
    }
  }
}

/**
 * The CI subset, by one rule: one scenario per fault kind, the kinds in FAULT_KINDS order taking the roles in turn
 * (the i-th kind the (i mod 3)-th role: first control plane, another control plane, worker, …) so every role is covered; for a
 * kind and role, the middle one of the stages where the kind applies (the node half upgraded: the most to resume).
 * Scenarios matching `exclude` (failing until a fix lands) are not candidates: the stage nearest the middle that
 * is not excluded is taken, else the next role.
 */
export function ciSubset(matrix: Matrix, exclude: readonly RegExp[] = []): Scenario[] {
  const roles = Object.keys(ROLES) as Role[];
  const order = NODE_STAGES.map((s) => s.name);
  const picked: Scenario[] = [];
  for (const [k, kind] of FAULT_KINDS.entries()) {
    for (let tries = 0; tries < roles.length; tries++) {
      const role = roles[(k + tries) % roles.length]!;
      const all = matrix.scenarios
        .filter((s) => s.role === role && s.kind === kind && order.includes(s.stage))
        .sort((a, b) => order.indexOf(a.stage) - order.indexOf(b.stage));
      const middle = Math.floor(all.length / 2);
      const choice = all
        .map((s, i) => ({ s, distance: Math.abs(i - middle) + (i < middle ? 0.5 : 0) }))
        .filter(({ s }) => !exclude.some((e) => e.test(s.id)))
        .sort((a, b) => a.distance - b.distance)[0];
      if (!choice) continue;
      picked.push(choice.s);
      break;
    }
  }
  return picked;
}
