// One test file's own world on the target: a namespace `contract-<random>`, fake Nodes
// `contract-<random>-n1…` made Ready through /status, pods bound to them, and a cleanup that leaves a
// real cluster as it was found (pods force-deleted, namespace and nodes deleted).
import { randomBytes } from 'node:crypto';
import {
  ApiException,
  AppsV1Api,
  CoordinationV1Api,
  CoreV1Api,
  PatchStrategy,
  PolicyV1Api,
  setHeaderOptions,
  type KubeConfig,
  type V1Node,
  type V1OwnerReference,
  type V1Pod,
} from '@kubernetes/client-node';
import { openContractTarget, type ContractTarget } from './target.ts';
import { ignoreNotFound, sleep, waitFor } from './wait.ts';

export const mergePatch = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);
export const strategicMergePatch = setHeaderOptions('Content-Type', PatchStrategy.StrategicMergePatch);

export const RUN_LABEL = 'contract.test/run';
export const KUBELET_VERSION = 'v1.30.5';
export const PAUSE_IMAGE = 'registry.k8s.io/pause:3.9';

export interface PodOptions {
  name: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  /** the node the pod is bound to; undefined leaves it unbound */
  nodeName?: string;
  nodeSelector?: Record<string, string>;
  ownerReferences?: V1OwnerReference[];
  terminationGracePeriodSeconds?: number;
}

export class ContractScope {
  readonly target: ContractTarget;
  readonly kubeconfig: KubeConfig;
  readonly core: CoreV1Api;
  readonly apps: AppsV1Api;
  readonly policy: PolicyV1Api;
  readonly coordination: CoordinationV1Api;
  /** `contract-<random>`: the namespace name and the prefix of every cluster-scoped object made here */
  readonly run: string;
  readonly nodes: string[] = [];
  private readonly heartbeatNodes = new Set<string>();
  private heartbeat: NodeJS.Timeout | undefined;

  constructor(target: ContractTarget) {
    this.target = target;
    this.kubeconfig = target.kubeconfig;
    this.core = target.kubeconfig.makeApiClient(CoreV1Api);
    this.apps = target.kubeconfig.makeApiClient(AppsV1Api);
    this.policy = target.kubeconfig.makeApiClient(PolicyV1Api);
    this.coordination = target.kubeconfig.makeApiClient(CoordinationV1Api);
    this.run = `contract-${randomBytes(4).toString('hex')}`;
  }

  get namespace(): string {
    return this.run;
  }

  /** A name no other object in this run has: `<prefix>-<n>`. */
  unique(prefix: string): string {
    return `${prefix}-${randomBytes(3).toString('hex')}`;
  }

  /** Creates a Node, then makes it Ready with a kubelet version through /status, as a kubelet would. */
  async createReadyNode(extraLabels: Record<string, string> = {}): Promise<V1Node> {
    const name = `${this.run}-n${this.nodes.length + 1}`;
    this.nodes.push(name);
    const labels = { [RUN_LABEL]: this.run, 'kubernetes.io/hostname': name, ...extraLabels };
    await this.core.createNode({ body: { apiVersion: 'v1', kind: 'Node', metadata: { name, labels } } });
    const node = await this.core.patchNodeStatus({ name, body: { status: readyNodeStatus() } }, mergePatch);
    this.heartbeatNodes.add(name);
    this.startHeartbeat();
    return node;
  }

  /** Stops refreshing a node's heartbeat, for tests that take its Ready condition away. */
  forgetHeartbeat(nodeName: string): void {
    this.heartbeatNodes.delete(nodeName);
  }

  /** Creates a pod; bound when nodeName is given. Waits out a real cluster's not-yet-created default ServiceAccount. */
  async createPod(options: PodOptions): Promise<V1Pod> {
    const body: V1Pod = {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: {
        name: options.name,
        labels: options.labels,
        annotations: options.annotations,
        ownerReferences: options.ownerReferences,
      },
      spec: {
        nodeName: options.nodeName,
        nodeSelector: options.nodeSelector,
        terminationGracePeriodSeconds: options.terminationGracePeriodSeconds,
        containers: [{ name: 'app', image: PAUSE_IMAGE }],
      },
    };
    return waitFor(`pod ${options.name} to be created`, async () => {
      try {
        return { done: true, value: await this.core.createNamespacedPod({ namespace: this.namespace, body }) };
      } catch (error) {
        if (isMissingServiceAccount(error)) return { done: false, seen: String((error as ApiException<unknown>).body) };
        throw error;
      }
    });
  }

  /** Reports the pod Running (Ready or not) through /status, as a kubelet would. */
  async markPodRunning(name: string, ready = true): Promise<V1Pod> {
    const now = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
    const flag = ready ? 'True' : 'False';
    const status = {
      phase: 'Running',
      conditions: ['Initialized', 'Ready', 'ContainersReady', 'PodScheduled'].map((type) => ({
        type,
        status: type === 'Ready' || type === 'ContainersReady' ? flag : 'True',
        lastTransitionTime: now,
      })),
      containerStatuses: [
        { name: 'app', image: PAUSE_IMAGE, imageID: '', ready, restartCount: 0, started: true, state: { running: { startedAt: now } } },
      ],
      startTime: now,
    };
    return this.core.patchNamespacedPodStatus({ name, namespace: this.namespace, body: { status } }, strategicMergePatch);
  }

  /** Creates bound pods labelled `app=<app>` and marks each Running and Ready. */
  async createRunningPods(app: string, count: number, nodeName: string): Promise<V1Pod[]> {
    const pods: V1Pod[] = [];
    for (let i = 1; i <= count; i++) {
      const name = `${app}-${i}`;
      await this.createPod({ name, labels: { app }, nodeName });
      pods.push(await this.markPodRunning(name));
    }
    return pods;
  }

  /**
   * The node to use for tests that need a kubelet: on the simulator our fake nodes (it plays the kubelet
   * for every Ready node); on a real cluster a real Ready, schedulable node that is not ours.
   */
  async kubeletNode(): Promise<string> {
    if (this.target.kind === 'simulator') {
      return this.nodes[0] ?? (await this.createReadyNode()).metadata!.name!;
    }
    const list = await this.core.listNode({ labelSelector: `!${RUN_LABEL}` });
    const usable = list.items.find((node) => !node.spec?.unschedulable && isNodeReady(node));
    if (!usable) throw new Error('the cluster has no Ready, schedulable node of its own to run a real pod on');
    return usable.metadata!.name!;
  }

  /** Deletes everything this scope made; throws when anything but "already gone" went wrong. */
  async cleanup(): Promise<void> {
    if (this.heartbeat) clearInterval(this.heartbeat);
    const failures: string[] = [];
    const attempt = async (what: string, call: Promise<unknown>) => {
      try {
        await ignoreNotFound(call);
      } catch (error) {
        failures.push(`${what}: ${error instanceof ApiException ? `${error.code} ${error.body}` : String(error)}`);
      }
    };
    await this.deleteWorkloadControllers(attempt);
    await this.forceDeletePods(attempt);
    await attempt(`namespace ${this.namespace}`, this.core.deleteNamespace({ name: this.namespace }));
    for (const name of this.nodes) await attempt(`node ${name}`, this.core.deleteNode({ name }));
    if (failures.length > 0) throw new Error(`contract cleanup left objects behind:\n${failures.join('\n')}`);
  }

  async createNamespace(): Promise<void> {
    await this.core.createNamespace({ body: { metadata: { name: this.namespace, labels: { [RUN_LABEL]: this.run } } } });
  }

  private async deleteWorkloadControllers(attempt: (what: string, call: Promise<unknown>) => Promise<void>) {
    const namespace = this.namespace;
    await attempt('deployments', this.apps.deleteCollectionNamespacedDeployment({ namespace }));
    await attempt('replicasets', this.apps.deleteCollectionNamespacedReplicaSet({ namespace }));
    await attempt('daemonsets', this.apps.deleteCollectionNamespacedDaemonSet({ namespace }));
  }

  /** Pods on fake nodes would stay Terminating forever on a real cluster, and hold the namespace. */
  private async forceDeletePods(attempt: (what: string, call: Promise<unknown>) => Promise<void>) {
    const deadline = Date.now() + 30_000;
    while (Date.now() < deadline) {
      let pods: V1Pod[];
      try {
        pods = (await this.core.listNamespacedPod({ namespace: this.namespace })).items;
      } catch (error) {
        if (error instanceof ApiException && error.code === 404) return;
        throw error;
      }
      if (pods.length === 0) return;
      for (const pod of pods) {
        const name = pod.metadata!.name!;
        await attempt(`pod ${name}`, this.core.deleteNamespacedPod({ name, namespace: this.namespace, gracePeriodSeconds: 0 }));
      }
      await sleep(300);
    }
  }

  /**
   * A real node lifecycle controller marks a node unreachable (and its pods not Ready) when its kubelet
   * stops reporting; our fake nodes report like a kubelet does, every 10 s, on a real cluster only.
   */
  private startHeartbeat(): void {
    if (this.heartbeat || this.target.kind !== 'cluster') return;
    this.heartbeat = setInterval(() => {
      for (const name of this.heartbeatNodes) {
        const body = { status: { conditions: [readyCondition('True')] } };
        this.core.patchNodeStatus({ name, body }, strategicMergePatch).catch(() => {});
      }
    }, 10_000);
    this.heartbeat.unref();
  }
}

/** Opens the target, creates the namespace, and creates `nodeCount` Ready fake nodes. */
export async function openScope(nodeCount: number): Promise<ContractScope> {
  const scope = new ContractScope(await openContractTarget());
  try {
    await scope.createNamespace();
    for (let i = 0; i < nodeCount; i++) await scope.createReadyNode();
  } catch (error) {
    await closeScope(scope);
    throw error;
  }
  return scope;
}

/** Cleans up, then closes the target even when cleanup failed. */
export async function closeScope(scope: ContractScope | undefined): Promise<void> {
  if (!scope) return;
  try {
    await scope.cleanup();
  } finally {
    await scope.target.close();
  }
}

export function readyCondition(status: 'True' | 'False') {
  const now = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
  return {
    type: 'Ready',
    status,
    reason: status === 'True' ? 'KubeletReady' : 'KubeletNotReady',
    message: status === 'True' ? 'kubelet is posting ready status' : 'container runtime is down',
    lastHeartbeatTime: now,
    lastTransitionTime: now,
  };
}

function readyNodeStatus() {
  return {
    conditions: [readyCondition('True')],
    addresses: [{ type: 'InternalIP', address: '127.250.255.1' }],
    capacity: { cpu: '2', memory: '4Gi', pods: '110' },
    allocatable: { cpu: '2', memory: '4Gi', pods: '110' },
    nodeInfo: {
      kubeletVersion: KUBELET_VERSION,
      kubeProxyVersion: KUBELET_VERSION,
      containerRuntimeVersion: 'containerd://1.7.0',
      operatingSystem: 'linux',
      architecture: 'amd64',
      osImage: 'Debian GNU/Linux 12 (bookworm)',
      kernelVersion: '6.1.0',
      machineID: '',
      systemUUID: '',
      bootID: '',
    },
  };
}

export function isNodeReady(node: V1Node): boolean {
  return node.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;
}

export function isPodReady(pod: V1Pod): boolean {
  return pod.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;
}

function isMissingServiceAccount(error: unknown): boolean {
  return error instanceof ApiException && error.code === 403 && /serviceaccount/i.test(String(error.body));
}
