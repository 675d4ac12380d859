// Reading pods the way the drain forecast does: by node (field selector), with their controllers
// (ownerReferences of ReplicaSet and DaemonSet pods) and mirror pods of static pods.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { V1OwnerReference, V1Pod } from '@kubernetes/client-node';
import { PAUSE_IMAGE, RUN_LABEL, closeScope, mergePatch, openScope, type ContractScope } from './fixture.ts';
import { waitFor } from './wait.ts';

let scope: ContractScope;
let nodeA: string;
let nodeB: string;

beforeAll(async () => {
  scope = await openScope(2);
  [nodeA, nodeB] = scope.nodes as [string, string];
});
afterAll(async () => {
  await closeScope(scope);
});

const namesOf = (pods: V1Pod[]) => pods.map((pod) => pod.metadata!.name!).sort();

describe('pod selectors', () => {
  it('field selector spec.nodeName lists only the pods bound to that node, in a namespace and across all', async () => {
    await scope.createPod({ name: 'sel-a1', labels: { app: 'sel', tier: 'web' }, nodeName: nodeA });
    await scope.createPod({ name: 'sel-a2', labels: { app: 'sel', tier: 'db' }, nodeName: nodeA });
    await scope.createPod({ name: 'sel-b1', labels: { app: 'sel', tier: 'web' }, nodeName: nodeB });

    const onA = await scope.core.listNamespacedPod({ namespace: scope.namespace, fieldSelector: `spec.nodeName=${nodeA}` });
    expect(namesOf(onA.items)).toEqual(['sel-a1', 'sel-a2']);
    const everywhereOnB = await scope.core.listPodForAllNamespaces({ fieldSelector: `spec.nodeName=${nodeB}` });
    expect(namesOf(everywhereOnB.items)).toEqual(['sel-b1']);

    const webOnA = await scope.core.listNamespacedPod({
      namespace: scope.namespace,
      fieldSelector: `spec.nodeName=${nodeA}`,
      labelSelector: 'app=sel,tier=web',
    });
    expect(namesOf(webOnA.items)).toEqual(['sel-a1']);
    const byName = await scope.core.listNamespacedPod({ namespace: scope.namespace, fieldSelector: 'metadata.name=sel-b1' });
    expect(namesOf(byName.items)).toEqual(['sel-b1']);
  });
});

/** The node a pod is for: bound (spec.nodeName) or, for a DaemonSet pod not yet bound, its node affinity. */
function targetNodeOf(pod: V1Pod): string | undefined {
  if (pod.spec?.nodeName) return pod.spec.nodeName;
  const terms = pod.spec?.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms ?? [];
  const field = terms.flatMap((term) => term.matchFields ?? []).find((f) => f.key === 'metadata.name' && f.operator === 'In');
  return field?.values?.[0];
}

async function waitForOwnedPod(owner: { kind: string; uid: string }, app: string): Promise<V1Pod> {
  return waitFor(`a pod owned by ${owner.kind} ${owner.uid}`, async () => {
    const pods = (await scope.core.listNamespacedPod({ namespace: scope.namespace, labelSelector: `app=${app}` })).items;
    const owned = pods.find((pod) => pod.metadata?.ownerReferences?.some((ref) => ref.uid === owner.uid));
    return owned ? { done: true, value: owned } : { done: false, seen: pods.map((pod) => pod.metadata?.ownerReferences) };
  });
}

function controllerRef(apiVersion: string, kind: string, name: string, uid: string): V1OwnerReference {
  return { apiVersion, kind, name, uid, controller: true, blockOwnerDeletion: true };
}

const template = (app: string, nodeName?: string) => ({
  metadata: { labels: { app } },
  spec: { nodeName, terminationGracePeriodSeconds: 1, containers: [{ name: 'app', image: PAUSE_IMAGE }] },
});

describe('ownerReferences of controller-made pods', () => {
  it('a ReplicaSet pod names its ReplicaSet as controller and keeps it through patches', async () => {
    const app = scope.unique('rs');
    const rs = await scope.apps.createNamespacedReplicaSet({
      namespace: scope.namespace,
      body: { metadata: { name: app }, spec: { replicas: 1, selector: { matchLabels: { app } }, template: template(app, nodeA) } },
    });
    const pod = await waitForOwnedPod({ kind: 'ReplicaSet', uid: rs.metadata!.uid! }, app);
    const expected = controllerRef('apps/v1', 'ReplicaSet', app, rs.metadata!.uid!);
    expect(pod.metadata?.ownerReferences).toEqual([expected]);

    const name = pod.metadata!.name!;
    await scope.core.patchNamespacedPod({ name, namespace: scope.namespace, body: { metadata: { labels: { extra: 'yes' } } } }, mergePatch);
    await scope.markPodRunning(name);
    const onNode = await scope.core.listNamespacedPod({ namespace: scope.namespace, fieldSelector: `spec.nodeName=${nodeA}` });
    const listed = onNode.items.find((p) => p.metadata?.name === name);
    expect(listed?.metadata?.ownerReferences).toEqual([expected]);
    expect(listed?.metadata?.labels?.extra).toBe('yes');
  });

  it('a DaemonSet pod names its DaemonSet as controller and is meant for the selected node', async () => {
    const app = scope.unique('ds');
    const dsNode = (await scope.createReadyNode({ 'contract.test/ds': app })).metadata!.name!;
    const ds = await scope.apps.createNamespacedDaemonSet({
      namespace: scope.namespace,
      body: {
        metadata: { name: app },
        spec: {
          selector: { matchLabels: { app } },
          template: {
            ...template(app),
            spec: { ...template(app).spec, nodeSelector: { [RUN_LABEL]: scope.run, 'contract.test/ds': app } },
          },
        },
      },
    });
    const pod = await waitForOwnedPod({ kind: 'DaemonSet', uid: ds.metadata!.uid! }, app);
    expect(pod.metadata?.ownerReferences).toEqual([controllerRef('apps/v1', 'DaemonSet', app, ds.metadata!.uid!)]);
    expect(targetNodeOf(pod)).toBe(dsNode);
    const again = await scope.core.readNamespacedPod({ name: pod.metadata!.name!, namespace: scope.namespace });
    expect(again.metadata?.ownerReferences).toEqual(pod.metadata?.ownerReferences);
  });
});

describe('mirror pods', () => {
  it('a pod with kubernetes.io/config.mirror owned by its Node is readable and listed on the node', async () => {
    const node = await scope.core.readNode({ name: nodeB });
    const name = `kube-apiserver-${nodeB}`;
    const hash = 'c0ffee0123456789abcdef0123456789';
    const ownerReferences: V1OwnerReference[] = [
      { apiVersion: 'v1', kind: 'Node', name: nodeB, uid: node.metadata!.uid!, controller: true },
    ];
    const annotations = { 'kubernetes.io/config.mirror': hash, 'kubernetes.io/config.hash': hash, 'kubernetes.io/config.source': 'file' };
    await scope.createPod({
      name,
      labels: { component: 'kube-apiserver', tier: 'control-plane' },
      annotations,
      nodeName: nodeB,
      ownerReferences,
    });

    const read = await scope.core.readNamespacedPod({ name, namespace: scope.namespace });
    expect(read.metadata?.annotations).toMatchObject(annotations);
    expect(read.metadata?.ownerReferences).toEqual(ownerReferences);
    const onNode = await scope.core.listNamespacedPod({ namespace: scope.namespace, fieldSelector: `spec.nodeName=${nodeB}` });
    expect(namesOf(onNode.items)).toContain(name);
  });
});
