// Node order: the first control plane (kubeadm upgrade apply), the other control planes one at a time, then
// workers in batches of max-unavailable, honouring batch pins and batch-by-label. Deterministic: ties are
// broken by inventory order. Worker batches are a function of the inventory alone (every worker, upgraded or
// not), so a batch index names the same nodes in a plan made before the upgrade, one made half-way, and the
// `workers` command; nodes already at the target stay in their batch and are skipped there.
import type { ClusterState, NodeObservation } from './cluster-state.ts';
import type { Inventory, InventoryNode } from './inventory.ts';
import type { NodeOrder, PreflightVerdict, WorkerBatch } from './plan-types.ts';
import type { MaxUnavailable } from './settings.ts';
import { capNames, listText } from './util.ts';
import { parseVersion } from './versions.ts';

export interface OrderInput {
  state: ClusterState;
  inventory: Inventory;
  /** resolved target version; undefined when unresolved (then no node counts as already upgraded) */
  targetVersion: string | undefined;
  maxUnavailable: MaxUnavailable;
  batchByLabel?: string;
}

export interface OrderResult {
  /** workerBatches list every inventory worker; the ones in `skipped` are already at the target */
  order: NodeOrder;
  /** inventory nodes already at the target, with the reason */
  skipped: Map<string, string>;
  /** kubeadm action per control plane to upgrade */
  kubeadmAction: Map<string, 'apply' | 'node'>;
  /** notes about pins that had to bend (shown as preflight warnings) */
  notes: PreflightVerdict[];
}

const sameVersion = (a: string | undefined, b: string) => parseVersion(a)?.text === b;

/** A node is done when its kubelet (and, on control planes, its static pods) run the target. */
export function upgradedReason(node: InventoryNode, state: ClusterState, target: string | undefined): string | undefined {
  if (!target) return undefined;
  const observed = state.nodes.find((n) => n.name === node.name);
  if (!observed || !sameVersion(observed.kubeletVersion, target)) return undefined;
  if (node.role === 'control-plane') {
    const pods = state.controlPlanePods.filter((p) => p.node === node.name && p.component !== 'etcd');
    if (pods.length === 0 || pods.some((p) => !sameVersion(p.version, target))) return undefined;
    return `kubelet and control-plane pods already run ${target}`;
  }
  return `kubelet already runs ${target}`;
}

export function planOrder(input: OrderInput): OrderResult {
  const { state, inventory, targetVersion } = input;
  const skipped = new Map<string, string>();
  for (const node of inventory.nodes) {
    const reason = upgradedReason(node, state, targetVersion);
    if (reason) skipped.set(node.name, reason);
  }
  const pending = inventory.nodes.filter((n) => !skipped.has(n.name));
  const cps = pending.filter((n) => n.role === 'control-plane');
  const { first, action } = chooseFirstControlPlane(cps, state, targetVersion);
  const controlPlanes = first ? [first.node, ...cps.map((n) => n.name).filter((n) => n !== first.node)] : cps.map((n) => n.name);
  const kubeadmAction = new Map(
    controlPlanes.map((n) => [n, n === first?.node && action === 'apply' ? ('apply' as const) : ('node' as const)]),
  );

  const allWorkers = inventory.nodes.filter((n) => n.role === 'worker');
  const { size, reason } = batchSize(input.maxUnavailable, allWorkers.length);
  const notes: PreflightVerdict[] = [];
  const labelsOf = mergedLabels(state.nodes);
  const workerBatches = batchWorkers(allWorkers, size, input.batchByLabel, labelsOf, notes);

  const inInventory = new Set(inventory.nodes.map((n) => n.name));
  const notInInventory = state.nodes.filter((n) => !inInventory.has(n.name)).map((n) => n.name);
  return {
    order: {
      ...(first && action === 'apply' ? { firstControlPlane: first } : {}),
      controlPlanes,
      workerBatches,
      batchSize: size,
      batchSizeReason: reason,
      notInInventory: capNames(notInInventory),
    },
    skipped,
    kubeadmAction,
    notes,
  };
}

function chooseFirstControlPlane(
  cps: InventoryNode[],
  state: ClusterState,
  target: string | undefined,
): { first?: { node: string; reason: string }; action: 'apply' | 'node' } {
  if (cps.length === 0) return { action: 'node' };
  const upgradedApiserver = target
    ? state.controlPlanePods.find((p) => p.component === 'kube-apiserver' && sameVersion(p.version, target))
    : undefined;
  const configVersion = state.kubeadmConfig?.kubernetesVersion.replace(/^v/, '');
  if (upgradedApiserver && configVersion !== undefined && configVersion !== target) {
    // An apply cut short: the static pods moved on, kubeadm-config did not. kubeadm upgrade apply is idempotent, so the
    // first control plane still to upgrade runs it again (`kubeadm upgrade node` would read the old kubeadm-config).
    return {
      first: {
        node: cps[0]!.name,
        reason: `kube-apiserver on ${upgradedApiserver.node} already runs ${target} but kubeadm-config still says ${configVersion}: an earlier kubeadm upgrade apply did not finish, so it runs again here`,
      },
      action: 'apply',
    };
  }
  if (upgradedApiserver) {
    // apply already ran there in an earlier run; the remaining control planes only need `kubeadm upgrade node`.
    return {
      first: {
        node: cps[0]!.name,
        reason: `kube-apiserver on ${upgradedApiserver.node} already runs ${target}, so kubeadm upgrade apply has run; the others use kubeadm upgrade node`,
      },
      action: 'node',
    };
  }
  const healthy = (n: InventoryNode) => {
    const pod = state.controlPlanePods.find((p) => p.node === n.name && p.component === 'kube-apiserver');
    const node = state.nodes.find((o) => o.name === n.name);
    return pod?.running === true && pod.ready && node?.ready === true;
  };
  const index = cps.findIndex(healthy);
  if (index === 0)
    return {
      first: { node: cps[0]!.name, reason: 'first control plane in the inventory, and its kube-apiserver is Running and Ready' },
      action: 'apply',
    };
  if (index > 0) {
    const passed = cps.slice(0, index).map((n) => n.name);
    return {
      first: {
        node: cps[index]!.name,
        reason: `first control plane in the inventory whose kube-apiserver is Running and Ready (not ${listText(passed)})`,
      },
      action: 'apply',
    };
  }
  return {
    first: {
      node: cps[0]!.name,
      reason:
        'no control plane has a Running and Ready kube-apiserver; the first in the inventory is listed (the preflight blocks the upgrade)',
    },
    action: 'apply',
  };
}

/** max-unavailable: a count, or a percentage of the inventory's workers rounded down, at least 1. */
export function batchSize(max: MaxUnavailable, workers: number): { size: number; reason: string } {
  if (max.kind === 'count') return { size: max.value, reason: `max-unavailable ${max.value}` };
  const size = Math.max(1, Math.floor((workers * max.value) / 100));
  return { size, reason: `max-unavailable ${max.value}% of ${workers} worker(s), rounded down, at least 1` };
}

function mergedLabels(nodes: NodeObservation[]) {
  const byName = new Map(nodes.map((n) => [n.name, n.labels]));
  return (node: InventoryNode): Record<string, string> => ({ ...(byName.get(node.name) ?? {}), ...node.labels });
}

/** Groups by label value, keeping the order in which values first appear. */
function groupBy<T>(items: T[], key: (item: T) => string): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const item of items) {
    const k = key(item);
    const group = groups.get(k);
    if (group) group.push(item);
    else groups.set(k, [item]);
  }
  return groups;
}

const NO_LABEL = '\u0000none';

function batchWorkers(
  workers: InventoryNode[],
  size: number,
  label: string | undefined,
  labelsOf: (n: InventoryNode) => Record<string, string>,
  notes: PreflightVerdict[],
): WorkerBatch[] {
  const batches: Omit<WorkerBatch, 'index'>[] = [];
  const labelValue = (n: InventoryNode) => (label ? (labelsOf(n)[label] ?? NO_LABEL) : NO_LABEL);
  const withLabel = (value: string) => (label && value !== NO_LABEL ? { label: value } : label ? { label: '' } : {});

  // Pins first, in ascending pin order: a pin is a batch of its own, whatever its size.
  const pinned = workers.filter((n) => n.batch !== undefined);
  const pins = groupBy(pinned, (n) => String(n.batch));
  for (const pin of [...pins.keys()].sort((a, b) => Number(a) - Number(b))) {
    const byLabel = groupBy(pins.get(pin)!, labelValue);
    if (byLabel.size > 1) {
      notes.push({
        id: 'batch-pins',
        severity: 'warning',
        message: `batch pin ${pin} mixes ${label} values (${[...byLabel.keys()].map((v) => (v === NO_LABEL ? 'none' : v)).join(', ')}); it was split by label, since batch-by-label never lets different values share a batch`,
        ...capNames(pins.get(pin)!.map((n) => n.name)),
      });
    }
    for (const [value, group] of byLabel) {
      if (group.length > size) {
        notes.push({
          id: 'batch-pins',
          severity: 'warning',
          message: `batch pin ${pin} holds ${group.length} workers, more than max-unavailable allows (${size}); the pin wins`,
          ...capNames(group.map((n) => n.name)),
        });
      }
      batches.push({ nodes: group.map((n) => n.name), pin: Number(pin), ...withLabel(value) });
    }
  }
  const free = workers.filter((n) => n.batch === undefined);
  for (const [value, group] of groupBy(free, labelValue)) {
    for (let i = 0; i < group.length; i += size) batches.push({ nodes: group.slice(i, i + size).map((n) => n.name), ...withLabel(value) });
  }
  return batches.map((b, index) => ({ index, ...b }));
}
