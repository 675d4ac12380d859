// Test fixtures for the cluster-effect adapters: a standalone simulator API server per test file, and
// small builders for the objects a drain meets (Ready nodes, Deployments with budgets, DaemonSets, bare
// and emptyDir pods). Each test labels its nodes with its own suite id and pins its workloads there,
// so tests sharing one server never schedule onto each other's nodes.
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { KubeConfig, type V1Pod, type V1PodSpec } from '@kubernetes/client-node';
import { parseAllDocuments } from 'yaml';
import { startStandaloneApiServer } from '../../../sim/apiserver/standalone.ts';
import { createKubeClient, loadKubeconfig } from '../../../sim/lib/kube-rest.ts';
import { kubeConfigFromText } from '../../../src/adapters/cluster/read-cluster.ts';
import { RBAC_NAME, rbacManifest, type Permission } from '../../../src/core/permissions.ts';
import { isNotFound, makeClusterApis, MERGE_PATCH, type ClusterApis } from '../../../src/adapters/cluster/progress.ts';

export interface TestCluster {
  /** cluster-admin (system:masters): for arranging what the tests need */
  api: ClusterApis;
  /**
   * The clients of a user granted exactly these permissions (the README's way: a ClusterRole and a Role per
   * namespace, bound to the user). Adapters called through them get a 403 for any call their permission
   * list does not name, so a call added without its permission fails its adapter's tests.
   */
  actingAs(permissions: readonly Permission[]): Promise<ClusterApis>;
  close(): Promise<void>;
}

const RBAC_PATHS: Record<string, (namespace?: string) => string> = {
  ClusterRole: () => '/apis/rbac.authorization.k8s.io/v1/clusterroles',
  ClusterRoleBinding: () => '/apis/rbac.authorization.k8s.io/v1/clusterrolebindings',
  Role: (ns) => `/apis/rbac.authorization.k8s.io/v1/namespaces/${ns}/roles`,
  RoleBinding: (ns) => `/apis/rbac.authorization.k8s.io/v1/namespaces/${ns}/rolebindings`,
};

export async function startTestCluster(
  delays: { podStartMs?: number; podStopMs?: number; podReadyMs?: number } = {},
): Promise<TestCluster> {
  const server = await startStandaloneApiServer({ delays: { podStartMs: 300, ...delays } });
  const kc = new KubeConfig();
  kc.loadFromFile(server.kubeconfigPath);
  const api = makeClusterApis(kc);
  await ensureNamespace(api, 'kube-system');
  return {
    api,
    async actingAs(permissions) {
      const user = `adapter-${randomBytes(3).toString('hex')}`;
      const admin = createKubeClient(loadKubeconfig(server.kubeconfigPath));
      try {
        for (const doc of parseAllDocuments(rbacManifest(permissions, user).replaceAll(`name: ${RBAC_NAME}`, `name: ${user}`))) {
          const object = doc.toJS();
          await admin.create(RBAC_PATHS[object.kind]!(object.metadata.namespace), object);
        }
      } finally {
        admin.close();
      }
      return makeClusterApis(kubeConfigFromText(await server.userKubeconfig(user)));
    },
    close: () => server.close(),
  };
}

export function suiteId(): string {
  return `t${randomBytes(3).toString('hex')}`;
}

export async function ensureNamespace(api: ClusterApis, name: string): Promise<void> {
  try {
    await api.core.readNamespace({ name });
  } catch (error) {
    if (!isNotFound(error)) throw error;
    await api.core.createNamespace({ body: { metadata: { name } } });
  }
}

export interface NodeOptions {
  suite: string;
  controlPlane?: boolean;
  kubeletVersion?: string;
  /** how many pods the node has room for */
  pods?: number;
}

/** A Node as a kubelet registers it: created, then its status patched to Ready. */
export async function createReadyNode(api: ClusterApis, name: string, options: NodeOptions): Promise<void> {
  const labels: Record<string, string> = { suite: options.suite, 'kubernetes.io/hostname': name };
  if (options.controlPlane) labels['node-role.kubernetes.io/control-plane'] = '';
  await api.core.createNode({ body: { metadata: { name, labels } } });
  const now = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
  const room = { cpu: '8', memory: '16Gi', pods: String(options.pods ?? 110) };
  await api.core.patchNodeStatus(
    {
      name,
      body: {
        status: {
          conditions: [
            {
              type: 'Ready',
              status: 'True',
              reason: 'KubeletReady',
              message: 'kubelet is posting ready status',
              lastHeartbeatTime: now,
              lastTransitionTime: now,
            },
          ],
          capacity: room,
          allocatable: room,
          nodeInfo: { kubeletVersion: `v${options.kubeletVersion ?? '1.31.2'}` },
          addresses: [{ type: 'Hostname', address: name }],
        },
      },
    },
    MERGE_PATCH,
  );
}

const container = (name: string) => ({ name, image: 'registry.k8s.io/pause:3.10' });

function podSpec(suite: string, extra: Partial<V1PodSpec> = {}): V1PodSpec {
  return { containers: [container('main')], nodeSelector: { suite }, terminationGracePeriodSeconds: 1, ...extra };
}

export async function createDeployment(
  api: ClusterApis,
  namespace: string,
  name: string,
  replicas: number,
  suite: string,
  extra: Partial<V1PodSpec> = {},
): Promise<void> {
  await api.apps.createNamespacedDeployment({
    namespace,
    body: {
      metadata: { name, namespace },
      spec: {
        replicas,
        selector: { matchLabels: { app: name } },
        template: { metadata: { labels: { app: name } }, spec: podSpec(suite, extra) },
      },
    },
  });
}

export async function createBudget(api: ClusterApis, namespace: string, name: string, app: string, minAvailable: number): Promise<void> {
  await api.policy.createNamespacedPodDisruptionBudget({
    namespace,
    body: { metadata: { name, namespace }, spec: { minAvailable, selector: { matchLabels: { app } } } },
  });
}

export async function createDaemonSet(
  api: ClusterApis,
  namespace: string,
  name: string,
  suite: string,
  image = 'registry.k8s.io/pause:3.10',
  labels: Record<string, string> = { app: name },
): Promise<void> {
  await api.apps.createNamespacedDaemonSet({
    namespace,
    body: {
      metadata: { name, namespace },
      spec: {
        selector: { matchLabels: labels },
        template: { metadata: { labels }, spec: { ...podSpec(suite), containers: [{ name, image }] } },
      },
    },
  });
}

/** A pod bound straight to a node, with no controller (what `kubectl run` leaves behind). */
export async function createBarePod(
  api: ClusterApis,
  namespace: string,
  name: string,
  node: string,
  extra: Partial<V1Pod['metadata']> = {},
  spec: Partial<V1PodSpec> = {},
): Promise<void> {
  await api.core.createNamespacedPod({
    namespace,
    body: {
      metadata: { name, namespace, ...extra },
      spec: { containers: [container('main')], nodeName: node, terminationGracePeriodSeconds: 1, ...spec },
    },
  });
}

export async function podsOnNode(api: ClusterApis, node: string): Promise<V1Pod[]> {
  return (await api.core.listPodForAllNamespaces({ fieldSelector: `spec.nodeName=${node}` })).items;
}

export async function podsOf(api: ClusterApis, namespace: string, app: string): Promise<V1Pod[]> {
  return (await api.core.listNamespacedPod({ namespace, labelSelector: `app=${app}` })).items;
}

export function isReady(pod: V1Pod): boolean {
  return !pod.metadata?.deletionTimestamp && (pod.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false);
}

export async function waitFor<T>(what: string, probe: () => Promise<T | undefined | false>, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

/** Waits until `count` pods of the app are Ready. */
export async function waitReady(api: ClusterApis, namespace: string, app: string, count: number): Promise<V1Pod[]> {
  return waitFor(`${count} Ready pods of ${namespace}/${app}`, async () => {
    const ready = (await podsOf(api, namespace, app)).filter(isReady);
    return ready.length === count ? ready : undefined;
  });
}

/** A fresh namespace and `count` Ready nodes labelled for this test only. */
export async function freshNodes(api: ClusterApis, count: number): Promise<{ ns: string; nodes: string[] }> {
  const ns = suiteId();
  await ensureNamespace(api, ns);
  const nodes = Array.from({ length: count }, (_, i) => `${ns}-n${i + 1}`);
  for (const node of nodes) await createReadyNode(api, node, { suite: ns });
  return { ns, nodes };
}
