import { describe, expect, it } from 'vitest';
import type { BudgetObservation, ClusterState } from '../../src/core/cluster-state.ts';
import { forecastDrains, selectorMatches } from '../../src/core/forecast.ts';
import { compilePolicy } from '../../src/core/pod-policy.ts';
import { cluster, pod } from './fixtures.ts';

const POLICY = compilePolicy({ deleteEmptyDirData: true, forceUnmanaged: false });

const workerBatch = (index: number, nodes: string[]) => ({ stage: 'workers' as const, index, nodes });

function budget(name: string, selector: BudgetObservation['selector'], disruptionsAllowed: number): BudgetObservation {
  return {
    namespace: 'default',
    name,
    selector,
    disruptionsAllowed,
    currentHealthy: 3,
    desiredHealthy: 3 - disruptionsAllowed,
    expectedPods: 3,
  };
}

describe('pod classification', () => {
  it('counts evictions and skips DaemonSet, mirror and finished pods; emptyDir pods are evicted and counted', () => {
    const state = cluster({ workers: 2 });
    state.pods = [
      pod('web-1', 'worker-1'),
      pod('cache-1', 'worker-1', { emptyDir: true }),
      pod('fluentd', 'worker-1', { controllerKind: 'DaemonSet' }),
      pod('static', 'worker-1', { mirror: true, controllerKind: 'Node' }),
      pod('job-done', 'worker-1', { phase: 'Succeeded', controllerKind: 'Job' }),
      pod('bare', 'worker-1', { controllerKind: undefined }),
      pod('elsewhere', 'worker-2'),
    ];
    const [b] = forecastDrains(state, [workerBatch(0, ['worker-1'])], POLICY).batches;
    expect(b!.nodes[0]).toEqual({
      node: 'worker-1',
      evict: 2,
      daemonSet: 1,
      mirror: 1,
      emptyDir: 1,
      finished: 1,
      unmanaged: 1,
      unmanagedPods: ['default/bare'],
      notSelected: 0,
      refused: [{ pod: 'default/bare', kind: 'unmanaged', input: 'force-drain-unmanaged', reason: expect.stringMatching(/no controller/) }],
      requests: { cpuMilli: 200, memoryBytes: 256 * 1024 * 1024 },
    });
  });
});

describe('PodDisruptionBudgets', () => {
  function withApp(spread: string[]): ClusterState {
    const state = cluster({ workers: 4 });
    state.pods = spread.map((n, i) => pod(`app-${i}`, n, { labels: { app: 'web' } }));
    return state;
  }

  it('a budget allowing no disruption blocks', () => {
    const state = withApp(['worker-1', 'worker-2', 'worker-3']);
    state.budgets = [budget('web', { matchLabels: { app: 'web' } }, 0)];
    const [b] = forecastDrains(state, [workerBatch(0, ['worker-1'])], POLICY).batches;
    expect(b!.budgets).toEqual([expect.objectContaining({ name: 'web', effect: 'blocks', podsInBatch: 1, nodes: ['worker-1'] })]);
  });

  it('counts pods of one budget across the nodes of the batch against disruptionsAllowed', () => {
    const state = withApp(['worker-1', 'worker-2', 'worker-3']);
    state.budgets = [budget('web', { matchLabels: { app: 'web' } }, 1)];
    const f = forecastDrains(state, [workerBatch(0, ['worker-1']), workerBatch(1, ['worker-2', 'worker-3'])], POLICY);
    expect(f.batches[0]!.budgets).toEqual([]);
    expect(f.batches[1]!.budgets).toEqual([expect.objectContaining({ effect: 'delays', podsInBatch: 2, disruptionsAllowed: 1 })]);
    expect(f.totals.blockingBudgets).toBe(0);
  });

  it('ignores budgets of other namespaces or selectors', () => {
    const state = withApp(['worker-1']);
    state.budgets = [{ ...budget('other-ns', {}, 0), namespace: 'kube-system' }, budget('db', { matchLabels: { app: 'db' } }, 0)];
    expect(forecastDrains(state, [workerBatch(0, ['worker-1'])], POLICY).batches[0]!.budgets).toEqual([]);
  });

  it('lists pods covered by two budgets (the Eviction API refuses them)', () => {
    const state = withApp(['worker-1']);
    state.budgets = [budget('a', { matchLabels: { app: 'web' } }, 5), budget('b', {}, 5)];
    expect(forecastDrains(state, [workerBatch(0, ['worker-1'])], POLICY).batches[0]!.multiBudgetPods).toEqual(['default/app-0']);
  });

  it.each([
    [{ matchLabels: { app: 'web' } }, { app: 'web', tier: 'x' }, true],
    [{ matchExpressions: [{ key: 'app', operator: 'In' as const, values: ['web', 'api'] }] }, { app: 'api' }, true],
    [{ matchExpressions: [{ key: 'app', operator: 'NotIn' as const, values: ['web'] }] }, { app: 'web' }, false],
    [{ matchExpressions: [{ key: 'app', operator: 'Exists' as const }] }, {}, false],
    [{ matchExpressions: [{ key: 'app', operator: 'DoesNotExist' as const }] }, {}, true],
    [{}, { anything: 'x' }, true],
  ])('selector %j on %j → %s', (selector, labels, want) => {
    expect(selectorMatches(selector, labels)).toBe(want);
  });
});

describe('capacity of the remaining nodes', () => {
  it('fits when the other schedulable workers have room', () => {
    const state = cluster({ workers: 3, podsPerWorker: 10 });
    const [b] = forecastDrains(state, [workerBatch(0, ['worker-1'])], POLICY).batches;
    expect(b!.capacity).toMatchObject({ fits: true, targetNodes: 2, needed: { pods: 10, cpuMilli: 1000 } });
  });

  it('does not fit when the rest is cordoned, NotReady or full; control-plane taints keep worker pods off', () => {
    const state = cluster({ workers: 3, podsPerWorker: 10 });
    state.nodes.find((n) => n.name === 'worker-2')!.unschedulable = true;
    state.nodes.find((n) => n.name === 'worker-3')!.ready = false;
    const [b] = forecastDrains(state, [workerBatch(0, ['worker-1'])], POLICY).batches;
    expect(b!.capacity).toMatchObject({ fits: false, targetNodes: 0, message: expect.stringMatching(/CPU 1000m needed, 0m free/) });
  });

  it('counts a node this Action left cordoned (drained, not yet uncordoned) as room: the re-run uncordons it first', () => {
    const state = cluster({ workers: 3, podsPerWorker: 10 });
    const leftCordoned = state.nodes.find((n) => n.name === 'worker-2')!;
    leftCordoned.unschedulable = true;
    leftCordoned.cordonedByUpgrade = true;
    leftCordoned.taints = [{ key: 'node.kubernetes.io/unschedulable', effect: 'NoSchedule' }];
    state.nodes.find((n) => n.name === 'worker-3')!.unschedulable = true;
    const [b] = forecastDrains(state, [workerBatch(0, ['worker-1'])], POLICY).batches;
    expect(b!.capacity).toMatchObject({ fits: true, targetNodes: 1 });
  });

  it('counts requests against allocatable of the target nodes', () => {
    const state = cluster({ workers: 2 });
    state.pods = [
      pod('big', 'worker-1', { requests: { cpuMilli: 3000, memoryBytes: 0 } }),
      pod('filler', 'worker-2', { requests: { cpuMilli: 2000, memoryBytes: 0 } }),
    ];
    const [b] = forecastDrains(state, [workerBatch(0, ['worker-1'])], POLICY).batches;
    expect(b!.capacity).toMatchObject({ fits: false, free: { cpuMilli: 2000 }, needed: { cpuMilli: 3000 } });
  });

  it('pods leaving a control plane may go to other control planes (they tolerate its taint)', () => {
    const state = cluster({ controlPlanes: 2, workers: 0 });
    state.pods = [pod('coredns-1', 'cp-1')];
    const [b] = forecastDrains(state, [{ stage: 'control-plane', index: 0, nodes: ['cp-1'] }], POLICY).batches;
    expect(b!.capacity).toMatchObject({ fits: true, targetNodes: 1 });
  });
});

describe('tolerations', () => {
  it('a pod that tolerates the control-plane taint may go to a control plane when its worker drains', () => {
    const state = cluster({ controlPlanes: 1, workers: 1 });
    state.pods = [pod('coredns-1', 'worker-1', { tolerates: ['node-role.kubernetes.io/control-plane'] })];
    expect(forecastDrains(state, [workerBatch(0, ['worker-1'])], POLICY).batches[0]!.capacity).toMatchObject({
      fits: true,
      targetNodes: 1,
    });
    state.pods = [pod('web-1', 'worker-1')];
    expect(forecastDrains(state, [workerBatch(0, ['worker-1'])], POLICY).batches[0]!.capacity).toMatchObject({
      fits: false,
      targetNodes: 0,
    });
  });
});
