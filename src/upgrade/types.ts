// The runner's vocabulary: a stage is a small object (name, title, whether it applies to the node, and its steps);
// the steps are the only description of what the stage does, so the plan, dry-run and the run all come from them.
// The runner emits events that become the RunRecord.
import type { PackageManager } from '../core/cluster-state.ts';
import type { RunOptions } from '../adapters/transport/node-shell.ts';
import type { NodeProgress, StageRecord } from '../adapters/cluster/progress.ts';
import type { DrainEvent, DrainOptions, DrainResult } from '../adapters/cluster/drain.ts';

/** A stage's name: the plan's step id and the name recorded in the progress annotations. */
export type StageName = string;

/** Everything a stage needs to know about the node it works on. */
export interface NodeJob {
  name: string;
  role: 'control-plane' | 'worker';
  packageManager: PackageManager;
  kubeadmAction: 'apply' | 'node';
  /** worker batch index; undefined for control planes */
  batch?: number;
}

/** What the upgrade asks for, the same for every node. */
export interface UpgradeTarget {
  /** "1.31.4" */
  version: string;
  /** exact package revision per package manager: { apt: "1.31.4-1.1", yum: "1.31.4-150500.1.1" } */
  packageVersions: Partial<Record<PackageManager, string>>;
  /** kubeadm flags from the plan's verdicts: --force when forceable verdicts were accepted, pre-release flags */
  kubeadmFlags: string[];
  certificateRenewal: boolean;
  etcdUpgrade: boolean;
  /** stop kube-apiserver with SIGTERM and wait this long before kubeadm upgrade (0 = off) */
  gracefulApiserverStopMs: number;
}

/** One node's view of the cluster API, as the stages use it (a fake in unit tests). */
export interface ClusterOps {
  readProgress(node: string): Promise<NodeProgress | undefined>;
  recordStage(node: string, record: StageRecord): Promise<void>;
  drain(node: string, options: DrainOptions, onEvent: (event: DrainEvent) => void): Promise<DrainResult>;
  uncordon(node: string): Promise<boolean>;
  /** records that the node was cordoned before this upgrade's drain (the operator's fence) */
  recordFence(node: string, target: string): Promise<void>;
  /** undefined when the Node object is missing; `condition`: the Ready condition's reason and message */
  nodeStatus(node: string): Promise<{ ready: boolean; kubeletVersion: string; unschedulable: boolean; condition?: string } | undefined>;
  /** the CoreDNS Deployment's and kube-proxy DaemonSet's images */
  addonImages(): Promise<{ coreDNS?: string; kubeProxy?: string }>;
}

export interface Clock {
  now(): number;
  sleep(ms: number): Promise<void>;
}

/** Where command output goes: a collapsible group per node and stage (written whole, so parallel nodes do not interleave). */
export interface UpgradeLog {
  info(line: string): void;
  warning(line: string): void;
  group(title: string, lines: string[]): void;
}

/** A command run on a node; `rerunOnDrop` only for commands that are safe to run twice. */
export interface NodeCommandRunner {
  run(
    argv: readonly string[],
    opts?: RunOptions & { rerunOnDrop?: boolean; allowFailure?: boolean },
  ): Promise<{ code: number; stdout: string; stderr: string }>;
}

export interface StageContext {
  job: NodeJob;
  target: UpgradeTarget;
  shell: NodeCommandRunner;
  cluster: ClusterOps;
  clock: Clock;
  drain: DrainOptions;
  /** how long to wait for the node to be Ready with the new kubelet */
  readyTimeoutMs: number;
  /** adds a line to this stage's log group */
  say(line: string): void;
  /** a finding for the report (kept in the RunRecord); `detail` is shown folded */
  note(level: 'info' | 'warning', text: string, detail?: string): void;
  /** tells the report whether this node is now cordoned, and why */
  cordon(cordoned: boolean, reason: string): void;
  /** facts stages hand on to the run (the CoreDNS version kubeadm upgrade plan announced) */
  facts: RunFacts;
  /** reports (and collects) the backup folders kubeadm left on the node; never fails the stage */
  reportKubeadmBackups(): Promise<void>;
}

export interface RunFacts {
  /** CoreDNS version the target brings, from `kubeadm upgrade plan` ("v1.11.3") */
  coreDNSTarget?: string;
}

/** What is known of a node before its stages run: read by the plan's probe and the Node object (the run makes its
 * own plan first, so a run uses the same facts its plan showed). */
export interface NodeFacts {
  /** the pkgs.k8s.io repository files and the minors their lines name */
  repoFiles: { path: string; minors: string[] }[];
  /** the repository files name the target minor, the package lists / metadata cache do not know it yet (NodeReport) */
  repoMetadataStale?: boolean;
  /** the node was cordoned before any run of this Action cordoned it: the operator's fence, never undone */
  cordonedBefore: boolean;
}

/** Everything a stage's steps are made from. Pure data: the plan builds it from the probe, the run from its plan. */
export interface StageInput {
  job: NodeJob;
  target: UpgradeTarget;
  node: NodeFacts;
  drain: DrainOptions;
  /** how long to wait for the node to be Ready with the new kubelet */
  readyTimeoutMs: number;
  /** how long a package command waits for a package-database lock another process holds (package-lock-timeout) */
  packageLockTimeoutMs: number;
  /** after kubeadm upgrade: report kubeadm's backup folders, or also pack them into this run's backup (collect-kubeadm-backups) */
  kubeadmBackups: 'list' | 'collect';
}

/** A value a step reads on the node at run time (shown as `shown` in the plan): an earlier step's capture. */
export interface RuntimeArg {
  /** the name an earlier step captured the value under */
  runtime: string;
  /** put before the value ("kubeadm=") */
  prefix?: string;
  shown: string;
}

/** One command on the node (run as root, through the node's shell). */
export interface CommandStep {
  kind: 'command';
  argv: readonly (string | RuntimeArg)[];
  /** safe to run again when the connection drops mid-command */
  rerunOnDrop?: boolean;
  timeoutMs?: number;
  /** a failure whose output matches is expected and harmless, with the reason for the log */
  tolerate?: { pattern: RegExp; reason: string };
  /** run again every 2 s while a failure's output matches `while`, for up to `forMs` (a lock another process holds) */
  retry?: { while: RegExp; forMs: number };
  /** names the cause and the fix of a failure it recognises in the output (a dpkg lock held by another process) */
  explain?(output: string): string | undefined;
  /** any exit code is accepted (read-only commands whose failure the next step handles) */
  allowFailure?: boolean;
  /** keeps a value from stdout for later steps' RuntimeArgs; throws (with the message) when it finds none */
  capture?: { name: string; parse(stdout: string): string | undefined; missing: string };
  /** looks at the result (checks it, hands facts on); may throw to fail the stage */
  after?(result: { code: number; stdout: string; stderr: string }, ctx: StageContext): void | Promise<void>;
}

/** One action through the Kubernetes API or on the runner (drain, wait, uncordon), described by `text`. */
export interface ClusterStep {
  kind: 'cluster';
  text: string;
  run(ctx: StageContext): Promise<void>;
}

export type StageStep = CommandStep | ClusterStep;

/**
 * A stage of a node's upgrade: one file each under src/upgrade/stages/, listed once in stages/index.ts.
 * `steps` is the only description of the stage: the plan shows it, dry-run prints it, the run executes it.
 * Every stage is idempotent: run twice, it leaves the node as run once, which is what lets a re-run resume.
 */
export interface Stage {
  name: StageName;
  title: string;
  /** false when the stage has nothing to do on this node (it is then left out of the plan and the run) */
  shouldRun?(input: StageInput): boolean;
  steps(input: StageInput): StageStep[];
}
