// The plan as people and workflows see it: the job summary, the pull-request comment and the step outputs.
import type { Plan } from '../core/plan-types.ts';
import { compactPlanJson } from './plan-json.ts';
import { componentSection, forecastSection, orderSection, stepsSection, verdictSection, verdictTables } from './plan-sections.ts';
import { count, text } from './markdown.ts';

export { MAX_PLAN_OUTPUT_BYTES } from './plan-json.ts';

/** GitHub refuses job summaries over 1 MiB; stay well below. */
export const MAX_SUMMARY_BYTES = 1024 * 1024;
/** GitHub's comment body limit is 65,536 characters. */
export const MAX_COMMENT_CHARS = 65_000;

function title(plan: Plan): string {
  return `## kubeadm upgrade plan${plan.cluster ? `: ${text(plan.cluster)}` : ''}\n`;
}

/** Job summary: verdict first, then the component table, skew and preflight, order, drain forecast, steps. */
export function planSummaryMarkdown(plan: Plan): string {
  const parts = [
    title(plan),
    verdictSection(plan),
    componentSection(plan),
    verdictTables(plan),
    orderSection(plan),
    forecastSection(plan),
    stepsSection(plan),
  ];
  if (plan.omitted.length) parts.push(`_Left out to keep this short: ${plan.omitted.map(text).join('; ')}._\n`);
  return fitBytes(parts, MAX_SUMMARY_BYTES - 4096);
}

/** PR comment: the same story, shorter (problems only, counts instead of per-node rows), with the hidden marker. */
export function planCommentMarkdown(plan: Plan, marker: string): string {
  const parts = [
    title(plan),
    verdictSection(plan, 10),
    componentSection(plan, 20),
    verdictTables(plan, true),
    orderSection(plan, 30),
    forecastSection(plan, 30),
    `Per-node details: see the job summary and the \`plan\` output of this run (${count(plan.nodes.length)} node(s)).\n`,
  ];
  const body = fitChars(parts, MAX_COMMENT_CHARS - marker.length - 2);
  return `${marker}\n${body}`;
}

/** Drops whole sections from the end until the text fits; the verdict always stays. */
function fitBytes(parts: string[], max: number): string {
  const joined = parts.join('\n');
  if (Buffer.byteLength(joined) <= max) return joined;
  const kept = [...parts];
  while (kept.length > 2 && Buffer.byteLength(kept.join('\n')) > max) kept.pop();
  return `${kept.join('\n')}\n_The rest of the plan was left out to stay under GitHub's size limit; see the \`plan\` output._\n`;
}

function fitChars(parts: string[], max: number): string {
  const note = '\n_Shortened to fit a comment; see the job summary._\n';
  const kept = [...parts];
  while (kept.length > 2 && kept.join('\n').length > max) kept.pop();
  const out = kept.join('\n') + (kept.length < parts.length ? note : '');
  return out.length <= max ? out : `${out.slice(0, max - note.length)}${note}`;
}

function matrix(batches: { index: number; nodes: string[] }[]): string {
  return JSON.stringify({ include: batches.map((b) => ({ batch: b.index, nodes: b.nodes.join(',') })) });
}

/** Step outputs: plan (JSON, size-bounded), upgrade-needed, current-version, target-version, matrices, blockers. */
export function planOutputs(plan: Plan): Record<string, string> {
  const o = plan.order;
  return {
    plan: compactPlanJson(plan),
    'upgrade-needed': String(plan.verdict !== 'up-to-date'),
    'current-version': plan.currentVersion,
    'target-version': plan.target.version ?? '',
    'control-plane-matrix': matrix(o.controlPlanes.map((node, index) => ({ index, nodes: [node] }))),
    'worker-matrix': matrix(o.workerBatches),
    blockers: String(plan.blockers.length),
  };
}
