// Graceful pod deletion: what the drain waits on. A bound pod is marked Terminating and stays readable
// until a kubelet finishes it; gracePeriodSeconds 0 removes it at once; an unbound pod goes at once.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closeScope, isPodReady, openScope, type ContractScope } from './fixture.ts';
import { kubeletAvailable } from './target.ts';
import { describeResponse, rawRequest } from './raw.ts';
import { apiFailure, waitFor } from './wait.ts';

let scope: ContractScope;
let node: string;

beforeAll(async () => {
  scope = await openScope(1);
  node = scope.nodes[0]!;
});
afterAll(async () => {
  await closeScope(scope);
});

const podPath = (name: string) => `/api/v1/namespaces/${scope.namespace}/pods/${name}`;

describe('graceful deletion', () => {
  it('DELETE of a bound pod sets deletionTimestamp and deletionGracePeriodSeconds; the pod stays readable', async () => {
    const name = scope.unique('graceful');
    await scope.createPod({ name, labels: { app: name }, nodeName: node });
    await scope.markPodRunning(name);

    const response = await rawRequest(scope.kubeconfig, { method: 'DELETE', path: podPath(name) });
    expect(response.status, describeResponse(response)).toBe(200);
    expect(response.json).toMatchObject({ kind: 'Pod', metadata: { name, deletionGracePeriodSeconds: 30 } });
    // deletionTimestamp is the deletion time + 30 s; both stamps are the server's, whole seconds.
    const { creationTimestamp, deletionTimestamp } = response.json.metadata;
    expect(Date.parse(deletionTimestamp) - Date.parse(creationTimestamp)).toBeGreaterThanOrEqual(29_000);

    const read = await scope.core.readNamespacedPod({ name, namespace: scope.namespace });
    expect(read.metadata?.deletionTimestamp).toBeDefined();
    expect(read.metadata?.deletionGracePeriodSeconds).toBe(30);

    const force = await rawRequest(scope.kubeconfig, { method: 'DELETE', path: podPath(name), body: { gracePeriodSeconds: 0 } });
    expect(force.status, describeResponse(force)).toBe(200);
    expect(force.json).toMatchObject({ kind: 'Pod', metadata: { name } });
    const gone = await apiFailure(scope.core.readNamespacedPod({ name, namespace: scope.namespace }));
    expect(gone.code).toBe(404);
    expect(gone.status).toMatchObject({ reason: 'NotFound', message: `pods "${name}" not found` });
  });

  it('DELETE with gracePeriodSeconds 0 through client-node removes a bound pod at once', async () => {
    const name = scope.unique('forced');
    await scope.createPod({ name, nodeName: node });
    const deleted = await scope.core.deleteNamespacedPod({ name, namespace: scope.namespace, gracePeriodSeconds: 0 });
    expect(deleted.metadata?.name).toBe(name);
    expect((await apiFailure(scope.core.readNamespacedPod({ name, namespace: scope.namespace }))).code).toBe(404);
  });

  it('an unbound pod is deleted at once, without a grace period', async () => {
    const name = scope.unique('unbound');
    await scope.createPod({ name, nodeSelector: { 'contract.test/nowhere': 'true' } });
    const response = await rawRequest(scope.kubeconfig, { method: 'DELETE', path: podPath(name) });
    expect(response.status, describeResponse(response)).toBe(200);
    expect((await apiFailure(scope.core.readNamespacedPod({ name, namespace: scope.namespace }))).code).toBe(404);
  });

  it('deleting a missing pod is 404 NotFound', async () => {
    const failure = await apiFailure(scope.core.deleteNamespacedPod({ name: 'nope', namespace: scope.namespace }));
    expect(failure.code).toBe(404);
    expect(failure.status).toMatchObject({ kind: 'Status', reason: 'NotFound', message: 'pods "nope" not found' });
  });
});

describe.skipIf(!kubeletAvailable)('[kubelet] a kubelet finishes pods', () => {
  it('a bound pod on a Ready node becomes Running and Ready by itself', async () => {
    const name = scope.unique('starts');
    await scope.createPod({ name, nodeName: await scope.kubeletNode(), terminationGracePeriodSeconds: 1 });
    const pod = await waitFor(
      `pod ${name} to become Running and Ready`,
      async () => {
        const seen = await scope.core.readNamespacedPod({ name, namespace: scope.namespace });
        return seen.status?.phase === 'Running' && isPodReady(seen) ? { done: true, value: seen } : { done: false, seen: seen.status };
      },
      60_000,
    );
    expect(pod.status?.phase).toBe('Running');
  });

  it('a deleted bound pod is gone after its grace period', async () => {
    const name = scope.unique('finished');
    await scope.createPod({ name, nodeName: await scope.kubeletNode(), terminationGracePeriodSeconds: 2 });
    const deleted = await scope.core.deleteNamespacedPod({ name, namespace: scope.namespace });
    expect(deleted.metadata?.deletionGracePeriodSeconds).toBe(2);
    await waitFor(
      `pod ${name} to be gone after its 2 s grace period`,
      async () => {
        try {
          const seen = await scope.core.readNamespacedPod({ name, namespace: scope.namespace });
          return { done: false, seen: { phase: seen.status?.phase, deletionTimestamp: seen.metadata?.deletionTimestamp } };
        } catch (error) {
          if ((error as { code?: number }).code === 404) return { done: true, value: undefined };
          throw error;
        }
      },
      30_000,
    );
  });
});
