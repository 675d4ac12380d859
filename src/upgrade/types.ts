// The runner's vocabulary: a stage is a small object (name, should it run given what is recorded, run,
// dry-run); a node's pipeline is a list of stages; the runner emits events that become the RunRecord.
import type { StepId } from '../core/plan-types.ts';
import type { RunEvent } from '../core/run-record.ts';
import type { NodeShell, RunOptions } from '../adapters/transport/node-shell.ts';
import type { NodeProgress, StageRecord } from '../adapters/cluster/progress.ts';
import type { DrainEvent, DrainOptions, DrainResult } from '../adapters/cluster/drain.ts';

export type StageName = StepId;

/** Stage names in pipeline order (the plan's step ids). */
export const STAGE_ORDER: readonly StageName[] = ['repo-switch', 'kubeadm-install', 'kubeadm-upgrade', 'drain', 'kubelet-install', 'kubelet-restart', 'wait-ready', 'uncordon'];

/** Everything a stage needs to know about the node it works on. */
export interface NodeJob {
  name: string;
  role: 'control-plane' | 'worker';
  packageManager: 'apt' | 'yum' | 'dnf';
  kubeadmAction: 'apply' | 'node';
  /** worker batch index; undefined for control planes */
  batch?: number;
}

/** What the upgrade asks for, the same for every node. */
export interface UpgradeTarget {
  /** "1.31.4" */
  version: string;
  /** exact package revision per package manager: { apt: "1.31.4-1.1", yum: "1.31.4-150500.1.1" } */
  packageVersions: Partial<Record<'apt' | 'yum' | 'dnf', string>>;
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
  run(argv: readonly string[], opts?: RunOptions & { rerunOnDrop?: boolean; allowFailure?: boolean }): Promise<{ code: number; stdout: string; stderr: string }>;
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
}

export interface RunFacts {
  /** CoreDNS version the target brings, from `kubeadm upgrade plan` ("v1.11.3") */
  coreDNSTarget?: string;
}

export interface Stage {
  name: StageName;
  title: string;
  /** false when the recorded progress already says this stage is done */
  shouldRun(progress: NodeProgress | undefined, target: string): boolean;
  run(ctx: StageContext): Promise<void>;
  /** what run would do, one line per command, for dry runs and the report */
  dryRun(ctx: Pick<StageContext, 'job' | 'target'>): string[];
}

export type { RunEvent, NodeShell };
