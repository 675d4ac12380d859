// One read of the cluster through the Kubernetes API: the API part of ClusterState (nodeReports come
// from the node probes). Every list is paginated (limit + continue) and restarts when its token expires (410).
import { API_RETRY, apiRetrier, apiStatus, describeStatus, retryingClient, retryPolicyOf, setRetryPolicy } from './api-retry.ts';
import {
  ApiException,
  AppsV1Api,
  CoreV1Api,
  Health,
  KubeConfig,
  PolicyV1Api,
  VersionApi,
  type RequestContext,
  type V1ListMeta,
} from '@kubernetes/client-node';
import type { ClusterState } from '../../core/cluster-state.ts';
import type { Permission } from '../../core/permissions.ts';
import { mapBudget, mapControlPlanePod, mapNode, mapPod, parseClusterConfiguration, withoutV } from './map.ts';

export type ApiClusterState = Omit<ClusterState, 'nodeReports'>;

/** The calls readCluster makes (the plan command's read of the cluster). */
export const READ_CLUSTER_ACCESS: readonly Permission[] = [
  { verb: 'get', path: '/version', why: 'reading the server version' },
  { verb: 'get', path: '/readyz', why: 'reading whether the API server is ready' },
  { verb: 'list', group: '', resource: 'nodes', why: 'reading the nodes' },
  { verb: 'list', group: '', resource: 'pods', why: 'reading the pods (control-plane versions, what a drain meets)' },
  { verb: 'list', group: 'policy', resource: 'poddisruptionbudgets', why: 'reading the disruption budgets a drain must respect' },
  {
    verb: 'get',
    group: '',
    resource: 'configmaps',
    namespace: 'kube-system',
    names: ['kubeadm-config'],
    why: "reading kubeadm's ClusterConfiguration",
  },
  { verb: 'get', group: 'apps', resource: 'deployments', namespace: 'kube-system', names: ['coredns'], why: 'reading the CoreDNS version' },
  {
    verb: 'get',
    group: 'apps',
    resource: 'daemonsets',
    namespace: 'kube-system',
    names: ['kube-proxy'],
    why: 'reading the kube-proxy version',
  },
];

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

/** A sentence about an API error: the status, its reason and the API's message; never the client's dump of headers. */
export function describeApiError(error: unknown): string {
  if (error instanceof ApiException) return describeStatus(apiStatus(error));
  const cause = (error as { cause?: unknown }).cause;
  const causeText = cause instanceof Error && !(cause instanceof ApiException) ? cause.message : undefined;
  return `${(error as Error).message ?? String(error)}${causeText ? ` (${causeText})` : ''}`;
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

/** How long one API request may take before it is abandoned (no call of the Action waits longer). */
export const API_REQUEST_TIMEOUT_MS = 60_000;

/** A request the API server did not answer within the bound. */
class ApiTimeoutError extends Error {
  constructor(method: string, url: string, timeoutMs: number) {
    super(`the Kubernetes API did not answer ${method} ${url} within ${timeoutMs / 1000} s`);
    this.name = 'ApiTimeoutError';
  }
}

/** An AbortSignal that fires ApiTimeoutError after timeoutMs (its timer does not keep the process alive). */
function requestDeadline(method: string, url: string, timeoutMs: number): AbortSignal {
  const controller = new AbortController();
  setTimeout(() => controller.abort(new ApiTimeoutError(method, url, timeoutMs)), timeoutMs).unref();
  return controller.signal;
}

/**
 * Every request made through this KubeConfig is bounded: client-node 2 sends each generated API call with
 * the RequestContext's signal after asking applySecurityAuthentication, so that is the one place a deadline
 * goes. (Health ignores the context's signal: it is given `deadline()` directly.)
 */
class BoundedKubeConfig extends KubeConfig {
  readonly timeoutMs: number;
  constructor(timeoutMs = API_REQUEST_TIMEOUT_MS) {
    super();
    this.timeoutMs = timeoutMs;
  }

  override async applySecurityAuthentication(context: RequestContext): Promise<void> {
    await super.applySecurityAuthentication(context);
    if (!context.getSignal()) context.setSignal(requestDeadline(context.getHttpMethod(), context.getUrl(), this.timeoutMs));
  }

  /** A deadline for a call client-node makes outside the generated APIs (Health). */
  deadline(method: string, path: string): AbortSignal {
    return requestDeadline(method, `${this.getCurrentCluster()?.server ?? ''}${path}`, this.timeoutMs);
  }
}

/** A KubeConfig from the kubeconfig input's text, every request bounded. The text is never echoed: it holds credentials. */
export function kubeConfigFromText(text: string, timeoutMs = API_REQUEST_TIMEOUT_MS, retryBudgetMs = API_RETRY.budgetMs): KubeConfig {
  const kc = new BoundedKubeConfig(timeoutMs);
  setRetryPolicy(kc, { ...API_RETRY, budgetMs: retryBudgetMs });
  try {
    kc.loadFromString(text);
  } catch (error) {
    throw new Error(`kubeconfig cannot be loaded: ${(error as Error).message.split('\n')[0]}`);
  }
  if (!kc.getCurrentCluster()) throw new Error('kubeconfig has no current context with a cluster: set current-context');
  return kc;
}

/** A kubeconfig user that runs a program on the runner when the client authenticates. */
export interface KubeconfigProgram {
  user: string;
  kind: 'exec' | 'auth-provider';
  /** the exec plugin's command, or the auth-provider's name (and its cmd-path when it has one) */
  what: string;
}

/**
 * Every user of the kubeconfig that would run a program on the runner: an exec credential plugin
 * (`users[].user.exec`, spawned by client-node), or an auth-provider (client-node runs gcp's and azure's
 * `cmd-path` + `cmd-args` as a shell command line; oidc refreshes tokens against a URL the file names).
 * Every user counts, not only the current context's: the file is refused or accepted as a whole.
 */
export function kubeconfigPrograms(kc: KubeConfig): KubeconfigProgram[] {
  const found: KubeconfigProgram[] = [];
  for (const user of kc.getUsers()) {
    const exec = user.exec as { command?: unknown } | null | undefined;
    if (exec) found.push({ user: user.name, kind: 'exec', what: typeof exec.command === 'string' ? exec.command : '(no command)' });
    const provider = user.authProvider as { name?: unknown; config?: Record<string, unknown> } | null | undefined;
    if (provider) {
      const cmd = provider.config?.['cmd-path'];
      const name = typeof provider.name === 'string' ? provider.name : '(unnamed)';
      found.push({ user: user.name, kind: 'auth-provider', what: typeof cmd === 'string' ? `${name} (cmd-path ${cmd})` : name });
    }
  }
  return found;
}

/** Reads the cluster. When the API cannot be reached at all, returns apiReachable:false and the reason. */
export async function readCluster(kc: KubeConfig, onWait?: (line: string) => void): Promise<ApiClusterState> {
  const server = kc.getCurrentCluster()?.server ?? '(no server)';
  const retryPolicy = retryPolicyOf(kc);
  let serverVersion: string;
  try {
    // a server answering 5xx or 429 is waited out; one refusing connections fails fast here (a wrong server)
    const version = retryingClient(
      kc.makeApiClient(VersionApi),
      apiRetrier({ policy: retryPolicy, connections: false, ...(onWait ? { onWait } : {}) }),
    );
    serverVersion = withoutV((await version.getCode()).gitVersion);
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
  const retry = apiRetrier({ policy: retryPolicy, ...(onWait ? { onWait } : {}) });
  const coreApi = retryingClient(kc.makeApiClient(CoreV1Api), retry);
  const apps = retryingClient(kc.makeApiClient(AppsV1Api), retry);
  const policy = retryingClient(kc.makeApiClient(PolicyV1Api), retry);
  // Health's own `timeout` option is ignored by client-node 2 (undici fetch): only a signal bounds it
  const readyzSignal = kc instanceof BoundedKubeConfig ? kc.deadline('GET', '/readyz') : AbortSignal.timeout(API_REQUEST_TIMEOUT_MS);
  const readyz = await new Health(kc).readyz({ signal: readyzSignal }).catch(() => false);
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
