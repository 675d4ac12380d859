// The job summary of an upgrade run, rendered from the RunRecord: outcome first, then the per-node table,
// what a re-run would do (when the run did not finish), the timeline, what was skipped, notes and checks.
import { resumeStage, upgradedNodes, type NodeRun, type RunRecord } from '../core/run-record.ts';
import { runTimeline } from './run-timeline.ts';

const MAX_TABLE_ROWS = 300;

export function formatDuration(ms: number | undefined): string {
  if (ms === undefined) return '–';
  if (ms < 1000) return `${ms} ms`;
  const s = Math.round(ms / 1000);
  return s < 60 ? `${s}s` : `${Math.floor(s / 60)}m${s % 60 ? ` ${s % 60}s` : ''}`;
}

const cell = (text: string) => text.replace(/\|/g, '\\|').replace(/\n/g, ' ');

const OUTCOME_TITLE: Record<RunRecord['outcome'], string> = {
  succeeded: '✅ succeeded',
  failed: '❌ failed',
  cancelled: '⏹️ cancelled',
  refused: '⛔ refused',
  'nothing-to-do': '✅ nothing to do',
};

const COMMAND_TITLE: Record<RunRecord['command'], string> = {
  upgrade: 'Upgrade',
  'control-plane': 'Control-plane upgrade',
  workers: 'Worker batch upgrade',
  node: 'Node upgrade',
  verify: 'Verification',
};

function headline(record: RunRecord): string {
  const upgraded = upgradedNodes(record).length;
  const duration = record.finishedAt !== undefined ? ` in ${formatDuration(record.finishedAt - record.startedAt)}` : '';
  const what = record.command === 'verify' ? '' : ` — ${upgraded} node(s) upgraded${duration}`;
  return `## ${COMMAND_TITLE[record.command]} to ${record.target || '?'} ${OUTCOME_TITLE[record.outcome]}${what}`;
}

function nodeResult(node: NodeRun): string {
  switch (node.status) {
    case 'upgraded':
      return '✅ upgraded';
    case 'skipped':
      return `⏭️ skipped: ${node.skippedReason ?? ''}`;
    case 'failed':
      return `❌ failed at ${node.stages.find((s) => s.status === 'failed')?.name ?? '?'}`;
    case 'interrupted':
      return `⚠️ interrupted at ${node.stages.find((s) => s.status === 'running')?.name ?? '?'}`;
    case 'not-started':
      return '⏸️ not started';
  }
}

function stageList(node: NodeRun): string {
  return node.stages
    .map((s) => {
      if (s.status === 'done-before') return `~~${s.name}~~`;
      const mark = s.status === 'failed' ? '✖ ' : s.status === 'running' ? '… ' : '';
      return `${mark}${s.name} ${formatDuration(s.durationMs)}`;
    })
    .join(' · ');
}

function nodeTable(record: RunRecord): string[] {
  const rows = record.nodes.slice(0, MAX_TABLE_ROWS).map((n) => {
    const duration = n.startedAt !== undefined && n.finishedAt !== undefined ? formatDuration(n.finishedAt - n.startedAt) : '–';
    const role = n.role === 'control-plane' ? 'control plane' : 'worker';
    return `| ${cell(n.name)} | ${role} | ${n.batch ?? '–'} | ${cell(nodeResult(n))} | ${cell(stageList(n)) || '–'} | ${duration} |`;
  });
  const more =
    record.nodes.length > MAX_TABLE_ROWS
      ? [`| … ${record.nodes.length - MAX_TABLE_ROWS} more nodes (see the \`result\` output) | | | | | |`]
      : [];
  return ['| Node | Role | Batch | Result | Stages (~~done earlier~~) | Duration |', '|---|---|---|---|---|---|', ...rows, ...more];
}

/** Where each unfinished node stands, which are cordoned and why, and what a re-run will do. */
export function standing(record: RunRecord): string[] {
  const open = record.nodes.filter((n) => n.status === 'failed' || n.status === 'interrupted' || n.status === 'not-started');
  if (open.length === 0) return [];
  const lines = ['### Where the cluster stands, and what a re-run does', ''];
  for (const node of open) {
    const failed = node.stages.find((s) => s.status === 'failed');
    const next = resumeStage(node);
    const at = failed
      ? `failed at **${failed.name}**: ${failed.message ?? ''}`
      : node.status === 'interrupted'
        ? 'was interrupted mid-stage'
        : 'was not started';
    const cordon = node.cordoned ? `cordoned (${node.cordonReason ?? 'by this run'})` : 'schedulable';
    lines.push(`- **${node.name}** ${at}; ${cordon}. A re-run ${next ? `resumes it at **${next}**` : 'has nothing left to do on it'}.`);
    if (failed?.tail) lines.push('', '  ```text', ...failed.tail.split('\n').map((l) => `  ${l}`), '  ```');
  }
  const cordoned = record.nodes.filter((n) => n.cordoned).map((n) => n.name);
  lines.push('', cordoned.length > 0 ? `Cordoned now: ${cordoned.join(', ')}.` : 'No node is left cordoned by this run.');
  lines.push('Nodes already upgraded (every stage recorded on the Node) are skipped by the re-run.', '');
  return lines;
}

function resumedSection(record: RunRecord): string[] {
  const resumed = record.nodes.filter((n) => n.doneBefore.length > 0);
  const skipped = record.nodes.filter((n) => n.status === 'skipped');
  if (resumed.length === 0 && skipped.length === 0) return [];
  const lines = ['### Skipped', ''];
  for (const n of resumed) lines.push(`- ${n.name}: resumed; done by an earlier run: ${n.doneBefore.join(', ')}`);
  for (const n of skipped.slice(0, 50)) lines.push(`- ${n.name}: ${n.skippedReason ?? 'skipped'}`);
  if (skipped.length > 50) lines.push(`- … and ${skipped.length - 50} more`);
  return [...lines, ''];
}

function notesSection(record: RunRecord): string[] {
  if (record.notes.length === 0) return [];
  const seen = new Set<string>();
  const lines = ['### Notes', ''];
  const ordered = [...record.notes.filter((n) => n.level === 'warning'), ...record.notes.filter((n) => n.level === 'info')];
  for (const note of ordered) {
    if (seen.has(note.text)) continue;
    seen.add(note.text);
    lines.push(`- ${note.level === 'warning' ? '⚠️ ' : ''}${note.text}`);
    if (note.detail)
      lines.push(
        '',
        '  <details><summary>output</summary>',
        '',
        '  ```text',
        ...note.detail
          .split('\n')
          .slice(0, 80)
          .map((l) => `  ${l}`),
        '  ```',
        '',
        '  </details>',
      );
  }
  return [...lines, ''];
}

function verifySection(record: RunRecord): string[] {
  if (!record.verify) return [];
  return [
    '### Checks',
    '',
    '| Check | Result | Details |',
    '|---|---|---|',
    ...record.verify.checks.map((c) => `| ${c.name} | ${c.ok ? '✅' : '❌'} | ${cell(c.message)} |`),
    '',
  ];
}

export function runSummaryMarkdown(record: RunRecord): string {
  const lines = [headline(record), ''];
  if (record.reason) lines.push(record.outcome === 'succeeded' ? record.reason : `**${record.reason}**`, '');
  if (record.holder) lines.push(`Cluster lock held by ${record.holder}.`, '');
  lines.push(...verifySection(record));
  if (record.nodes.length > 0) lines.push(...nodeTable(record), '');
  lines.push(...standing(record));
  const timeline = runTimeline(record);
  if (timeline.length > 0) lines.push('### Timeline', '', ...timeline, '');
  lines.push(...resumedSection(record), ...notesSection(record));
  return lines.join('\n');
}

/** Outputs of an upgrade run: upgraded-nodes (JSON list) and result (the RunRecord as JSON). */
export function runOutputs(record: RunRecord): Record<string, string> {
  return { 'upgraded-nodes': JSON.stringify(upgradedNodes(record)), result: JSON.stringify(record), outcome: record.outcome };
}
