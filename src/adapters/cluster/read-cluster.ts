// One read of the cluster through the Kubernetes API: the API part of ClusterState (nodeReports come
// from the node probes). Every list is paginated (limit + continue) and restarts when its token expires (410).
import { apiRetrier, retryingClient } from './api-retry.ts';
import { ApiException, AppsV1Api, CoreV1Api, Health, KubeConfig, PolicyV1Api, VersionApi, type V1ListMeta } from '@kubernetes/client-node';
import type { ClusterState } from '../../core/cluster-state.ts';
import { mapBudget, mapControlPlanePod, mapNode, mapPod, parseClusterConfiguration, withoutV } from './map.ts';

export type ApiClusterState = Omit<ClusterState, 'nodeReports'>;

const PAGE_SIZE = 500;
const RESTARTS_ON_EXPIRED_TOKEN = 3;

type Page<T> = { items: T[]; metadata?: V1ListMeta };

/** All items of a list, page by page; a 410 (continue token expired) restarts the list from the beginning. */
export async function listAll<T>(what: string, fetchPage: (page: { limit: number; _continue?: string }) => Promise<Page<T>>): Promise<T[]> {
  for (let attempt = 0; ; attempt++) {
    const items: T[] = [];
    let token: string | undefined;
    try {
      do {
        const page = await fetchPage({ limit: PAGE_SIZE, ...(token ? { _continue: token } : {}) });
        items.push(...page.items);
        token = page.metadata?._continue || undefined;
      } while (token);
      return items;
    } catch (error) {
      if (error instanceof ApiException && error.code === 410 && attempt < RESTARTS_ON_EXPIRED_TOKEN) continue;
      throw new Error(`cannot list ${what}: ${describeApiError(error)}`);
    }
  }
}

export function describeApiError(error: unknown): string {
  if (error instanceof ApiException) {
    const body = error.body as { message?: string } | string | undefined;
    const message = typeof body === 'object' && body?.message ? body.message : String(body ?? '').slice(0, 300);
    return `HTTP ${error.code}${message ? `: ${message}` : ''}`;
  }
  const cause = (error as { cause?: { message?: string } }).cause?.message;
  return `${(error as Error).message ?? String(error)}${cause ? ` (${cause})` : ''}`;
}

/** Reads one object; a 404 is `undefined` (an addon or config map may legitimately be missing). */
async function readOptional<T>(what: string, read: () => Promise<T>): Promise<T | undefined> {
  try {
    return await read();
  } catch (error) {
    if (error instanceof ApiException && error.code === 404) return undefined;
    throw new Error(`cannot read ${what}: ${describeApiError(error)}`);
  }
}

/** A KubeConfig from the kubeconfig input's text. The text is never echoed: it holds credentials. */
export function kubeConfigFromText(text: string): KubeConfig {
  const kc = new KubeConfig();
  try {
    kc.loadFromString(text);
  } catch (error) {
    throw new Error(`kubeconfig cannot be loaded: ${(error as Error).message.split('\n')[0]}`);
  }
  if (!kc.getCurrentCluster()) throw new Error('kubeconfig has no current context with a cluster: set current-context');
  return kc;
}

/** Reads the cluster. When the API cannot be reached at all, returns apiReachable:false and the reason. */
export async function readCluster(kc: KubeConfig): Promise<ApiClusterState> {
  const server = kc.getCurrentCluster()?.server ?? '(no server)';
  let serverVersion: string;
  try {
    serverVersion = withoutV((await kc.makeApiClient(VersionApi).getCode()).gitVersion);
  } catch (error) {
    return {
      serverVersion: '',
      apiReachable: false,
      apiError: `cannot reach the Kubernetes API at ${server}: ${describeApiError(error)}`,
      readyz: false,
      nodes: [],
      controlPlanePods: [],
      addons: {},
      pods: [],
      budgets: [],
    };
  }
  // It answered: from here a refused or reset connection is a restart, waited out (a wrong server fails fast above).
  const retry = apiRetrier();
  const coreApi = retryingClient(kc.makeApiClient(CoreV1Api), retry);
  const apps = retryingClient(kc.makeApiClient(AppsV1Api), retry);
  const policy = retryingClient(kc.makeApiClient(PolicyV1Api), retry);
  const readyz = await new Health(kc).readyz({ timeout: 10_000 }).catch(() => false);
  const [nodes, pods, budgets, kubeadmConfig, coreDNS, kubeProxy] = await Promise.all([
    listAll('nodes', (page) => coreApi.listNode(page)),
    listAll('pods in all namespaces', (page) => coreApi.listPodForAllNamespaces(page)),
    listAll('PodDisruptionBudgets', (page) => policy.listPodDisruptionBudgetForAllNamespaces(page)),
    readOptional('kube-system/kubeadm-config', () => coreApi.readNamespacedConfigMap({ name: 'kubeadm-config', namespace: 'kube-system' })),
    readOptional('kube-system/coredns', () => apps.readNamespacedDeployment({ name: 'coredns', namespace: 'kube-system' })),
    readOptional('kube-system/kube-proxy', () => apps.readNamespacedDaemonSet({ name: 'kube-proxy', namespace: 'kube-system' })),
  ]);
  const imageOf = (containers: { name: string; image?: string }[] | undefined, name: string) =>
    (containers?.find((c) => c.name === name) ?? containers?.[0])?.image;
  const coreDNSImage = imageOf(coreDNS?.spec?.template.spec?.containers, 'coredns');
  const kubeProxyImage = imageOf(kubeProxy?.spec?.template.spec?.containers, 'kube-proxy');
  let clusterConfig: ApiClusterState['kubeadmConfig'];
  try {
    clusterConfig = parseClusterConfiguration(kubeadmConfig?.data?.ClusterConfiguration);
  } catch (error) {
    throw new Error(`kube-system/kubeadm-config: ClusterConfiguration is not valid YAML: ${(error as Error).message}`);
  }
  return {
    serverVersion,
    apiReachable: true,
    readyz,
    nodes: nodes.map(mapNode),
    controlPlanePods: pods.map(mapControlPlanePod).filter((p) => p !== undefined),
    ...(clusterConfig ? { kubeadmConfig: clusterConfig } : {}),
    addons: { ...(coreDNSImage ? { coreDNSImage } : {}), ...(kubeProxyImage ? { kubeProxyImage } : {}) },
    pods: pods.map(mapPod),
    budgets: budgets.map(mapBudget),
  };
}
