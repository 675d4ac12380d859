// [kubelet] A Deployment's pods run and become Ready, and an evicted pod is replaced by a new one: the
// cycle the drain waits out on every node (wait until the pod is gone or its UID changed).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { V1Pod } from '@kubernetes/client-node';
import { PAUSE_IMAGE, closeScope, isPodReady, openScope, type ContractScope } from './fixture.ts';
import { kubeletAvailable } from './target.ts';
import { evict } from './pdb.ts';
import { waitFor } from './wait.ts';

let scope: ContractScope;

beforeAll(async () => {
  scope = await openScope(1);
});
afterAll(async () => {
  await closeScope(scope);
});

const isLive = (pod: V1Pod) => !pod.metadata?.deletionTimestamp;
const isRunningReady = (pod: V1Pod) => isLive(pod) && pod.status?.phase === 'Running' && isPodReady(pod);

async function podsOf(app: string): Promise<V1Pod[]> {
  return (await scope.core.listNamespacedPod({ namespace: scope.namespace, labelSelector: `app=${app}` })).items;
}

const summary = (pods: V1Pod[]) =>
  pods.map((p) => ({
    name: p.metadata?.name,
    uid: p.metadata?.uid,
    phase: p.status?.phase,
    ready: isPodReady(p),
    terminating: !isLive(p),
  }));

describe.skipIf(!kubeletAvailable)('[kubelet] Deployment', () => {
  it('creates pods that become Ready; an evicted pod is replaced by a new pod (new UID)', async () => {
    const app = scope.unique('web');
    const nodeName = await scope.kubeletNode();
    await scope.apps.createNamespacedDeployment({
      namespace: scope.namespace,
      body: {
        metadata: { name: app },
        spec: {
          replicas: 2,
          selector: { matchLabels: { app } },
          template: {
            metadata: { labels: { app } },
            spec: { nodeName, terminationGracePeriodSeconds: 1, containers: [{ name: 'app', image: PAUSE_IMAGE }] },
          },
        },
      },
    });

    const first = await waitFor(
      '2 Running and Ready pods of the Deployment',
      async () => {
        const pods = await podsOf(app);
        const ready = pods.filter(isRunningReady);
        return ready.length === 2 ? { done: true, value: ready } : { done: false, seen: summary(pods) };
      },
      60_000,
    );
    for (const pod of first) expect(pod.metadata?.ownerReferences?.[0]).toMatchObject({ kind: 'ReplicaSet', controller: true });
    const deployment = await waitFor('the Deployment to report 2 ready replicas', async () => {
      const seen = await scope.apps.readNamespacedDeployment({ name: app, namespace: scope.namespace });
      return seen.status?.readyReplicas === 2 ? { done: true, value: seen } : { done: false, seen: seen.status };
    });
    expect(deployment.status?.replicas).toBe(2);

    const victim = first[0]!;
    await evict(scope, victim.metadata!.name!);
    const originalUids = new Set(first.map((pod) => pod.metadata!.uid));
    const after = await waitFor(
      'a Ready replacement pod with a new UID, and the evicted pod gone',
      async () => {
        const pods = await podsOf(app);
        const ready = pods.filter(isRunningReady);
        const replacement = ready.some((pod) => !originalUids.has(pod.metadata!.uid));
        const victimGone = !pods.some((pod) => pod.metadata!.uid === victim.metadata!.uid);
        return replacement && victimGone && ready.length === 2 ? { done: true, value: ready } : { done: false, seen: summary(pods) };
      },
      60_000,
    );
    expect(after.map((pod) => pod.metadata!.name)).not.toContain(victim.metadata!.name);
  });
});
