// The drain against pods that take real time: containers that exit podStopMs after SIGTERM, one that ignores
// SIGTERM and stays its whole grace period, and replacements Ready only after a readiness delay, so a budget
// has room again only then.
import type { V1Pod } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IGNORES_SIGTERM_ANNOTATION } from '../../../sim/apiserver/controllers/kubelet.ts';
import { drainNode, DrainError, type DrainEvent, type DrainOptions } from '../../../src/adapters/cluster/drain.ts';
import type { ClusterApis } from '../../../src/adapters/cluster/progress.ts';
import {
  createBudget,
  createDeployment,
  createReadyNode,
  isReady,
  podsOf,
  startTestCluster,
  waitReady,
  type TestCluster,
  freshNodes,
} from './fixtures.ts';

let cluster: TestCluster;
let api: ClusterApis;

beforeAll(async () => {
  cluster = await startTestCluster({ podStartMs: 200, podStopMs: 200, podReadyMs: 1000 });
  api = cluster.api;
});
afterAll(async () => {
  await cluster?.close();
});

const options: DrainOptions = {
  timeoutMs: 30_000,
  deleteEmptyDirData: false,
  forceUnmanaged: false,
  fallbackDelete: false,
  retryDelayMs: 100,
  pollIntervalMs: 50,
};
const id = (pod: V1Pod) => `${pod.metadata?.namespace}/${pod.metadata?.name}`;

const setUp = (count: number) => freshNodes(api, count);

describe('a drain through pods that take time to stop and to start', () => {
  it('names a pod that ignores SIGTERM as still terminating when drain-timeout ends, and uncordons the node', async () => {
    const {
      ns,
      nodes: [a],
    } = await setUp(1);
    await api.apps.createNamespacedDeployment({
      namespace: ns,
      body: {
        metadata: { name: 'stubborn', namespace: ns },
        spec: {
          replicas: 1,
          selector: { matchLabels: { app: 'stubborn' } },
          template: {
            metadata: { labels: { app: 'stubborn' }, annotations: { [IGNORES_SIGTERM_ANNOTATION]: 'true' } },
            spec: {
              nodeSelector: { suite: ns },
              terminationGracePeriodSeconds: 60,
              containers: [{ name: 'main', image: 'registry.k8s.io/pause:3.10' }],
            },
          },
        },
      },
    });
    const [pod] = await waitReady(api, ns, 'stubborn', 1);

    const events: DrainEvent[] = [];
    const error = await drainNode(api, a!, { ...options, timeoutMs: 1500 }, (e) => events.push(e)).then(
      () => undefined,
      (e: unknown) => e,
    );

    expect(error).toBeInstanceOf(DrainError);
    const failure = error as DrainError;
    expect(failure.blockers).toEqual([{ pod: id(pod!), reason: 'still terminating when the drain timed out (grace period 60s)' }]);
    expect(failure.message).toContain(`${id(pod!)}: still terminating`);
    expect(failure.uncordoned).toBe(true);
    expect(events.filter((e) => e.pod === id(pod!)).map((e) => e.kind)).toEqual(['evicting', 'evicted']);
    // the pod really is still there, terminating
    const still = await api.core.readNamespacedPod({ name: pod!.metadata!.name!, namespace: ns });
    expect(still.metadata?.deletionTimestamp).toBeDefined();
    await api.core.deleteNamespacedPod({ name: pod!.metadata!.name!, namespace: ns, gracePeriodSeconds: 0 });
  });

  it('waits on the budget until a replacement is Ready elsewhere, then evicts the next pod and finishes', async () => {
    const {
      ns,
      nodes: [a],
    } = await setUp(1);
    await createDeployment(api, ns, 'web', 2, ns);
    await createBudget(api, ns, 'web-pdb', 'web', 1);
    const before = await waitReady(api, ns, 'web', 2);
    // room for the replacements only now, on a node of its own
    const b = `${ns}-n2`;
    await createReadyNode(api, b, { suite: ns });

    const events: DrainEvent[] = [];
    const result = await drainNode(api, a!, options, (e) => events.push(e));

    expect(result.evicted.sort()).toEqual(before.map(id).sort());
    expect(result.blockedBy).toEqual([]);
    expect(result.delayedBy.map((d) => d.budget)).toEqual([`${ns}/web-pdb`]);
    const blocked = events.filter((e) => e.kind === 'blocked');
    expect(blocked.length).toBeGreaterThan(0);
    expect(blocked[0]!.message).toMatch(/blocked by PDB .*\/web-pdb: needs 1 healthy pods and has 1 currently; retrying/);
    // the first replacement was Ready (that made room for the second eviction); the second one follows
    const after = (await podsOf(api, ns, 'web')).filter((p) => !p.metadata?.deletionTimestamp);
    expect(after.map((p) => p.spec?.nodeName)).toEqual([b, b]);
    expect(after.filter(isReady).length).toBeGreaterThanOrEqual(1);
    await waitReady(api, ns, 'web', 2);
  });
});
