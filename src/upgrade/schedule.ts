// Which nodes this run works on, in which order, from which stage: the plan's order and procedures, corrected by
// the progress recorded on the nodes. A node the plan counts as upgraded (its kubelet runs the target) may still
// have stages left (wait-ready, uncordon): a control plane is resumed first, a worker in its own batch (the
// plan's worker batches hold every inventory worker, so batch indexes never shift). Pure.
import type { NodeProgress } from '../adapters/cluster/progress.ts';
import type { Plan, PlannedNode, WorkerBatch } from '../core/plan-types.ts';
import { STAGE_ORDER } from './stages/index.ts';
import type { NodeJob, StageName } from './types.ts';

export interface ScheduledNode {
  job: NodeJob;
  /** the node's stages in order */
  stages: StageName[];
  /** stages an earlier run recorded as done (skipped now) */
  doneBefore: StageName[];
}

export interface SkippedNode {
  name: string;
  role: 'control-plane' | 'worker';
  batch?: number;
  reason: string;
}

export interface Schedule {
  target: string;
  controlPlanes: ScheduledNode[];
  workerBatches: { index: number; nodes: ScheduledNode[] }[];
  skipped: SkippedNode[];
  /** reasons a node cannot be upgraded by this action (no package manager found, …): the run refuses */
  problems: string[];
}

const isStage = (id: string): id is StageName => (STAGE_ORDER as readonly string[]).includes(id);

type Classified =
  | { kind: 'run'; stages: StageName[]; doneBefore: StageName[] }
  | { kind: 'skip'; reason: string }
  | { kind: 'problem'; message: string };

function doneFor(progress: NodeProgress | undefined, target: string): Set<string> {
  return new Set(progress?.target === target ? progress.doneStages : []);
}

/** The stages left for a node the plan skipped: everything after the last stage recorded done. */
function stagesAfterLastDone(done: Set<string>): StageName[] {
  const last = Math.max(-1, ...STAGE_ORDER.map((s, i) => (done.has(s) ? i : -1)));
  return STAGE_ORDER.filter((s, i) => done.has(s) || i > last);
}

export function classifyNode(node: PlannedNode, plan: Plan, progress: NodeProgress | undefined): Classified {
  const target = plan.target.version ?? '';
  const done = doneFor(progress, target);
  if (node.skipped) {
    if (done.size === 0) return { kind: 'skip', reason: node.skipped };
    const stages = stagesAfterLastDone(done);
    if (stages.every((s) => done.has(s)))
      return { kind: 'skip', reason: `upgraded to ${target} by an earlier run (every stage recorded done)` };
    return { kind: 'run', stages, doneBefore: stages.filter((s) => done.has(s)) };
  }
  const steps = node.procedure ? plan.procedures[node.procedure] : undefined;
  const stages = steps ? steps.map((s) => s.id).filter(isStage) : [...STAGE_ORDER];
  if (stages.every((s) => done.has(s)))
    return { kind: 'skip', reason: `upgraded to ${target} by an earlier run (every stage recorded done)` };
  if (!node.packageManager)
    return {
      kind: 'problem',
      message: `${node.name}: no package manager (apt, yum or dnf) was found on the node, so its packages cannot be upgraded`,
    };
  return { kind: 'run', stages, doneBefore: stages.filter((s) => done.has(s)) };
}

export interface ScheduleOptions {
  /** only these of the plan's worker batches (the `workers` command: one worker-matrix entry) */
  workerBatches?: WorkerBatch[];
  /** only these nodes (the `node` command) */
  only?: string[];
}

export function buildSchedule(
  plan: Plan,
  progress: ReadonlyMap<string, NodeProgress | undefined>,
  options: ScheduleOptions = {},
): Schedule {
  const target = plan.target.version ?? '';
  const byName = new Map(plan.nodes.map((n) => [n.name, n]));
  const wanted = (name: string) => !options.only || options.only.includes(name);
  const schedule: Schedule = { target, controlPlanes: [], workerBatches: [], skipped: [], problems: [] };
  const classified = new Map(plan.nodes.filter((n) => wanted(n.name)).map((n) => [n.name, classifyNode(n, plan, progress.get(n.name))]));
  const resumedSkipped = (role: 'control-plane' | 'worker') =>
    plan.nodes.filter((n) => n.role === role && n.skipped && classified.get(n.name)?.kind === 'run').map((n) => n.name);

  const place = (name: string, batch?: number): ScheduledNode | undefined => {
    const node = byName.get(name);
    const verdict = classified.get(name);
    if (!node || !verdict) return undefined;
    if (verdict.kind === 'skip') {
      schedule.skipped.push({ name, role: node.role, ...(batch !== undefined ? { batch } : {}), reason: verdict.reason });
      return undefined;
    }
    if (verdict.kind === 'problem') {
      schedule.problems.push(verdict.message);
      return undefined;
    }
    const job: NodeJob = {
      name,
      role: node.role,
      packageManager: node.packageManager ?? 'apt',
      kubeadmAction: node.kubeadmAction ?? 'node',
      ...(batch !== undefined ? { batch } : {}),
    };
    return { job, stages: verdict.stages, doneBefore: verdict.doneBefore };
  };

  for (const name of [...resumedSkipped('control-plane'), ...plan.order.controlPlanes]) {
    const scheduled = place(name);
    if (scheduled) schedule.controlPlanes.push(scheduled);
  }

  // Every batch keeps its plan index; nodes done already are skipped inside it, and a batch left empty is dropped.
  const batches = options.workerBatches ?? plan.order.workerBatches;
  for (const batch of batches) {
    const nodes = batch.nodes.map((name) => place(name, batch.index)).filter((n): n is ScheduledNode => n !== undefined);
    if (nodes.length > 0) schedule.workerBatches.push({ index: batch.index, nodes });
  }
  const listed = new Set([...resumedSkipped('control-plane'), ...plan.order.controlPlanes, ...batches.flatMap((b) => b.nodes)]);
  for (const name of plan.nodes.map((n) => n.name).filter(wanted)) {
    const node = byName.get(name)!;
    if (!listed.has(name) && classified.get(name)?.kind === 'skip' && !options.workerBatches) {
      schedule.skipped.push({ name, role: node.role, reason: (classified.get(name) as { reason: string }).reason });
    }
  }
  return schedule;
}

/** Every stage name of the schedule's nodes, for the `node-scheduled` event. */
export function scheduledNodes(schedule: Schedule): ScheduledNode[] {
  return [...schedule.controlPlanes, ...schedule.workerBatches.flatMap((b) => b.nodes)];
}
