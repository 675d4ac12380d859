// drainNode, cordonNode and uncordonNode against the simulator's API server (real HTTPS, eviction and
// budget semantics, graceful deletion, a scheduler and a kubelet role).
import { setTimeout as sleep } from 'node:timers/promises';
import type { V1Pod } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  cordonNode,
  drainAccess,
  drainNode,
  DrainError,
  uncordonNode,
  type DrainEvent,
  type DrainOptions,
} from '../../../src/adapters/cluster/drain.ts';
import { MERGE_PATCH, type ClusterApis } from '../../../src/adapters/cluster/progress.ts';
import {
  createBarePod,
  createBudget,
  createDaemonSet,
  createDeployment,
  createReadyNode,
  isReady,
  podsOf,
  podsOnNode,
  startTestCluster,
  waitFor,
  waitReady,
  type TestCluster,
  freshNodes,
} from './fixtures.ts';

let cluster: TestCluster;
let api: ClusterApis;
let action: ClusterApis;
let withDelete: ClusterApis;

beforeAll(async () => {
  cluster = await startTestCluster();
  api = cluster.api;
  // the drain runs as a user with exactly the permissions drain.ts lists
  action = await cluster.actingAs(drainAccess({ fallbackDelete: false }));
  withDelete = await cluster.actingAs(drainAccess({ fallbackDelete: true }));
});
afterAll(async () => {
  await cluster?.close();
});

const fast: DrainOptions = {
  timeoutMs: 30_000,
  deleteEmptyDirData: true,
  forceUnmanaged: false,
  fallbackDelete: false,
  retryDelayMs: 100,
  pollIntervalMs: 50,
};
const id = (pod: V1Pod) => `${pod.metadata?.namespace}/${pod.metadata?.name}`;

const setUp = (count: number) => freshNodes(api, count);

async function unschedulable(node: string): Promise<boolean> {
  return (await api.core.readNode({ name: node })).spec?.unschedulable === true;
}

async function budgetAllows(ns: string, name: string, disruptions: number): Promise<void> {
  await waitFor(`${ns}/${name} to allow ${disruptions} disruptions`, async () => {
    const pdb = await api.policy.readNamespacedPodDisruptionBudget({ name, namespace: ns });
    return pdb.status?.disruptionsAllowed === disruptions && (pdb.status?.observedGeneration ?? 0) >= (pdb.metadata?.generation ?? 1);
  });
}

async function appPodsOn(ns: string, app: string, node: string): Promise<V1Pod[]> {
  return (await podsOf(api, ns, app)).filter((p) => p.spec?.nodeName === node && !p.metadata?.deletionTimestamp);
}

async function drainFailure(promise: Promise<unknown>): Promise<DrainError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(DrainError);
  return error as DrainError;
}

describe('cordonNode / uncordonNode', () => {
  it('set and clear spec.unschedulable, and say when there was nothing to change', async () => {
    const {
      nodes: [node],
    } = await setUp(1);
    expect(await cordonNode(action, node!)).toBe(true);
    expect(await unschedulable(node!)).toBe(true);
    expect(await cordonNode(action, node!)).toBe(false);
    expect(await uncordonNode(action, node!)).toBe(true);
    expect((await api.core.readNode({ name: node! })).spec?.unschedulable).toBeUndefined();
    expect(await uncordonNode(action, node!)).toBe(false);
  });

  it('name the node when it does not exist', async () => {
    await expect(cordonNode(action, 'no-such-node')).rejects.toThrow(/cannot cordon node no-such-node: .*not found/);
  });
});

describe('drainNode', () => {
  it('evicts the movable pods, waits until they are gone, and skips DaemonSet and mirror pods', async () => {
    const {
      ns,
      nodes: [a, b],
    } = await setUp(2);
    const nodeUid = (await api.core.readNode({ name: a! })).metadata!.uid!;
    await createDeployment(api, ns, 'web', 4, ns);
    await createDaemonSet(api, ns, 'agent', ns);
    await createBarePod(api, ns, `etcd-${a}`, a!, {
      annotations: { 'kubernetes.io/config.mirror': 'abc123', 'kubernetes.io/config.source': 'file' },
      ownerReferences: [{ apiVersion: 'v1', kind: 'Node', name: a!, uid: nodeUid, controller: true }],
    });
    await waitReady(api, ns, 'web', 4);
    await waitReady(api, ns, 'agent', 2);
    const webOnA = (await appPodsOn(ns, 'web', a!)).map(id).sort();
    expect(webOnA.length).toBeGreaterThan(0);
    const agentOnA = (await appPodsOn(ns, 'agent', a!)).map(id);

    const events: DrainEvent[] = [];
    const result = await drainNode(action, a!, fast, (e) => events.push(e));

    expect(result.evicted.sort()).toEqual(webOnA);
    expect(result.skipped).toEqual(
      expect.arrayContaining([
        { pod: agentOnA[0], reason: 'managed by DaemonSet agent' },
        { pod: `${ns}/etcd-${a}`, reason: expect.stringMatching(/mirror pod/) },
      ]),
    );
    expect(result.blockedBy).toEqual([]);
    // Gone, not merely terminating: the web pods had a 1 s grace period.
    const left = (await podsOnNode(api, a!)).map(id).sort();
    expect(left).toEqual([...agentOnA, `${ns}/etcd-${a}`].sort());
    expect(await unschedulable(a!)).toBe(true);
    for (const pod of webOnA) expect(events.map((e) => e.message)).toContain(`evicting ${pod}`);
    const replacements = await waitReady(api, ns, 'web', 4);
    expect(replacements.every((p) => p.spec?.nodeName === b)).toBe(true);
  });

  it('retries while a budget allows no disruption, then times out, uncordons and names the budget and pods', async () => {
    const {
      ns,
      nodes: [a],
    } = await setUp(2);
    await createDeployment(api, ns, 'web', 2, ns);
    await createBudget(api, ns, 'web-pdb', 'web', 2);
    await waitReady(api, ns, 'web', 2);
    await budgetAllows(ns, 'web-pdb', 0);
    const onA = await appPodsOn(ns, 'web', a!);
    expect(onA.length).toBeGreaterThan(0);

    const events: DrainEvent[] = [];
    const error = await drainFailure(drainNode(action, a!, { ...fast, timeoutMs: 1500, retryDelayMs: 200 }, (e) => events.push(e)));

    expect(error.blockers).toEqual(
      onA.map((pod) => ({ pod: id(pod), budget: `${ns}/web-pdb`, reason: 'needs 2 healthy pods and has 2 currently' })),
    );
    expect(error.message).toContain(`PodDisruptionBudget ${ns}/web-pdb`);
    for (const pod of onA) expect(error.message).toContain(id(pod));
    expect(error.message).toMatch(/did not finish within drain-timeout 2s.*node uncordoned/);
    expect(error.uncordoned).toBe(true);
    expect(await unschedulable(a!)).toBe(false);
    expect(events.map((e) => e.message)).toContain(
      `${id(onA[0]!)}: blocked by PDB ${ns}/web-pdb: needs 2 healthy pods and has 2 currently; retrying`,
    );
    // The budget held: the pods are still there, the same ones, not terminating.
    const after = await appPodsOn(ns, 'web', a!);
    expect(after.map((p) => p.metadata?.uid).sort()).toEqual(onA.map((p) => p.metadata?.uid).sort());
  });

  it('drains under a minAvailable 3-of-4 budget without ever going below 3 Ready pods', async () => {
    const { ns, nodes } = await setUp(3);
    await createDeployment(api, ns, 'web', 4, ns);
    await createBudget(api, ns, 'web-pdb', 'web', 3);
    await waitReady(api, ns, 'web', 4);
    await budgetAllows(ns, 'web-pdb', 1);
    const counts = await Promise.all(nodes.map(async (n) => (await appPodsOn(ns, 'web', n)).length));
    const target = nodes[counts.indexOf(Math.max(...counts))]!;
    const onTarget = (await appPodsOn(ns, 'web', target)).map(id).sort();
    expect(onTarget.length).toBeGreaterThanOrEqual(2);

    let lowest = Infinity;
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        lowest = Math.min(lowest, (await podsOf(api, ns, 'web')).filter(isReady).length);
        await sleep(20);
      }
    })();
    const result = await drainNode(action, target, fast).finally(() => {
      sampling = false;
    });
    await sampler;

    expect(result.evicted.sort()).toEqual(onTarget);
    expect(lowest).toBe(3);
    // The second eviction had to wait for a replacement to become Ready elsewhere.
    expect(result.delayedBy.map((b) => b.budget)).toContain(`${ns}/web-pdb`);
    const ready = await waitReady(api, ns, 'web', 4);
    expect(ready.some((p) => p.spec?.nodeName === target)).toBe(false);
  });

  it('refuses unmanaged and emptyDir pods before evicting anything, and moves them when allowed', async () => {
    const {
      ns,
      nodes: [a],
    } = await setUp(1);
    await createBarePod(api, ns, 'bare', a!);
    await createDeployment(api, ns, 'cache', 1, ns, { volumes: [{ name: 'scratch', emptyDir: {} }] });
    await createDeployment(api, ns, 'web', 1, ns);
    await waitReady(api, ns, 'cache', 1);
    await waitReady(api, ns, 'web', 1);
    await createReadyNode(api, `${ns}-n2`, { suite: ns });
    const before = await podsOnNode(api, a!);
    const cache = before.find((p) => p.metadata?.labels?.app === 'cache')!;

    const error = await drainFailure(drainNode(action, a!, { ...fast, deleteEmptyDirData: false }));
    expect(error.blockers).toEqual(
      expect.arrayContaining([
        { pod: `${ns}/bare`, reason: expect.stringMatching(/declares no controller.*force-drain-unmanaged: true/) },
        { pod: id(cache), reason: expect.stringMatching(/emptyDir.*delete-emptydir-data: true/) },
      ]),
    );
    expect(error.blockers).toHaveLength(2);
    expect(error.message).toMatch(/^cannot drain node .*node uncordoned$/);
    expect(await unschedulable(a!)).toBe(false);
    const untouched = await podsOnNode(api, a!);
    expect(untouched.map((p) => p.metadata?.uid).sort()).toEqual(before.map((p) => p.metadata?.uid).sort());
    expect(untouched.every((p) => !p.metadata?.deletionTimestamp)).toBe(true);

    const result = await drainNode(action, a!, { ...fast, forceUnmanaged: true, deleteEmptyDirData: true });
    expect(result.evicted.sort()).toEqual(before.map(id).sort());
    expect(await podsOnNode(api, a!)).toEqual([]);
    await waitReady(api, ns, 'cache', 1);
  });

  it('with drain-fallback-delete, deletes pods a budget still protects at the deadline and says so loudly', async () => {
    const {
      ns,
      nodes: [a],
    } = await setUp(2);
    await createDeployment(api, ns, 'web', 2, ns);
    await createBudget(api, ns, 'web-pdb', 'web', 2);
    await waitReady(api, ns, 'web', 2);
    await budgetAllows(ns, 'web-pdb', 0);
    const onA = (await appPodsOn(ns, 'web', a!)).map(id).sort();

    const events: DrainEvent[] = [];
    const result = await drainNode(withDelete, a!, { ...fast, timeoutMs: 800, fallbackDelete: true }, (e) => events.push(e));

    expect(result.deletedIgnoringBudget.sort()).toEqual(onA);
    expect(result.evicted).toEqual([]);
    const loud = events.filter((e) => e.kind === 'deleting-ignoring-budget');
    expect(loud.map((e) => e.pod).sort()).toEqual(onA);
    expect(loud[0]!.message).toMatch(new RegExp(`IGNORING ITS DISRUPTION BUDGET.*PDB ${ns}/web-pdb`));
    expect(await appPodsOn(ns, 'web', a!)).toEqual([]);
    expect(await unschedulable(a!)).toBe(true);
  });

  it('waits for a pod that is already terminating instead of evicting it again, and names it when it never goes', async () => {
    const {
      ns,
      nodes: [a],
    } = await setUp(1);
    await createBarePod(api, ns, 'stuck', a!, { finalizers: ['example.com/hold'] });
    await waitFor('stuck to run', async () => isReady(await api.core.readNamespacedPod({ name: 'stuck', namespace: ns })));
    await api.core.deleteNamespacedPod({ name: 'stuck', namespace: ns });

    const events: DrainEvent[] = [];
    const error = await drainFailure(drainNode(action, a!, { ...fast, forceUnmanaged: true, timeoutMs: 1000 }, (e) => events.push(e)));

    expect(error.blockers).toEqual([{ pod: `${ns}/stuck`, reason: expect.stringMatching(/still terminating/) }]);
    const kinds = events.filter((e) => e.pod === `${ns}/stuck`).map((e) => e.kind);
    expect(kinds).toContain('waiting');
    expect(kinds).not.toContain('evicting');
    await api.core.patchNamespacedPod({ name: 'stuck', namespace: ns, body: { metadata: { finalizers: null } } }, MERGE_PATCH);
  });

  it('drains only the pods the pod selector matches', async () => {
    const {
      ns,
      nodes: [a],
    } = await setUp(1);
    await createDeployment(api, ns, 'web', 1, ns);
    await createDeployment(api, ns, 'db', 1, ns);
    await waitReady(api, ns, 'web', 1);
    const [db] = await waitReady(api, ns, 'db', 1);
    const web = (await podsOf(api, ns, 'web')).map(id);

    const result = await drainNode(action, a!, { ...fast, podSelector: 'app=web' });

    expect(result.evicted).toEqual(web);
    expect((await appPodsOn(ns, 'db', a!)).map((p) => p.metadata?.uid)).toEqual([db!.metadata?.uid]);
  });
});
