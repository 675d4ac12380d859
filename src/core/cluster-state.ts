// ClusterState: one read of the cluster (Kubernetes API) plus what each node reports over its transport.
// A plain data value: the plan is a pure function of it and the settings.

export type Role = 'control-plane' | 'worker';

export interface Quantity {
  cpuMilli: number;
  memoryBytes: number;
}

/** A Node object as the API shows it. */
export interface NodeObservation {
  name: string;
  role: Role;
  ready: boolean;
  unschedulable: boolean;
  /** cordoned by an unfinished run of this Action (drained, not yet uncordoned): the re-run that resumes it uncordons it */
  cordonedByUpgrade?: boolean;
  /** kubelet version without the leading "v", e.g. "1.30.5" */
  kubeletVersion: string;
  internalIP?: string;
  /** status.nodeInfo.machineID: the /etc/machine-id the Node's kubelet reported */
  machineID?: string;
  labels: Record<string, string>;
  taints: { key: string; value?: string; effect: string }[];
  allocatable: Quantity & { pods: number };
}

export type ControlPlaneComponent = 'kube-apiserver' | 'kube-controller-manager' | 'kube-scheduler' | 'etcd';

/** A control-plane static pod (its mirror pod in kube-system). */
export interface ControlPlanePod {
  node: string;
  component: ControlPlaneComponent;
  image: string;
  /** the image tag without "v": "1.30.5" for kube-*, "3.5.15-0" for etcd */
  version: string;
  running: boolean;
  ready: boolean;
}

/** A pod as the drain forecast needs it. */
export interface PodObservation {
  namespace: string;
  name: string;
  uid: string;
  node: string;
  phase: string;
  ready: boolean;
  terminating: boolean;
  labels: Record<string, string>;
  /** kind of the controlling owner (ReplicaSet, DaemonSet, StatefulSet, Job, Node for mirror pods), if any */
  controllerKind?: string;
  controllerName?: string;
  mirror: boolean;
  emptyDir: boolean;
  requests: Quantity;
  /** taint keys the pod tolerates for scheduling (NoSchedule / NoExecute); "*" when it tolerates every taint */
  tolerates?: string[];
}

export interface LabelSelector {
  matchLabels?: Record<string, string>;
  matchExpressions?: { key: string; operator: 'In' | 'NotIn' | 'Exists' | 'DoesNotExist'; values?: string[] }[];
}

export interface BudgetObservation {
  namespace: string;
  name: string;
  selector: LabelSelector;
  minAvailable?: number | string;
  maxUnavailable?: number | string;
  disruptionsAllowed: number;
  currentHealthy: number;
  desiredHealthy: number;
  expectedPods: number;
}

/**
 * The package managers the node adapters know (src/adapters/node/packages/manager.ts registers one implementation
 * per name; the probe does not compile when a registered name is missing here).
 */
export type PackageManager = 'apt' | 'yum' | 'dnf';

/** What one node reports over SSH or the local transport (read-only commands). */
export interface NodeReport {
  name: string;
  reachable: boolean;
  /** why the node could not be read, when it could not */
  error?: string;
  packageManager?: PackageManager;
  os?: string;
  kubeadmVersion?: string;
  kubeletVersion?: string;
  kubectlVersion?: string;
  /** installed package versions with revision, e.g. { kubeadm: "1.30.5-1.1" } */
  packages: Record<string, string>;
  holds: string[];
  /** minor of the configured pkgs.k8s.io repository, e.g. "1.30"; undefined when none is configured */
  repoMinor?: string;
  /** the package manager's pkgs.k8s.io repository files, with the core:/stable: minors each names */
  repoFiles?: { path: string; minors: string[] }[];
  /** versions ("1.30.7") published in the configured repository */
  publishedInRepo: string[];
  /** versions published in the target minor's repository, read without changing the node; undefined when not readable */
  publishedInTargetMinor?: string[];
  /**
   * the repository file names the target minor but the node's package lists / metadata cache list none of it (a
   * repository switch cut short before the refresh): the run refreshes them in its repo-switch stage
   */
  repoMetadataStale?: boolean;
  /**
   * The exact package version (with the repository's packaging revision) of each version listed in
   * publishedInRepo and publishedInTargetMinor: { "1.31.13": "1.31.13-1.1" } (apt), "1.31.13-150500.1.1" (yum/dnf).
   * Absent when the node's listings gave none.
   */
  publishedPackageVersions?: Record<string, string>;
  swapOn: boolean;
  /**
   * Who the action logs in as, and whether that user gets root: `root` when it is root, otherwise `sudoRefused`
   * holds sudo's own words when `sudo -n true` failed (a password is required, a terminal is required, no sudo).
   * Absent when the node did not say (older probe output).
   */
  login?: { user: string; root: boolean; sudoRefused?: string };
  /** free bytes under /var/lib/etcd and /etc/kubernetes */
  freeBytes: { etcd?: number; kubernetes?: number };
  /** who the machine at the node's address says it is (src/core/node-identity.ts); absent when not read (older probe output) */
  identity?: NodeIdentity;
}

/** What the machine at an inventory address says it is. */
export interface NodeIdentity {
  /** NAME of CN=system:node:NAME in the kubelet's client certificate, when one was read */
  certificateNode?: string;
  /** where that certificate was: "/etc/kubernetes/kubelet.conf (client-certificate-data)" or the file kubelet.conf names */
  certificateSource?: string;
  /** why no Node name could be read from a kubelet client certificate */
  certificateProblem?: string;
  /** /etc/machine-id (32 hex digits), when readable */
  machineId?: string;
}

export interface KubeadmClusterConfig {
  kubernetesVersion: string;
  clusterName?: string;
  controlPlaneEndpoint?: string;
  etcdLocal: boolean;
}

export interface ClusterState {
  /** API server version without "v" */
  serverVersion: string;
  apiReachable: boolean;
  /** why the API could not be reached, when apiReachable is false */
  apiError?: string;
  readyz: boolean;
  nodes: NodeObservation[];
  controlPlanePods: ControlPlanePod[];
  kubeadmConfig?: KubeadmClusterConfig;
  addons: { coreDNSImage?: string; kubeProxyImage?: string };
  pods: PodObservation[];
  budgets: BudgetObservation[];
  /** every DaemonSet, "namespace/name" (a DaemonSet pod whose DaemonSet is gone is an orphan the drain refuses); undefined: not read */
  daemonSets?: string[];
  nodeReports: NodeReport[];
}
