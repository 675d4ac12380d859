// Builders for ClusterState / Settings / Inventory used by the unit tests. Defaults describe a healthy
// kubeadm cluster on 1.30.5 (debian), with 1.31.0-1.31.4 published; tests change what they are about.
import type { ClusterState, ControlPlanePod, NodeObservation, NodeReport, PodObservation } from '../../src/core/cluster-state.ts';
import type { Inventory, InventoryNode } from '../../src/core/inventory.ts';
import { parseSettings, type Settings } from '../../src/core/settings.ts';

export const KEY = '-----BEGIN OPENSSH PRIVATE KEY-----\nAAAA\n-----END OPENSSH PRIVATE KEY-----\n';

export function settingsFrom(inputs: Record<string, string> = {}): Settings {
  const all: Record<string, string> = {
    'target-version': '1.31',
    'ssh-private-key': KEY,
    'ssh-known-hosts': 'x ssh-ed25519 AAAA',
    ...inputs,
  };
  return parseSettings((name) => all[name] ?? '');
}

export interface ClusterOptions {
  controlPlanes?: number;
  workers?: number;
  version?: string;
  workerVersion?: string;
  published?: string[];
  packageManager?: 'apt' | 'yum' | 'dnf';
  podsPerWorker?: number;
  workerPrefix?: string;
}

const GiB = 1024 ** 3;

export function node(
  name: string,
  role: 'control-plane' | 'worker',
  version: string,
  extra: Partial<NodeObservation> = {},
): NodeObservation {
  return {
    name,
    role,
    ready: true,
    unschedulable: false,
    kubeletVersion: version,
    internalIP: '10.0.0.1',
    labels: {},
    taints: role === 'control-plane' ? [{ key: 'node-role.kubernetes.io/control-plane', effect: 'NoSchedule' }] : [],
    allocatable: { cpuMilli: 4000, memoryBytes: 8 * GiB, pods: 110 },
    ...extra,
  };
}

export function controlPlanePods(nodeName: string, version: string): ControlPlanePod[] {
  const kube = (component: ControlPlanePod['component']): ControlPlanePod => ({
    node: nodeName,
    component,
    image: `registry.k8s.io/${component}:v${version}`,
    version,
    running: true,
    ready: true,
  });
  return [
    kube('kube-apiserver'),
    kube('kube-controller-manager'),
    kube('kube-scheduler'),
    { node: nodeName, component: 'etcd', image: 'registry.k8s.io/etcd:3.5.15-0', version: '3.5.15-0', running: true, ready: true },
  ];
}

export function report(
  name: string,
  version: string,
  opts: { published?: string[]; packageManager?: 'apt' | 'yum' | 'dnf' } = {},
): NodeReport {
  const minor = version.split('.').slice(0, 2).join('.');
  const pm = opts.packageManager ?? 'apt';
  const rev = pm === 'apt' ? '1.1' : '150500.1.1';
  return {
    name,
    reachable: true,
    packageManager: pm,
    os: pm === 'apt' ? 'debian' : 'rhel',
    kubeadmVersion: version,
    kubeletVersion: version,
    kubectlVersion: version,
    packages: { kubeadm: `${version}-${rev}`, kubelet: `${version}-${rev}`, kubectl: `${version}-${rev}` },
    holds: ['kubeadm', 'kubelet', 'kubectl'],
    repoMinor: minor,
    repoFiles: [{ path: pm === 'apt' ? '/etc/apt/sources.list.d/kubernetes.list' : '/etc/yum.repos.d/kubernetes.repo', minors: [minor] }],
    publishedInRepo: [version],
    publishedInTargetMinor: opts.published ?? ['1.31.0', '1.31.1', '1.31.2', '1.31.3', '1.31.4'],
    swapOn: false,
    freeBytes: { etcd: 20 * GiB, kubernetes: 20 * GiB },
  };
}

export function pod(name: string, nodeName: string, extra: Partial<PodObservation> = {}): PodObservation {
  return {
    namespace: 'default',
    name,
    uid: `uid-${name}`,
    node: nodeName,
    phase: 'Running',
    ready: true,
    terminating: false,
    labels: {},
    controllerKind: 'ReplicaSet',
    controllerName: 'rs',
    mirror: false,
    emptyDir: false,
    requests: { cpuMilli: 100, memoryBytes: 128 * 1024 * 1024 },
    ...extra,
  };
}

export function cluster(opts: ClusterOptions = {}): ClusterState {
  const version = opts.version ?? '1.30.5';
  const workerVersion = opts.workerVersion ?? version;
  const cps = Array.from({ length: opts.controlPlanes ?? 1 }, (_, i) => `cp-${i + 1}`);
  const workers = Array.from({ length: opts.workers ?? 2 }, (_, i) => `${opts.workerPrefix ?? 'worker-'}${i + 1}`);
  const rOpts = {
    ...(opts.published ? { published: opts.published } : {}),
    ...(opts.packageManager ? { packageManager: opts.packageManager } : {}),
  };
  const pods: PodObservation[] = [];
  for (const w of workers) for (let i = 0; i < (opts.podsPerWorker ?? 0); i++) pods.push(pod(`${w}-app-${i}`, w));
  return {
    serverVersion: version,
    apiReachable: true,
    readyz: true,
    nodes: [...cps.map((n) => node(n, 'control-plane', version)), ...workers.map((n) => node(n, 'worker', workerVersion))],
    controlPlanePods: cps.flatMap((n) => controlPlanePods(n, version)),
    kubeadmConfig: { kubernetesVersion: `v${version}`, etcdLocal: true },
    addons: { coreDNSImage: 'registry.k8s.io/coredns/coredns:v1.11.3', kubeProxyImage: `registry.k8s.io/kube-proxy:v${version}` },
    pods,
    budgets: [],
    nodeReports: [...cps.map((n) => report(n, version, rOpts)), ...workers.map((n) => report(n, workerVersion, rOpts))],
  };
}

/** The inventory matching a cluster() state: every node, inventory order = cluster order. */
export function inventoryOf(state: ClusterState, extra: (n: InventoryNode) => Partial<InventoryNode> = () => ({})): Inventory {
  return {
    nodes: state.nodes.map((n, i) => ({
      name: n.name,
      address: `10.0.${Math.floor(i / 250)}.${(i % 250) + 1}`,
      role: n.role,
      user: 'root',
      port: 22,
      transport: 'ssh' as const,
      labels: {},
      ...extra({ name: n.name } as InventoryNode),
    })),
  };
}
