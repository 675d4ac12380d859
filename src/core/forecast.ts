// Drain forecast: per batch (nodes drained together), which pods a drain would evict or skip, which
// PodDisruptionBudgets would block or slow it, and whether the remaining schedulable nodes can hold the evicted
// pods' requests. Built for 3,000 nodes and 90,000 pods: everything is indexed once, then each batch is cheap.
import type { BudgetObservation, ClusterState, LabelSelector, NodeObservation, PodObservation, Quantity } from './cluster-state.ts';
import type { BatchForecast, BudgetImpact, CapacityCheck, DrainForecast, NodeForecast } from './plan-types.ts';
import { classifyPod, type CompiledPolicy, type PodFacts } from './pod-policy.ts';
import { listText } from './util.ts';

export interface DrainBatch {
  stage: 'control-plane' | 'workers';
  index: number;
  nodes: string[];
}

const MAX_POD_NAMES_PER_NODE = 10;
const MAX_POD_NAMES_PER_BATCH = 20;

export function selectorMatches(selector: LabelSelector, labels: Record<string, string>): boolean {
  for (const [k, v] of Object.entries(selector.matchLabels ?? {})) if (labels[k] !== v) return false;
  for (const e of selector.matchExpressions ?? []) {
    const has = Object.hasOwn(labels, e.key);
    const value = labels[e.key];
    if (e.operator === 'In' && !(has && (e.values ?? []).includes(value!))) return false;
    if (e.operator === 'NotIn' && has && (e.values ?? []).includes(value!)) return false;
    if (e.operator === 'Exists' && !has) return false;
    if (e.operator === 'DoesNotExist' && has) return false;
  }
  return true;
}

const podRef = (p: PodObservation) => `${p.namespace}/${p.name}`;
const isActive = (p: PodObservation) => p.phase !== 'Succeeded' && p.phase !== 'Failed';

/** NoSchedule/NoExecute taint keys, sorted: evicted pods are assumed to tolerate their own node's taints. */
const UNSCHEDULABLE_TAINT = 'node.kubernetes.io/unschedulable';

function taintSignature(node: NodeObservation): string[] {
  // the cordon taint of a node this Action will uncordon (cordonedByUpgrade) does not keep pods off for long
  const lasting = node.taints.filter((t) => !(node.cordonedByUpgrade && t.key === UNSCHEDULABLE_TAINT));
  return [...new Set(lasting.filter((t) => t.effect === 'NoSchedule' || t.effect === 'NoExecute').map((t) => t.key))].sort();
}

interface Free {
  cpuMilli: number;
  memoryBytes: number;
  pods: number;
}

interface Index {
  podsByNode: Map<string, PodObservation[]>;
  budgetsByPod: Map<string, BudgetObservation[]>;
  nodes: Map<string, NodeObservation>;
  free: Map<string, Free>;
  taints: Map<string, string[]>;
  /** nodes that can take pods at all: Ready, schedulable */
  schedulable: NodeObservation[];
  poolCache: Map<string, { free: Free; nodes: Set<string> }>;
}

function buildIndex(state: ClusterState): Index {
  const podsByNode = new Map<string, PodObservation[]>();
  const podsByNamespace = new Map<string, PodObservation[]>();
  for (const pod of state.pods) {
    if (pod.node) (podsByNode.get(pod.node) ?? podsByNode.set(pod.node, []).get(pod.node)!).push(pod);
    (podsByNamespace.get(pod.namespace) ?? podsByNamespace.set(pod.namespace, []).get(pod.namespace)!).push(pod);
  }
  const budgetsByPod = new Map<string, BudgetObservation[]>();
  for (const budget of state.budgets) {
    for (const pod of podsByNamespace.get(budget.namespace) ?? []) {
      if (!selectorMatches(budget.selector, pod.labels)) continue;
      (budgetsByPod.get(pod.uid) ?? budgetsByPod.set(pod.uid, []).get(pod.uid)!).push(budget);
    }
  }
  const free = new Map<string, Free>();
  const taints = new Map<string, string[]>();
  for (const node of state.nodes) {
    const active = (podsByNode.get(node.name) ?? []).filter(isActive);
    const used = sumRequests(active);
    free.set(node.name, {
      cpuMilli: Math.max(0, node.allocatable.cpuMilli - used.cpuMilli),
      memoryBytes: Math.max(0, node.allocatable.memoryBytes - used.memoryBytes),
      pods: Math.max(0, node.allocatable.pods - active.length),
    });
    taints.set(node.name, taintSignature(node));
  }
  // a node our own unfinished run left cordoned is uncordoned when the re-run resumes it, before later batches
  const schedulable = state.nodes.filter((n) => n.ready && (!n.unschedulable || n.cordonedByUpgrade === true));
  return { podsByNode, budgetsByPod, nodes: new Map(state.nodes.map((n) => [n.name, n])), free, taints, schedulable, poolCache: new Map() };
}

function sumRequests(pods: PodObservation[]): Quantity {
  let cpuMilli = 0;
  let memoryBytes = 0;
  for (const p of pods) {
    cpuMilli += p.requests.cpuMilli;
    memoryBytes += p.requests.memoryBytes;
  }
  return { cpuMilli, memoryBytes };
}

/** Free room on the schedulable nodes whose taints are all in `tolerated` (cached per taint signature). */
function pool(index: Index, tolerated: string[]): { free: Free; nodes: Set<string> } {
  const key = tolerated.join('\u0000');
  const cached = index.poolCache.get(key);
  if (cached) return cached;
  const out = { free: { cpuMilli: 0, memoryBytes: 0, pods: 0 }, nodes: new Set<string>() };
  const all = tolerated.includes('*');
  for (const node of index.schedulable) {
    if (!all && !index.taints.get(node.name)!.every((t) => tolerated.includes(t))) continue;
    const f = index.free.get(node.name)!;
    out.free.cpuMilli += f.cpuMilli;
    out.free.memoryBytes += f.memoryBytes;
    out.free.pods += f.pods;
    out.nodes.add(node.name);
  }
  index.poolCache.set(key, out);
  return out;
}

function nodeForecast(
  node: string,
  pods: PodObservation[],
  policy: CompiledPolicy,
  facts: PodFacts,
): { forecast: NodeForecast; evicted: PodObservation[] } {
  const f: NodeForecast = {
    node,
    evict: 0,
    daemonSet: 0,
    mirror: 0,
    emptyDir: 0,
    finished: 0,
    unmanaged: 0,
    unmanagedPods: [],
    notSelected: 0,
    refused: [],
    requests: { cpuMilli: 0, memoryBytes: 0 },
  };
  const evicted: PodObservation[] = [];
  for (const pod of pods) {
    const verdict = classifyPod(pod, policy, facts);
    if (verdict.action === 'evict') {
      if (verdict.finished) {
        f.finished++;
        continue;
      }
      f.evict++;
      if (pod.emptyDir) f.emptyDir++;
      evicted.push(pod);
    } else if (verdict.action === 'skip') {
      if (verdict.kind === 'daemonSet') f.daemonSet++;
      else if (verdict.kind === 'mirror') f.mirror++;
      else if (verdict.kind === 'not-selected') f.notSelected++;
    } else if (verdict.action === 'refuse') {
      if (verdict.kind === 'unmanaged') {
        f.unmanaged++;
        if (f.unmanagedPods.length < MAX_POD_NAMES_PER_NODE) f.unmanagedPods.push(podRef(pod));
      }
      if (f.refused.length < MAX_POD_NAMES_PER_NODE)
        f.refused.push({ pod: podRef(pod), kind: verdict.kind, input: verdict.input, reason: verdict.reason });
    }
  }
  f.requests = sumRequests(evicted);
  return { forecast: f, evicted };
}

function budgetImpacts(
  evicted: { pod: PodObservation; node: string }[],
  index: Index,
): { budgets: BudgetImpact[]; multiBudgetPods: string[] } {
  const perBudget = new Map<BudgetObservation, { count: number; nodes: Set<string> }>();
  const multiBudgetPods: string[] = [];
  for (const { pod, node } of evicted) {
    const budgets = index.budgetsByPod.get(pod.uid) ?? [];
    if (budgets.length > 1 && multiBudgetPods.length < MAX_POD_NAMES_PER_BATCH) multiBudgetPods.push(podRef(pod));
    for (const b of budgets) {
      const entry = perBudget.get(b) ?? perBudget.set(b, { count: 0, nodes: new Set() }).get(b)!;
      entry.count++;
      entry.nodes.add(node);
    }
  }
  const budgets: BudgetImpact[] = [];
  for (const [b, { count, nodes }] of perBudget) {
    if (count <= b.disruptionsAllowed) continue;
    const blocks = b.disruptionsAllowed <= 0;
    const names = [...nodes].slice(0, MAX_POD_NAMES_PER_BATCH);
    const message = blocks
      ? `PDB ${b.namespace}/${b.name} allows no disruption now (${b.currentHealthy}/${b.desiredHealthy} healthy); ${count} pod(s) on ${listText(names)} cannot be evicted`
      : `PDB ${b.namespace}/${b.name} allows ${b.disruptionsAllowed} disruption(s) but the batch holds ${count} of its pods: the rest wait until replacements are Ready elsewhere (lower max-unavailable or pin these nodes to different batches)`;
    budgets.push({
      namespace: b.namespace,
      name: b.name,
      disruptionsAllowed: b.disruptionsAllowed,
      podsInBatch: count,
      effect: blocks ? 'blocks' : 'delays',
      nodes: names,
      message,
    });
  }
  return { budgets, multiBudgetPods };
}

function capacityCheck(batchNodes: string[], evicted: { pod: PodObservation; node: string }[], index: Index): CapacityCheck {
  const inBatch = new Set(batchNodes);
  const needed = { cpuMilli: 0, memoryBytes: 0, pods: 0 };
  // Group the evicted pods by what they tolerate (their own node's taints, assumed, plus their tolerations); each
  // group may go where those taints (or fewer) are.
  const groups = new Map<string, { tolerated: string[]; need: Free }>();
  for (const { pod, node } of evicted) {
    const own = index.taints.get(node) ?? [];
    const tolerated = pod.tolerates ? [...new Set([...own, ...pod.tolerates])].sort() : own;
    const key = tolerated.join('\u0000');
    const g = groups.get(key) ?? groups.set(key, { tolerated, need: { cpuMilli: 0, memoryBytes: 0, pods: 0 } }).get(key)!;
    g.need.cpuMilli += pod.requests.cpuMilli;
    g.need.memoryBytes += pod.requests.memoryBytes;
    g.need.pods += 1;
    needed.cpuMilli += pod.requests.cpuMilli;
    needed.memoryBytes += pod.requests.memoryBytes;
    needed.pods += 1;
  }
  const short: string[] = [];
  const pools: { nodes: Set<string>; room: Free }[] = [];
  for (const { tolerated, need } of groups.values()) {
    const p = pool(index, tolerated);
    const room = { ...p.free };
    for (const n of inBatch) {
      if (!p.nodes.has(n)) continue;
      const f = index.free.get(n)!;
      room.cpuMilli -= f.cpuMilli;
      room.memoryBytes -= f.memoryBytes;
      room.pods -= f.pods;
    }
    pools.push({ nodes: p.nodes, room });
    if (need.cpuMilli > room.cpuMilli) short.push(`CPU ${need.cpuMilli}m needed, ${room.cpuMilli}m free`);
    if (need.memoryBytes > room.memoryBytes) short.push(`memory ${mib(need.memoryBytes)} needed, ${mib(room.memoryBytes)} free`);
    if (need.pods > room.pods) short.push(`${need.pods} pod slots needed, ${room.pods} free`);
  }
  const { free, targetNodes } = unionRoom(pools, inBatch, index);
  const fits = short.length === 0;
  const message =
    needed.pods === 0
      ? 'nothing to reschedule'
      : fits
        ? `${needed.pods} evicted pod(s) fit on ${targetNodes} remaining node(s)`
        : `not enough room on the ${targetNodes} node(s) that can take the evicted pods: ${short.join('; ')}`;
  return { fits, needed, free, targetNodes, message };
}

/** Room on the nodes any group may use; with one group (the usual case) that is its pool, already computed. */
function unionRoom(pools: { nodes: Set<string>; room: Free }[], inBatch: Set<string>, index: Index): { free: Free; targetNodes: number } {
  if (pools.length === 0) return { free: { cpuMilli: 0, memoryBytes: 0, pods: 0 }, targetNodes: 0 };
  if (pools.length === 1) {
    const only = pools[0]!;
    let overlap = 0;
    for (const n of inBatch) if (only.nodes.has(n)) overlap++;
    return { free: only.room, targetNodes: only.nodes.size - overlap };
  }
  const targets = new Set<string>();
  for (const p of pools) for (const n of p.nodes) if (!inBatch.has(n)) targets.add(n);
  const free = { cpuMilli: 0, memoryBytes: 0, pods: 0 };
  for (const n of targets) {
    const f = index.free.get(n)!;
    free.cpuMilli += f.cpuMilli;
    free.memoryBytes += f.memoryBytes;
    free.pods += f.pods;
  }
  return { free, targetNodes: targets.size };
}

const mib = (bytes: number) => `${Math.round(bytes / 1024 / 1024)}Mi`;

export function forecastDrains(state: ClusterState, batches: DrainBatch[], policy: CompiledPolicy): DrainForecast {
  const index = buildIndex(state);
  const daemonSets = state.daemonSets ? new Set(state.daemonSets) : undefined;
  const facts: PodFacts = daemonSets ? { daemonSetExists: (namespace, name) => daemonSets.has(`${namespace}/${name}`) } : {};
  const totals = { evict: 0, daemonSet: 0, mirror: 0, emptyDir: 0, unmanaged: 0, blockingBudgets: 0, batchesWithoutRoom: 0 };
  const out: BatchForecast[] = [];
  for (const batch of batches) {
    const nodes: NodeForecast[] = [];
    const evicted: { pod: PodObservation; node: string }[] = [];
    for (const name of batch.nodes) {
      const { forecast, evicted: pods } = nodeForecast(name, index.podsByNode.get(name) ?? [], policy, facts);
      nodes.push(forecast);
      for (const pod of pods) evicted.push({ pod, node: name });
      totals.evict += forecast.evict;
      totals.daemonSet += forecast.daemonSet;
      totals.mirror += forecast.mirror;
      totals.emptyDir += forecast.emptyDir;
      totals.unmanaged += forecast.unmanaged;
    }
    const { budgets, multiBudgetPods } = budgetImpacts(evicted, index);
    totals.blockingBudgets += budgets.filter((b) => b.effect === 'blocks').length;
    const capacity = capacityCheck(batch.nodes, evicted, index);
    if (!capacity.fits) totals.batchesWithoutRoom++;
    out.push({ stage: batch.stage, index: batch.index, nodes, budgets, multiBudgetPods, capacity });
  }
  return { batches: out, totals };
}
