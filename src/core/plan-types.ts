// The plan: what `command: plan` decided. Plain JSON data; it is the `plan` output, so this file is its
// public, documented schema. Fields are only ever added (schemaVersion changes on any breaking change).
import type { PackageManager, Quantity, Role } from './cluster-state.ts';

export type PlanVerdict = 'ready' | 'blocked' | 'up-to-date';

/**
 * How much a finding matters, mirroring kubeadm's policy: `mandatory` blocks always; `forceable` blocks unless
 * the `force` input is true (kubeadm's --force); `warning` is shown and never blocks; `ok` is a passed check.
 */
export type Severity = 'mandatory' | 'forceable' | 'warning' | 'ok';

export type { PackageManager } from './cluster-state.ts';

/** Lists of node names are capped so the plan stays small for 3,000 nodes; nodeCount is the full count. */
export interface NodeNames {
  nodes: string[];
  nodeCount: number;
}

export interface SkewVerdict extends NodeNames {
  /** stable rule id, e.g. "skip-minor", "kubelet-too-old", "upstream-kubelet-newer" */
  id: string;
  /** who states the rule: kubeadm's policy.go, the upstream version-skew policy, or this Action */
  source: 'kubeadm' | 'upstream' | 'action';
  severity: Severity;
  /** true when the verdict is forceable and the force input accepted it */
  forced?: boolean;
  /** components concerned: kube-apiserver, kubelet, kubeadm, … */
  components: string[];
  message: string;
}

export interface PreflightVerdict extends NodeNames {
  /** api-reachable, readyz, nodes-ready, control-plane-healthy, swap-off, packages-published, disk-room, nodes-reachable, node-identity, nodes-not-in-inventory */
  id: string;
  severity: Severity;
  message: string;
}

/** How the target version was chosen. */
export interface TargetResolution {
  /** the target-version input as given */
  requested: string;
  /** the resolved version ("1.31.4"); absent when it could not be resolved */
  version?: string;
  /** true when the version was found published for every readable node's OS */
  verified: boolean;
  /** why the version could not be resolved or verified */
  reason?: string;
  /** newest patch published for the target minor on every node, when known */
  newestPublished?: string;
  /** nodes whose published versions could not be read */
  unreadable: NodeNames;
  /** exact package revision per package manager when the repositories list it ("1.31.4-1.1") */
  packageVersions: Partial<Record<PackageManager, string>>;
}

/** One minor step; more than one means the upgrade must be done hop by hop. */
export interface Hop {
  fromMinor: string;
  /** "1.30.12", or "1.30.latest" when no 1.30 patch list was readable */
  to: string;
  resolved: boolean;
}

/** A row of the `kubeadm upgrade plan` table for control-plane components and addons (kubelet rows come from `nodes`). */
export interface ComponentRow {
  component: 'kube-apiserver' | 'kube-controller-manager' | 'kube-scheduler' | 'etcd' | 'kube-proxy' | 'CoreDNS';
  node?: string;
  current: string;
  /** target version; for etcd and CoreDNS "chosen by kubeadm" (kubeadm pins them per release) */
  target: string;
}

/** What one stage does, as the stage itself describes it: a command on the node, or an action through the API. */
export interface PlannedAction {
  on: 'node' | 'cluster';
  /** node: the exact command line the run executes (as root); cluster: what the action does */
  text: string;
  /** part of the command line is read on the node at run time (shown in <angle brackets>) */
  resolvedAtRunTime?: true;
}

/** One stage of a node's procedure, made by the same stage object that runs it (src/upgrade/stages/). */
export interface Step {
  /** the stage's name, as recorded in the progress annotations: repo-switch, kubeadm-install, … */
  id: string;
  title: string;
  actions: PlannedAction[];
}

/** Node facts the procedure depends on, as the plan read them; buildPlan hands them to the ProcedureDescriber. */
export interface ProcedureNode {
  name: string;
  role: Role;
  kubeadmAction: 'apply' | 'node';
  batch?: number;
}

/**
 * Makes a node's steps from the stage objects that run them (src/upgrade/procedure.ts); passed into buildPlan so
 * the core stays free of the adapters those stages use. Returns undefined when the node cannot be described.
 */
export type ProcedureDescriber = (
  node: ProcedureNode,
  target: { version: string; packageVersions: Partial<Record<PackageManager, string>>; forced: boolean },
) => Step[] | undefined;

/** A node in the plan: where it is in the order and which procedure applies. */
export interface PlannedNode {
  name: string;
  role: Role;
  /** kubelet version now ("1.30.5"; "" when unknown) */
  kubelet: string;
  packageManager?: PackageManager;
  /** 0-based position in the upgrade order; absent for skipped nodes */
  position?: number;
  /** worker batch index; control planes have none */
  batch?: number;
  kubeadmAction?: 'apply' | 'node';
  /** key into Plan.procedures */
  procedure?: string;
  /** set when the node is not upgraded, with the reason (already at the target, …) */
  skipped?: string;
}

export interface WorkerBatch {
  index: number;
  nodes: string[];
  /** value of the batch-by-label label these nodes share */
  label?: string;
  /** the inventory batch pin these nodes share */
  pin?: number;
}

export interface NodeOrder {
  /** the node `kubeadm upgrade apply` runs on, and why it was chosen; absent when apply already ran */
  firstControlPlane?: { node: string; reason: string };
  /** control planes in order, the first one first; upgraded one at a time */
  controlPlanes: string[];
  workerBatches: WorkerBatch[];
  /** workers per batch, and how it follows from max-unavailable */
  batchSize: number;
  batchSizeReason: string;
  /** cluster nodes not in the inventory: this run would not upgrade them */
  notInInventory: NodeNames;
}

export interface NodeForecast {
  node: string;
  /** pods a drain would evict */
  evict: number;
  /** skipped by the drain (DaemonSet-managed / mirror pods) */
  daemonSet: number;
  mirror: number;
  /** evicted pods with emptyDir volumes: their data is lost */
  emptyDir: number;
  /** Succeeded/Failed pods: deleted, nothing to reschedule */
  finished: number;
  /** pods without a controller that the drain refuses (force-drain-unmanaged: false): a blocker */
  unmanaged: number;
  /** namespace/name of unmanaged pods (capped at 10 per node) */
  unmanagedPods: string[];
  /** pods drain-pod-selector leaves where they are */
  notSelected: number;
  /** pods the drain would refuse (capped at 10 per node), with the input that would allow each */
  refused: { pod: string; kind: 'emptyDir' | 'unmanaged' | 'orphaned-daemonset'; input: string; reason: string }[];
  /** summed requests of the evicted pods */
  requests: Quantity;
}

export interface BudgetImpact {
  namespace: string;
  name: string;
  disruptionsAllowed: number;
  /** evictable pods this budget covers in the batch (drained together) */
  podsInBatch: number;
  /** blocks: no eviction can pass; delays: only some pass at once, the rest wait for replacements */
  effect: 'blocks' | 'delays';
  nodes: string[];
  message: string;
}

export interface CapacityCheck {
  fits: boolean;
  /** what the evicted pods request (pods = count) */
  needed: Quantity & { pods: number };
  /** free allocatable on the nodes that can take them */
  free: Quantity & { pods: number };
  /** nodes that can take evicted pods: not in the batch, schedulable, Ready, no NoSchedule taint they lack a toleration for */
  targetNodes: number;
  message: string;
}

export interface BatchForecast {
  stage: 'control-plane' | 'workers';
  /** control planes: position among control planes; workers: batch index */
  index: number;
  nodes: NodeForecast[];
  budgets: BudgetImpact[];
  /** pods covered by more than one budget: the Eviction API refuses them (namespace/name, capped) */
  multiBudgetPods: string[];
  capacity: CapacityCheck;
}

export interface DrainForecast {
  batches: BatchForecast[];
  totals: {
    evict: number;
    daemonSet: number;
    mirror: number;
    emptyDir: number;
    unmanaged: number;
    blockingBudgets: number;
    batchesWithoutRoom: number;
  };
}

/** Duration model (see estimate.ts): minutes per node kind, batches in sequence. */
export interface Estimate {
  totalMinutes: number;
  controlPlaneMinutes: number;
  workerMinutes: number;
  model: string;
}

export interface Blocker {
  source: 'target' | 'hops' | 'skew' | 'preflight' | 'forecast' | 'version';
  id: string;
  message: string;
}

export interface Plan {
  schemaVersion: 2;
  cluster?: string;
  verdict: PlanVerdict;
  /** one line: why this verdict (the first blocker, or what an upgrade would do) */
  verdictReason: string;
  /** control-plane version now (lowest kube-apiserver), "" when unreadable */
  currentVersion: string;
  target: TargetResolution;
  /** the minors to pass through; one hop is the normal case */
  hops: Hop[];
  /** whether `force: true` was given (forceable verdicts then pass) */
  force: boolean;
  skew: SkewVerdict[];
  preflight: PreflightVerdict[];
  components: ComponentRow[];
  order: NodeOrder;
  /** every inventory node, in inventory order */
  nodes: PlannedNode[];
  /** step lists shared by nodes with the same procedure (key: "p1", "p2", … in order of first use) */
  procedures: Record<string, Step[]>;
  forecast: DrainForecast;
  estimate: Estimate;
  blockers: Blocker[];
  /** what was left out to keep the plan small (per-pod detail beyond limits, …) */
  omitted: string[];
}
