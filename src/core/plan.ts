// buildPlan: the pure function behind `command: plan`. ClusterState + Settings + Inventory → Plan.
import type { ClusterState } from './cluster-state.ts';
import { ESTIMATE_MODEL, estimateDuration } from './estimate.ts';
import { forecastDrains, type DrainBatch } from './forecast.ts';
import { compilePolicy } from './pod-policy.ts';
import type { Inventory } from './inventory.ts';
import { planOrder } from './order.ts';
import type {
  Blocker,
  BatchForecast,
  ComponentRow,
  Hop,
  Plan,
  PlannedNode,
  PreflightVerdict,
  ProcedureDescriber,
  SkewVerdict,
  Step,
  TargetResolution,
} from './plan-types.ts';
import { preflightVerdicts } from './preflight.ts';
import type { Settings } from './settings.ts';
import { skewVerdicts } from './skew.ts';
import { currentControlPlaneVersion, planHops, resolveTarget } from './target.ts';
import { listText, plural } from './util.ts';
import { imageTag, parseVersion, type KubeVersion, type TargetSpec } from './versions.ts';

export type * from './plan-types.ts';

/** GitHub Actions: a matrix may generate at most 256 jobs per workflow run. */
export const MAX_MATRIX_JOBS = 256;

/** The version the skew rules evaluate: the resolved one, else the requested minor at patch 0. */
function skewTarget(spec: TargetSpec, resolution: TargetResolution): KubeVersion {
  return (
    parseVersion(resolution.version) ?? {
      text: `${spec.major}.${spec.minor}.${spec.patch ?? 0}${spec.prerelease ? `-${spec.prerelease}` : ''}`,
      major: spec.major,
      minor: spec.minor,
      patch: spec.patch ?? 0,
      prerelease: spec.prerelease !== undefined,
    }
  );
}

/**
 * `describe` makes each node's steps from the stage objects that run them (src/upgrade/procedure.ts); without it
 * the plan has no procedures (tests of the order, skew and forecast).
 */
export function buildPlan(state: ClusterState, settings: Settings, inventory: Inventory, describe?: ProcedureDescriber): Plan {
  const spec = settings.target;
  const current = currentControlPlaneVersion(state);
  const target = resolveTarget(spec, state, inventory);
  const hops = planHops(current, spec, target, state);
  const skew = skewVerdicts({ state, current, target: skewTarget(spec, target), multiHop: hops.length > 1, force: settings.force });

  const ordered = planOrder({
    state,
    inventory,
    targetVersion: target.version,
    maxUnavailable: settings.maxUnavailable,
    ...(settings.batchByLabel ? { batchByLabel: settings.batchByLabel } : {}),
  });
  const { order } = ordered;
  const { nodes, procedures } = plannedNodes(
    state,
    inventory,
    ordered,
    target,
    skew.some((v) => v.forced),
    describe,
  );
  // Batches keep the workers already at the target (stable indexes); only the others are drained and timed.
  const pendingBatches = order.workerBatches
    .map((b) => ({ index: b.index, nodes: b.nodes.filter((n) => !ordered.skipped.has(n)) }))
    .filter((b) => b.nodes.length > 0);

  const drainBatches: DrainBatch[] = [
    ...order.controlPlanes.map((node, index) => ({ stage: 'control-plane' as const, index, nodes: [node] })),
    ...pendingBatches.map((b) => ({ stage: 'workers' as const, index: b.index, nodes: b.nodes })),
  ];
  const forecast = forecastDrains(state, drainBatches, compilePolicy(settings.upgrade.drain));
  // a single-node cluster has nowhere else to put its pods: they wait Pending through the node's own upgrade
  const allowPending = settings.upgrade.allowPendingPods ?? state.nodes.length === 1;
  const preflight = [...preflightVerdicts(state, inventory, target), ...ordered.notes];
  if (order.workerBatches.length > MAX_MATRIX_JOBS) {
    preflight.push({
      id: 'matrix-limit',
      severity: 'warning',
      message: `${order.workerBatches.length} worker batches: a GitHub matrix runs at most ${MAX_MATRIX_JOBS} jobs, so worker-matrix cannot drive one job per batch; raise max-unavailable or use command: workers in one job`,
      nodes: [],
      nodeCount: 0,
    });
  }
  const byName = new Map(nodes.map((n) => [n.name, n]));
  const switchesRepo = (name: string) => procedures[byName.get(name)?.procedure ?? '']?.some((s) => s.id === 'repo-switch') ?? false;
  const estimate = estimateDuration({
    controlPlanes: order.controlPlanes.map((node) => ({
      node,
      first: order.firstControlPlane?.node === node,
      repoSwitch: switchesRepo(node),
    })),
    workerBatches: pendingBatches.map((b) => ({ nodes: b.nodes.map((node) => ({ node, repoSwitch: switchesRepo(node) })) })),
    forecast: forecast.batches,
  });

  const pendingCount = nodes.filter((n) => !n.skipped).length;
  const upToDate = target.version !== undefined && current?.text === target.version && pendingCount === 0;
  if (!upToDate) preflight.push(...pendingPodsVerdicts(forecast.batches, allowPending, settings.upgrade.allowPendingPods === undefined));
  const blockers = upToDate ? [] : collectBlockers(target, hops, skew, preflight, forecast.batches, allowPending);
  const verdict = upToDate ? 'up-to-date' : blockers.length > 0 ? 'blocked' : 'ready';
  const verdictReason =
    verdict === 'up-to-date'
      ? `every node already runs ${target.version}: nothing to do`
      : verdict === 'blocked'
        ? `${blockers[0]!.message}${blockers.length > 1 ? ` (and ${plural(blockers.length - 1, 'more blocker')})` : ''}`
        : `upgrade ${current?.text ?? '?'} → ${target.version}: ${plural(order.controlPlanes.length, 'control plane')}, ${plural(
            pendingBatches.reduce((s, b) => s + b.nodes.length, 0),
            'worker',
          )} in ${plural(pendingBatches.length, 'batch', 'batches')}${pendingBatches.length < order.workerBatches.length ? ` (of ${order.workerBatches.length}; the others are done)` : ''}, about ${estimate.totalMinutes} min`;

  return {
    schemaVersion: 2,
    ...(inventory.cluster ? { cluster: inventory.cluster } : {}),
    verdict,
    verdictReason,
    currentVersion: current?.text ?? '',
    target,
    hops,
    force: settings.force,
    skew,
    preflight,
    components: componentRows(state, order.controlPlanes, target.version),
    order,
    nodes,
    procedures,
    forecast,
    estimate,
    blockers,
    omitted: omittedNotes(forecast.batches),
  };
}

function plannedNodes(
  state: ClusterState,
  inventory: Inventory,
  ordered: ReturnType<typeof planOrder>,
  target: TargetResolution,
  forced: boolean,
  describe: ProcedureDescriber | undefined,
) {
  const reports = new Map(state.nodeReports.map((r) => [r.name, r]));
  const kubelets = new Map(state.nodes.map((n) => [n.name, n.kubeletVersion]));
  const position = new Map<string, { position: number; batch?: number }>();
  ordered.order.controlPlanes.forEach((n, i) => {
    position.set(n, { position: i });
  });
  const batchOf = new Map<string, number>();
  let next = ordered.order.controlPlanes.length;
  for (const b of ordered.order.workerBatches) {
    for (const n of b.nodes) {
      batchOf.set(n, b.index);
      if (!ordered.skipped.has(n)) position.set(n, { position: next++, batch: b.index });
    }
  }

  const procedures: Record<string, Step[]> = {};
  // nodes whose steps read the same share one list: a 3,000-node plan holds a handful
  const keys = new Map<string, string>();
  const keyOf = (steps: Step[]): string => {
    const text = JSON.stringify(steps);
    let key = keys.get(text);
    if (!key) {
      key = `p${keys.size + 1}`;
      keys.set(text, key);
      procedures[key] = steps;
    }
    return key;
  };
  const nodes = inventory.nodes.map((inv): PlannedNode => {
    const report = reports.get(inv.name);
    const base: PlannedNode = {
      name: inv.name,
      role: inv.role,
      kubelet: kubelets.get(inv.name) ?? '',
      ...(report?.packageManager ? { packageManager: report.packageManager } : {}),
    };
    const skipped = ordered.skipped.get(inv.name);
    // a worker at the target keeps its batch (skipped there); it has no position in the order
    const batch = batchOf.get(inv.name);
    if (skipped) return { ...base, ...(batch !== undefined ? { batch } : {}), skipped };
    const place = position.get(inv.name)!;
    const action = ordered.kubeadmAction.get(inv.name) ?? 'node';
    const steps =
      target.version && describe
        ? describe(
            { name: inv.name, role: inv.role, kubeadmAction: action, ...(place.batch !== undefined ? { batch: place.batch } : {}) },
            { version: target.version, packageVersions: target.packageVersions, forced },
          )
        : undefined;
    return { ...base, ...place, kubeadmAction: action, ...(steps ? { procedure: keyOf(steps) } : {}) };
  });
  return { nodes, procedures };
}

function collectBlockers(
  target: TargetResolution,
  hops: Hop[],
  skew: SkewVerdict[],
  preflight: PreflightVerdict[],
  batches: BatchForecast[],
  allowPending: boolean,
): Blocker[] {
  const blockers: Blocker[] = [];
  if (!target.version)
    blockers.push({ source: 'target', id: 'target-unresolved', message: target.reason ?? 'the target version could not be resolved' });
  if (hops.length > 1) {
    const first = hops[0]!;
    const minor = first.to.split('.').slice(0, 2).join('.');
    blockers.push({
      source: 'hops',
      id: 'hop-by-hop',
      message: `upgrade hop by hop: first target ${minor}${first.resolved ? ` (${first.to})` : ''}; then ${hops
        .slice(1)
        .map((h) => h.to)
        .join(' → ')} (running several hops in one run is not supported yet)`,
    });
  }
  for (const v of skew)
    if (v.severity === 'mandatory' || (v.severity === 'forceable' && !v.forced))
      blockers.push({
        source: 'skew',
        id: v.id,
        message: v.severity === 'forceable' ? `${v.message} (forceable: force: true accepts it)` : v.message,
      });
  for (const v of preflight)
    if (v.severity === 'mandatory' && v.id !== 'packages-published') blockers.push({ source: 'preflight', id: v.id, message: v.message });
  blockers.push(...forecastBlockers(batches, allowPending));
  return blockers;
}

const batchName = (b: BatchForecast) => (b.stage === 'control-plane' ? `control plane ${b.nodes[0]?.node}` : `worker batch ${b.index}`);

const REFUSAL: Record<'unmanaged' | 'emptyDir' | 'orphaned-daemonset', { id: string; what: string; fix: string }> = {
  unmanaged: {
    id: 'unmanaged-pods',
    what: 'without a controller',
    fix: 'a drain would delete them for good, so it refuses; move them into a Deployment, delete them, exclude them with drain-pod-selector, or set force-drain-unmanaged: true',
  },
  emptyDir: {
    id: 'emptydir-pods',
    what: 'with emptyDir volumes',
    fix: 'their emptyDir data would be lost, so the drain refuses (delete-emptydir-data: false); set delete-emptydir-data: true, or exclude them with drain-pod-selector',
  },
  'orphaned-daemonset': {
    id: 'orphaned-daemonset-pods',
    what: 'whose DaemonSet no longer exists',
    fix: 'nothing would recreate them, so the drain refuses (as kubectl drain does); delete them, or set force-drain-unmanaged: true',
  },
};

/** Forecast findings folded into a handful of blockers (not one per node, for 3,000-node clusters). */
function forecastBlockers(batches: BatchForecast[], allowPending: boolean): Blocker[] {
  const out: Blocker[] = [];
  for (const kind of ['unmanaged', 'emptyDir', 'orphaned-daemonset'] as const) {
    const nodes = batches.flatMap((b) => b.nodes).filter((n) => n.refused.some((r) => r.kind === kind));
    if (nodes.length === 0) continue;
    const pods = nodes.flatMap((n) => n.refused.filter((r) => r.kind === kind).map((r) => r.pod));
    const count = kind === 'unmanaged' ? nodes.reduce((s, n) => s + n.unmanaged, 0) : pods.length;
    out.push({
      source: 'forecast',
      id: REFUSAL[kind].id,
      message: `${count} pod(s) ${REFUSAL[kind].what} on ${listText(nodes.map((n) => n.node))} (${listText(pods, 3)}): ${REFUSAL[kind].fix}`,
    });
  }
  const seen = new Set<string>();
  for (const b of batches) {
    for (const budget of b.budgets) {
      const key = `${budget.namespace}/${budget.name}`;
      if (budget.effect !== 'blocks' || seen.has(key)) continue;
      seen.add(key);
      out.push({ source: 'forecast', id: 'pdb-blocks', message: `${budget.message} (${batchName(b)})` });
    }
  }
  const multi = batches.flatMap((b) => b.multiBudgetPods);
  if (multi.length > 0)
    out.push({
      source: 'forecast',
      id: 'pod-with-several-pdbs',
      message: `pods covered by more than one PodDisruptionBudget cannot be evicted (the Eviction API refuses them): ${listText(multi, 3)}`,
    });
  const full = batches.filter((b) => !b.capacity.fits);
  if (full.length > 0 && !allowPending)
    out.push({
      source: 'forecast',
      id: 'capacity',
      message: `no room for the evicted pods while draining ${listText(full.map(batchName), 3)}: ${full[0]!.capacity.message}; set allow-pending-pods: true to let them wait Pending while each node is upgraded`,
    });
  return out;
}

/** Minutes a node is away (cordon → uncordon), by the estimate's model: the time its evicted pods may wait Pending. */
function windowMinutes(b: BatchForecast): number {
  const m = ESTIMATE_MODEL;
  const evicted = Math.max(0, ...b.nodes.map((n) => n.evict));
  return Math.max(1, Math.round(m.drainBase + m.perEvictedPod * evicted + m.worker));
}

/** With allow-pending-pods (or on a single-node cluster): which batches leave pods Pending, and for about how long. */
function pendingPodsVerdicts(batches: BatchForecast[], allowPending: boolean, byDefault: boolean): PreflightVerdict[] {
  const full = batches.filter((b) => !b.capacity.fits);
  if (!allowPending || full.length === 0) return [];
  const why = byDefault ? 'a single-node cluster has nowhere else to put them' : 'allow-pending-pods: true';
  const parts = full.slice(0, 5).map((b) => `${batchName(b)}: ${b.capacity.needed.pods} pod(s) for about ${windowMinutes(b)} min`);
  const names = full.flatMap((b) => b.nodes.map((n) => n.node));
  return [
    {
      id: 'pending-pods',
      severity: 'warning',
      message: `pods wait Pending while their node is upgraded (${why}; PodDisruptionBudgets are still respected): ${parts.join('; ')}${full.length > 5 ? ` and ${full.length - 5} more batch(es)` : ''}`,
      nodes: names.slice(0, 20),
      nodeCount: names.length,
    },
  ];
}

function componentRows(state: ClusterState, orderedControlPlanes: string[], target: string | undefined): ComponentRow[] {
  const t = target ? `v${target}` : '?';
  const cps = [...new Set([...orderedControlPlanes, ...state.nodes.filter((n) => n.role === 'control-plane').map((n) => n.name)])];
  const rows: ComponentRow[] = [];
  for (const component of ['kube-apiserver', 'kube-controller-manager', 'kube-scheduler', 'etcd'] as const) {
    for (const node of cps) {
      const pod = state.controlPlanePods.find((p) => p.node === node && p.component === component);
      if (!pod && component === 'etcd' && state.kubeadmConfig?.etcdLocal === false) continue;
      const current = pod ? (component === 'etcd' ? pod.version : `v${pod.version}`) : 'not found';
      rows.push({ component, node, current, target: component === 'etcd' ? 'chosen by kubeadm' : t });
    }
  }
  rows.push({ component: 'kube-proxy', current: imageTag(state.addons.kubeProxyImage) ?? 'not found', target: t });
  rows.push({ component: 'CoreDNS', current: imageTag(state.addons.coreDNSImage) ?? 'not found', target: 'chosen by kubeadm' });
  return rows;
}

function omittedNotes(batches: BatchForecast[]): string[] {
  const notes: string[] = [];
  if (batches.some((b) => b.nodes.some((n) => n.unmanaged > n.unmanagedPods.length)))
    notes.push('unmanaged pod names are listed up to 10 per node');
  return notes;
}
