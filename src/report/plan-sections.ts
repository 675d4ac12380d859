// The sections of the plan report, each a pure function of the plan. Per-node rows are capped at
// MAX_ROWS; the rest are collapsed into counts so the summary stays far below GitHub's 1 MiB limit.
import type { BatchForecast, Plan, PlannedNode } from '../core/plan-types.ts';
import { code, count, details, severityLabel, table, text } from './markdown.ts';

export const MAX_ROWS = 200;

export function verdictSection(plan: Plan, maxBlockers = 20): string {
  const name = plan.cluster ? ` — ${text(plan.cluster)}` : '';
  const head =
    plan.verdict === 'ready'
      ? `### ✅ Can upgrade${name}: ${text(plan.currentVersion)} → ${text(plan.target.version ?? '?')}`
      : plan.verdict === 'up-to-date'
        ? `### ✔️ Up to date${name}: ${text(plan.currentVersion)}`
        : `### ⛔ Blocked${name}: ${text(plan.currentVersion || '?')} → ${text(plan.target.version ?? plan.target.requested)}`;
  const lines = [head, '', text(plan.verdictReason), ''];
  if (plan.target.version && !plan.target.verified)
    lines.push(`> Target ${text(plan.target.version)}: ${text(plan.target.reason ?? 'not verified as published')}`, '');
  if (plan.hops.length > 1) lines.push(`Hops: ${plan.hops.map((h) => `${h.fromMinor} → ${text(h.to)}`).join(', ')}`, '');
  if (plan.blockers.length > 0) {
    lines.push(`**Blockers (${plan.blockers.length})**`, '');
    for (const b of plan.blockers.slice(0, maxBlockers)) lines.push(`- ${code(b.id)} (${b.source}): ${text(b.message)}`);
    if (plan.blockers.length > maxBlockers) lines.push(`- … and ${plan.blockers.length - maxBlockers} more (see the plan output)`);
    lines.push('');
  }
  lines.push(
    `Estimate: about **${count(plan.estimate.totalMinutes)} min** (control planes ${plan.estimate.controlPlaneMinutes} min, workers ${plan.estimate.workerMinutes} min).`,
    '',
  );
  return lines.join('\n');
}

/** `kubeadm upgrade plan`'s table: COMPONENT · NODE · CURRENT · TARGET; kubelet rows beyond maxRows are counted. */
export function componentSection(plan: Plan, maxRows = MAX_ROWS): string {
  const target = plan.target.version ? `v${plan.target.version}` : '?';
  const rows: string[][] = plan.components.filter((r) => r.node).map((r) => [r.component, r.node!, r.current, r.target]);
  const kubelets = plan.nodes;
  for (const n of kubelets.slice(0, maxRows))
    rows.push(['kubelet', n.name, n.kubelet ? `v${n.kubelet}` : 'unknown', n.skipped ? `${target} (already)` : target]);
  if (kubelets.length > maxRows) {
    for (const [version, n] of countBy(kubelets.slice(maxRows), (k) => k.kubelet || 'unknown'))
      rows.push(['kubelet', `${count(n)} more nodes`, version === 'unknown' ? version : `v${version}`, target]);
  }
  for (const r of plan.components.filter((c) => !c.node)) rows.push([r.component, '', r.current, r.target]);
  return `#### Components\n\n${table(['COMPONENT', 'NODE', 'CURRENT', 'TARGET'], rows)}`;
}

function countBy<T>(items: T[], key: (t: T) => string): Map<string, number> {
  const m = new Map<string, number>();
  for (const i of items) m.set(key(i), (m.get(key(i)) ?? 0) + 1);
  return m;
}

const nodesCell = (v: { nodes: string[]; nodeCount: number }) =>
  v.nodeCount === 0
    ? ''
    : v.nodeCount > v.nodes.length
      ? `${v.nodes.slice(0, 5).join(', ')} … (${count(v.nodeCount)})`
      : v.nodes.slice(0, 10).join(', ') + (v.nodes.length > 10 ? ` … (${v.nodeCount})` : '');

export function verdictTables(plan: Plan, onlyProblems = false): string {
  const keep = <T extends { severity: string }>(list: T[]) => (onlyProblems ? list.filter((v) => v.severity !== 'ok') : list);
  const skew = keep(plan.skew).map((v) => [severityLabel(v.severity, v.forced), v.id, v.source, v.message, nodesCell(v)]);
  const pre = keep(plan.preflight).map((v) => [severityLabel(v.severity), v.id, v.message, nodesCell(v)]);
  const parts: string[] = [];
  parts.push(
    `#### Version skew${plan.force ? ' (force: true)' : ''}\n\n${skew.length ? table(['SEVERITY', 'RULE', 'SOURCE', 'FINDING', 'NODES'], skew) : 'No findings.\n'}`,
  );
  parts.push(`#### Preflight\n\n${pre.length ? table(['SEVERITY', 'CHECK', 'FINDING', 'NODES'], pre) : 'All checks pass.\n'}`);
  return parts.join('\n');
}

export function orderSection(plan: Plan, maxRows = MAX_ROWS): string {
  const o = plan.order;
  const lines = ['#### Node order', ''];
  if (o.firstControlPlane)
    lines.push(
      `1. First control plane: **${text(o.firstControlPlane.node)}** (kubeadm upgrade apply) — ${text(o.firstControlPlane.reason)}`,
    );
  const others = o.controlPlanes.filter((n) => n !== o.firstControlPlane?.node);
  if (others.length) lines.push(`${lines.length - 1}. Other control planes, one at a time: ${others.map(text).join(' → ')}`);
  const workers = o.workerBatches.reduce((s, b) => s + b.nodes.length, 0);
  lines.push(
    `${lines.length - 1}. Workers: ${count(workers)} in ${count(o.workerBatches.length)} batch(es) of up to ${o.batchSize} (${text(o.batchSizeReason)})`,
  );
  const skipped = plan.nodes.filter((n) => n.skipped);
  if (skipped.length)
    lines.push(
      '',
      `Skipped (already at the target): ${skipped
        .slice(0, 20)
        .map((n) => text(n.name))
        .join(', ')}${skipped.length > 20 ? ` … (${count(skipped.length)})` : ''}`,
    );
  if (o.notInInventory.nodeCount) lines.push('', `Not in the inventory (not upgraded): ${nodesCell(o.notInInventory)}`);
  lines.push('');
  const rows = o.workerBatches
    .slice(0, maxRows)
    .map((b) => [b.index, b.nodes.length, b.nodes.slice(0, 10).join(', ') + (b.nodes.length > 10 ? ' …' : ''), b.label ?? '', b.pin ?? '']);
  if (rows.length) {
    let body = table(['BATCH', 'NODES', 'NAMES', 'LABEL', 'PIN'], rows);
    if (o.workerBatches.length > maxRows)
      body += `\n… ${count(o.workerBatches.length - maxRows)} more batches (${count(o.workerBatches.slice(maxRows).reduce((s, b) => s + b.nodes.length, 0))} workers) in the plan output.\n`;
    lines.push(details(`Worker batches (${count(o.workerBatches.length)})`, body));
  }
  return lines.join('\n');
}

function batchLabel(b: BatchForecast): string {
  return b.stage === 'control-plane' ? `cp: ${b.nodes[0]?.node ?? ''}` : `batch ${b.index}`;
}

const notable = (b: BatchForecast) =>
  !b.capacity.fits || b.budgets.length > 0 || b.multiBudgetPods.length > 0 || b.nodes.some((n) => n.unmanaged > 0);

export function forecastSection(plan: Plan, maxRows = MAX_ROWS): string {
  const t = plan.forecast.totals;
  const head = `#### Drain forecast\n\n${count(t.evict)} pod(s) to evict (${count(t.emptyDir)} with emptyDir data), ${count(t.daemonSet)} DaemonSet and ${count(t.mirror)} mirror pod(s) skipped, ${count(t.unmanaged)} unmanaged pod(s), ${t.blockingBudgets} blocking PDB(s), ${t.batchesWithoutRoom} batch(es) without room.\n`;
  // Problem batches first, so capping rows never hides a blocker.
  const batches = [...plan.forecast.batches.filter(notable), ...plan.forecast.batches.filter((b) => !notable(b))];
  const rows = batches.slice(0, maxRows).map((b) => {
    const sum = (k: 'evict' | 'daemonSet' | 'mirror' | 'emptyDir' | 'unmanaged') => b.nodes.reduce((s, n) => s + n[k], 0);
    const issues = [
      ...b.nodes
        .flatMap((n) => n.unmanagedPods)
        .slice(0, 3)
        .map((p) => `unmanaged ${p}`),
      ...b.budgets.map((p) => `PDB ${p.namespace}/${p.name} ${p.effect} (${p.podsInBatch} pods, ${p.disruptionsAllowed} allowed)`),
      ...(b.multiBudgetPods.length ? [`${b.multiBudgetPods.length} pod(s) under several PDBs`] : []),
    ];
    return [
      batchLabel(b),
      b.nodes
        .map((n) => n.node)
        .slice(0, 5)
        .join(', ') + (b.nodes.length > 5 ? ' …' : ''),
      sum('evict'),
      sum('daemonSet'),
      sum('mirror'),
      sum('emptyDir'),
      sum('unmanaged'),
      issues.join('; ') || '—',
      b.capacity.fits ? 'yes' : `no: ${b.capacity.message}`,
    ];
  });
  let body = table(['BATCH', 'NODES', 'EVICT', 'DAEMONSET', 'MIRROR', 'EMPTYDIR', 'UNMANAGED', 'BLOCKERS', 'ROOM'], rows);
  if (batches.length > maxRows) body += `\n… ${count(batches.length - maxRows)} more batch(es) without findings.\n`;
  return `${head}\n${rows.length ? details(`Per batch (${count(batches.length)})`, body) : ''}`;
}

export function stepsSection(plan: Plan): string {
  const users = new Map<string, PlannedNode[]>();
  for (const n of plan.nodes) if (n.procedure) (users.get(n.procedure) ?? users.set(n.procedure, []).get(n.procedure)!).push(n);
  const parts = [
    '#### What an upgrade run would do',
    '',
    'Each node runs exactly these commands, as root, in this order (API: an action through the Kubernetes API; <…>: read on the node at run time).',
    '',
  ];
  if (users.size === 0)
    return `${parts.join('\n')}Nothing: ${plan.target.version ? 'no node needs upgrading' : 'the target version is not resolved'}.\n`;
  for (const [key, nodes] of users) {
    const steps = plan.procedures[key] ?? [];
    const list = steps
      .map(
        (s, i) =>
          `${i + 1}. ${text(s.title)}${s.actions.map((a) => `<br>${a.on === 'node' ? code(a.text) : `API: ${text(a.text)}`}`).join('')}`,
      )
      .join('\n');
    const who = `${nodes
      .slice(0, 5)
      .map((n) => n.name)
      .join(', ')}${nodes.length > 5 ? ` and ${count(nodes.length - 5)} more` : ''}`;
    parts.push(details(`${key} — ${count(nodes.length)} node(s): ${who}`, list));
  }
  parts.push(`Duration model: ${text(plan.estimate.model)}.`, '');
  return parts.join('\n');
}
