// The run's timeline as a mermaid gantt chart (GitHub renders it in the job summary): one section per node,
// one bar per stage. Capped so a 3,000-node run keeps the summary readable.
import type { RunRecord } from '../core/run-record.ts';

const MAX_NODES = 40;

export function runTimeline(record: RunRecord): string[] {
  const nodes = record.nodes.filter((n) => n.stages.some((s) => s.startedAt !== undefined));
  if (nodes.length === 0) return [];
  const lines = ['```mermaid', 'gantt', '  dateFormat x', '  axisFormat %H:%M:%S'];
  let id = 0;
  for (const node of nodes.slice(0, MAX_NODES)) {
    lines.push(`  section ${node.name.replace(/[:#;]/g, '_')}`);
    for (const stage of node.stages) {
      if (stage.startedAt === undefined) continue;
      const end = stage.finishedAt ?? record.finishedAt ?? stage.startedAt;
      // mermaid needs a visible bar: at least one second
      const tag = stage.status === 'failed' ? 'crit' : stage.status === 'running' ? 'active' : 'done';
      lines.push(`  ${stage.name} :${tag}, t${id++}, ${stage.startedAt}, ${Math.max(end, stage.startedAt + 1000)}`);
    }
  }
  lines.push('```');
  if (nodes.length > MAX_NODES) lines.push(`_The timeline shows the first ${MAX_NODES} of ${nodes.length} nodes._`);
  return lines;
}
