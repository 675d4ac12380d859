// What an upgrade run did, as data: the runner emits events, foldRun folds them into one RunRecord, and every
// report (job summary, PR comment, the `result` output) is rendered from that. Pure: no clock, no I/O.

export type RunCommand = 'upgrade' | 'control-plane' | 'workers' | 'node' | 'verify';
export type RunOutcome = 'succeeded' | 'failed' | 'cancelled' | 'refused' | 'nothing-to-do';

export interface VerifyCheckRecord {
  name: string;
  ok: boolean;
  message: string;
  nodes: string[];
}

export type RunEvent =
  | { type: 'run-started'; at: number; command: RunCommand; target: string; holder?: string }
  | {
      type: 'node-scheduled';
      at: number;
      node: string;
      role: 'control-plane' | 'worker';
      batch?: number;
      stages: string[];
      doneBefore: string[];
    }
  | { type: 'node-skipped'; at: number; node: string; role: 'control-plane' | 'worker'; batch?: number; reason: string }
  | { type: 'stage-started'; at: number; node: string; stage: string }
  | { type: 'stage-finished'; at: number; node: string; stage: string; message?: string }
  | { type: 'stage-failed'; at: number; node: string; stage: string; message: string; tail?: string }
  | { type: 'node-finished'; at: number; node: string }
  | { type: 'cordon'; at: number; node: string; cordoned: boolean; reason: string }
  | { type: 'note'; at: number; level: 'info' | 'warning'; text: string; node?: string; detail?: string }
  | { type: 'verify'; at: number; ok: boolean; checks: VerifyCheckRecord[] }
  | { type: 'run-finished'; at: number; outcome: RunOutcome; reason?: string };

export type StageStatus = 'running' | 'done' | 'failed' | 'done-before';

export interface StageRun {
  name: string;
  status: StageStatus;
  startedAt?: number;
  finishedAt?: number;
  durationMs?: number;
  message?: string;
  /** last lines of the failing command's output */
  tail?: string;
}

export type NodeStatus = 'upgraded' | 'failed' | 'interrupted' | 'not-started' | 'skipped';

export interface NodeRun {
  name: string;
  role: 'control-plane' | 'worker';
  batch?: number;
  status: NodeStatus;
  /** why the node was left alone (already at the target, …) */
  skippedReason?: string;
  /** the node's stages in order */
  plannedStages: string[];
  /** stages an earlier run had finished (skipped on this resume) */
  doneBefore: string[];
  stages: StageRun[];
  /** whether this run last left the node cordoned, and why */
  cordoned: boolean;
  cordonReason?: string;
  startedAt?: number;
  finishedAt?: number;
}

export interface RunNote {
  level: 'info' | 'warning';
  text: string;
  node?: string;
  /** longer text shown folded (e.g. the output of kubeadm upgrade plan) */
  detail?: string;
}

export interface RunRecord {
  schemaVersion: 1;
  command: RunCommand;
  target: string;
  holder?: string;
  outcome: RunOutcome;
  reason?: string;
  startedAt: number;
  finishedAt?: number;
  nodes: NodeRun[];
  notes: RunNote[];
  verify?: { ok: boolean; checks: VerifyCheckRecord[] };
}

function emptyRecord(): RunRecord {
  return { schemaVersion: 1, command: 'upgrade', target: '', outcome: 'failed', startedAt: 0, nodes: [], notes: [] };
}

function nodeOf(record: RunRecord, name: string): NodeRun {
  let node = record.nodes.find((n) => n.name === name);
  if (!node) {
    node = { name, role: 'worker', status: 'not-started', plannedStages: [], doneBefore: [], stages: [], cordoned: false };
    record.nodes.push(node);
  }
  return node;
}

function stageOf(node: NodeRun, name: string): StageRun {
  let stage = node.stages.find((s) => s.name === name);
  if (!stage) {
    stage = { name, status: 'running' };
    node.stages.push(stage);
  }
  return stage;
}

function apply(record: RunRecord, event: RunEvent): void {
  switch (event.type) {
    case 'run-started':
      Object.assign(record, {
        command: event.command,
        target: event.target,
        startedAt: event.at,
        ...(event.holder ? { holder: event.holder } : {}),
      });
      return;
    case 'node-scheduled': {
      const node = nodeOf(record, event.node);
      Object.assign(node, {
        role: event.role,
        plannedStages: event.stages,
        doneBefore: event.doneBefore,
        ...(event.batch !== undefined ? { batch: event.batch } : {}),
      });
      node.stages = event.stages.filter((s) => event.doneBefore.includes(s)).map((name) => ({ name, status: 'done-before' as const }));
      return;
    }
    case 'node-skipped':
      Object.assign(nodeOf(record, event.node), {
        role: event.role,
        status: 'skipped',
        skippedReason: event.reason,
        ...(event.batch !== undefined ? { batch: event.batch } : {}),
      });
      return;
    case 'stage-started': {
      const node = nodeOf(record, event.node);
      node.startedAt ??= event.at;
      node.status = 'interrupted';
      Object.assign(stageOf(node, event.stage), { status: 'running', startedAt: event.at });
      return;
    }
    case 'stage-finished':
    case 'stage-failed': {
      const node = nodeOf(record, event.node);
      const stage = stageOf(node, event.stage);
      stage.status = event.type === 'stage-finished' ? 'done' : 'failed';
      stage.finishedAt = event.at;
      if (stage.startedAt !== undefined) stage.durationMs = event.at - stage.startedAt;
      if (event.message) stage.message = event.message;
      if (event.type === 'stage-failed') {
        if (event.tail) stage.tail = event.tail;
        node.status = 'failed';
        node.finishedAt = event.at;
      }
      return;
    }
    case 'node-finished': {
      const node = nodeOf(record, event.node);
      node.status = 'upgraded';
      node.finishedAt = event.at;
      return;
    }
    case 'cordon': {
      const node = nodeOf(record, event.node);
      node.cordoned = event.cordoned;
      node.cordonReason = event.reason;
      return;
    }
    case 'note':
      record.notes.push({
        level: event.level,
        text: event.text,
        ...(event.node ? { node: event.node } : {}),
        ...(event.detail ? { detail: event.detail } : {}),
      });
      return;
    case 'verify':
      record.verify = { ok: event.ok, checks: event.checks };
      return;
    case 'run-finished':
      record.outcome = event.outcome;
      record.finishedAt = event.at;
      if (event.reason) record.reason = event.reason;
  }
}

/** Folds the events, in the order they happened, into one RunRecord. */
export function foldRun(events: readonly RunEvent[]): RunRecord {
  const record = emptyRecord();
  for (const event of events) apply(record, event);
  return record;
}

/** The first stage a re-run would run on this node; undefined when it has nothing left to do. */
export function resumeStage(node: NodeRun): string | undefined {
  const done = new Set(node.stages.filter((s) => s.status === 'done' || s.status === 'done-before').map((s) => s.name));
  return node.plannedStages.find((s) => !done.has(s));
}

/** Nodes this run upgraded to the end (the `upgraded-nodes` output). */
export function upgradedNodes(record: RunRecord): string[] {
  return record.nodes.filter((n) => n.status === 'upgraded').map((n) => n.name);
}
