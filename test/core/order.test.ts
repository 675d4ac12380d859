import { describe, expect, it } from 'vitest';
import type { ClusterState } from '../../src/core/cluster-state.ts';
import type { Inventory, InventoryNode } from '../../src/core/inventory.ts';
import { batchSize, planOrder } from '../../src/core/order.ts';
import type { MaxUnavailable } from '../../src/core/settings.ts';
import { cluster, inventoryOf } from './fixtures.ts';

function order(state: ClusterState, opts: { max?: MaxUnavailable; label?: string; inventory?: Inventory; target?: string } = {}) {
  return planOrder({
    state,
    inventory: opts.inventory ?? inventoryOf(state),
    targetVersion: opts.target ?? '1.31.4',
    maxUnavailable: opts.max ?? { kind: 'count', value: 1 },
    ...(opts.label ? { batchByLabel: opts.label } : {}),
  });
}
const batches = (r: ReturnType<typeof order>) => r.order.workerBatches.map((b) => b.nodes);

describe('control-plane order', () => {
  it('starts with the first healthy control plane in inventory order and says why', () => {
    const r = order(cluster({ controlPlanes: 3, workers: 0 }));
    expect(r.order.firstControlPlane).toEqual({
      node: 'cp-1',
      reason: expect.stringMatching(/first control plane in the inventory.*Running and Ready/),
    });
    expect(r.order.controlPlanes).toEqual(['cp-1', 'cp-2', 'cp-3']);
    expect([...r.kubeadmAction]).toEqual([
      ['cp-1', 'apply'],
      ['cp-2', 'node'],
      ['cp-3', 'node'],
    ]);
  });

  it('passes over a control plane whose apiserver is not Ready', () => {
    const state = cluster({ controlPlanes: 3, workers: 0 });
    state.controlPlanePods.find((p) => p.node === 'cp-1' && p.component === 'kube-apiserver')!.ready = false;
    const r = order(state);
    expect(r.order.firstControlPlane).toEqual({ node: 'cp-2', reason: expect.stringMatching(/not cp-1/) });
    expect(r.order.controlPlanes).toEqual(['cp-2', 'cp-1', 'cp-3']);
  });

  it('follows inventory order, not cluster order', () => {
    const state = cluster({ controlPlanes: 2, workers: 0 });
    const inv = inventoryOf(state);
    inv.nodes.reverse();
    expect(order(state, { inventory: inv }).order.controlPlanes).toEqual(['cp-2', 'cp-1']);
  });

  it('after apply ran (an apiserver at the target, kubeadm-config too), the rest use kubeadm upgrade node', () => {
    const state = cluster({ controlPlanes: 2, workers: 0 });
    for (const p of state.controlPlanePods.filter((p) => p.node === 'cp-1' && p.component !== 'etcd')) p.version = '1.31.4';
    state.nodes[0]!.kubeletVersion = '1.31.4';
    state.kubeadmConfig = { ...state.kubeadmConfig!, kubernetesVersion: 'v1.31.4' };
    const r = order(state);
    expect(r.skipped.get('cp-1')).toMatch(/already run 1\.31\.4/);
    expect(r.order.firstControlPlane).toBeUndefined();
    expect([...r.kubeadmAction]).toEqual([['cp-2', 'node']]);
  });
});

describe('an apply cut short before kubeadm-config', () => {
  it('runs kubeadm upgrade apply again on the first control plane still to upgrade', () => {
    const state = cluster({ controlPlanes: 2, workers: 0 });
    for (const p of state.controlPlanePods.filter((p) => p.node === 'cp-1' && p.component !== 'etcd')) p.version = '1.31.4';
    state.nodes[0]!.kubeletVersion = '1.31.4';
    const r = order(state);
    expect([...r.kubeadmAction]).toEqual([['cp-2', 'apply']]);
    expect(r.order.firstControlPlane?.reason).toMatch(/did not finish, so it runs again here/);
  });
});

describe('worker batches', () => {
  it.each([
    [{ kind: 'count', value: 2 } as MaxUnavailable, 5, [['worker-1', 'worker-2'], ['worker-3', 'worker-4'], ['worker-5']]],
    [{ kind: 'percent', value: 40 } as MaxUnavailable, 5, [['worker-1', 'worker-2'], ['worker-3', 'worker-4'], ['worker-5']]],
    [{ kind: 'percent', value: 10 } as MaxUnavailable, 3, [['worker-1'], ['worker-2'], ['worker-3']]],
    [{ kind: 'percent', value: 100 } as MaxUnavailable, 3, [['worker-1', 'worker-2', 'worker-3']]],
  ])('max-unavailable %j of %i workers', (max, workers, want) => {
    expect(batches(order(cluster({ workers }), { max }))).toEqual(want);
  });

  it('percent is of all inventory workers, rounded down, at least 1', () => {
    expect(batchSize({ kind: 'percent', value: 25 }, 7)).toMatchObject({ size: 1 });
    expect(batchSize({ kind: 'percent', value: 25 }, 8)).toMatchObject({ size: 2, reason: expect.stringMatching(/25% of 8/) });
  });

  it('pins make their own batches (ascending), the rest follow in inventory order', () => {
    const state = cluster({ workers: 5 });
    const pins: Record<string, number> = { 'worker-2': 7, 'worker-4': 7, 'worker-5': 3 };
    const inv = inventoryOf(state, (n) => (pins[n.name] !== undefined ? { batch: pins[n.name] } : {}));
    const r = order(state, { inventory: inv, max: { kind: 'count', value: 2 } });
    expect(r.order.workerBatches).toEqual([
      { index: 0, nodes: ['worker-5'], pin: 3 },
      { index: 1, nodes: ['worker-2', 'worker-4'], pin: 7 },
      { index: 2, nodes: ['worker-1', 'worker-3'] },
    ]);
  });

  it('warns when a pin is larger than max-unavailable, and keeps the pin', () => {
    const state = cluster({ workers: 3 });
    const r = order(state, { inventory: inventoryOf(state, (n) => (n.name.startsWith('worker') ? { batch: 1 } : {})) });
    expect(batches(r)).toEqual([['worker-1', 'worker-2', 'worker-3']]);
    expect(r.notes[0]).toMatchObject({ id: 'batch-pins', severity: 'warning', message: expect.stringMatching(/holds 3 workers/) });
  });

  it('batch-by-label never mixes label values (cluster labels, overridden by inventory labels)', () => {
    const state = cluster({ workers: 5 });
    const zones = ['a', 'b', 'a', 'b', 'a'];
    state.nodes
      .filter((n) => n.role === 'worker')
      .forEach((n, i) => {
        n.labels.zone = zones[i]!;
      });
    const inv = inventoryOf(state, (n: InventoryNode) => (n.name === 'worker-5' ? { labels: { zone: 'c' } } : {}));
    const r = order(state, { inventory: inv, label: 'zone', max: { kind: 'count', value: 3 } });
    expect(r.order.workerBatches.map((b) => [b.label, b.nodes])).toEqual([
      ['a', ['worker-1', 'worker-3']],
      ['b', ['worker-2', 'worker-4']],
      ['c', ['worker-5']],
    ]);
  });

  it('splits a pin that mixes label values, with a warning', () => {
    const state = cluster({ workers: 2 });
    state.nodes[1]!.labels.zone = 'a';
    state.nodes[2]!.labels.zone = 'b';
    const r = order(state, { inventory: inventoryOf(state, () => ({ batch: 1 })), label: 'zone', max: { kind: 'count', value: 2 } });
    expect(batches(r)).toEqual([['worker-1'], ['worker-2']]);
    expect(r.notes.map((n) => n.message).join()).toMatch(/mixes zone values/);
  });

  it('keeps nodes already at the target in their batch, listed as skipped, so batch indexes never shift', () => {
    const state = cluster({ workers: 3 });
    const before = batches(order(state));
    state.nodes[2]!.kubeletVersion = '1.31.4';
    const r = order(state);
    expect(batches(r)).toEqual([['worker-1'], ['worker-2'], ['worker-3']]);
    expect(batches(r)).toEqual(before);
    expect(r.skipped.get('worker-2')).toBe('kubelet already runs 1.31.4');
  });

  it('batches are the same whatever the target: pins and batch-by-label over every inventory worker', () => {
    const state = cluster({ workers: 6 });
    ['a', 'b', 'a', 'b', 'a', 'b'].forEach((zone, i) => {
      state.nodes[i + 1]!.labels.zone = zone;
    });
    const inv = inventoryOf(state, (n) => (n.name === 'worker-6' ? { batch: 0 } : {}));
    const at = (target: string | undefined) =>
      planOrder({ state, inventory: inv, targetVersion: target, maxUnavailable: { kind: 'count', value: 2 }, batchByLabel: 'zone' }).order
        .workerBatches;
    const fresh = at('1.31.4');
    for (const w of state.nodes.filter((n) => ['worker-1', 'worker-3', 'worker-6'].includes(n.name))) w.kubeletVersion = '1.31.4';
    expect(at('1.31.4')).toEqual(fresh);
    expect(at(undefined)).toEqual(fresh);
    expect(fresh.map((b) => b.nodes)).toEqual([['worker-6'], ['worker-1', 'worker-3'], ['worker-5'], ['worker-2', 'worker-4']]);
  });

  it('reports cluster nodes missing from the inventory', () => {
    const state = cluster({ workers: 3 });
    const inv = inventoryOf(state);
    inv.nodes.pop();
    expect(order(state, { inventory: inv }).order.notInInventory).toEqual({ nodes: ['worker-3'], nodeCount: 1 });
  });
});
