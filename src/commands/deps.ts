// What a command needs from the outside world, passed in (real adapters in dispatch.ts, fakes in tests).
import type { LockHolder, LockOutcome, LockRenewal, ReleaseOutcome } from '../adapters/cluster/lease.ts';
import type { ArtifactUploader } from '../backup/artifact.ts';
import type { VerifyExpectation, VerifyResult } from '../adapters/cluster/verify-api.ts';
import type { NodeShell } from '../adapters/transport/node-shell.ts';
import type { ClusterState } from '../core/cluster-state.ts';
import type { Inventory } from '../core/inventory.ts';
import type { Permission } from '../core/permissions.ts';
import type { Plan } from '../core/plan-types.ts';
import type { RunRecord } from '../core/run-record.ts';
import type { Settings } from '../core/settings.ts';
import type { Clock, ClusterOps, UpgradeLog } from '../upgrade/types.ts';
import type { UpgradeOptions } from '../core/upgrade-options.ts';

/** The plan command's result, made by the plan command's code (read cluster, probe nodes, buildPlan). */
export interface PreparedPlan {
  plan: Plan;
  state: ClusterState;
  inventory: Inventory;
}

export interface LockApi {
  acquire(name: string, holder: LockHolder, ttlMs: number): Promise<LockOutcome>;
  startRenewal(
    name: string,
    holder: LockHolder,
    intervalMs: number,
    onLost: (holder: string) => void,
    onRenewed?: (at: number) => void,
  ): LockRenewal;
  release(name: string, holder: LockHolder): Promise<ReleaseOutcome>;
}

export interface Reporter extends UpgradeLog {
  setOutputs(outputs: Record<string, string>): void;
  writeSummary(markdown: string): Promise<void>;
  /** saved for the post step */
  saveState(name: string, value: string): void;
  /** posts the summary as a sticky PR comment when the workflow runs for a pull request; returns a notice otherwise */
  prComment(record: RunRecord, markdown: string): Promise<string | undefined>;
}

/** Who runs: GITHUB_REPOSITORY, GITHUB_RUN_ID, GITHUB_RUN_ATTEMPT, GITHUB_JOB. */
export interface RunIdentity {
  repository: string;
  runId: string;
  attempt: number;
  job: string;
}

export interface CommandDeps {
  settings: Settings;
  options: UpgradeOptions;
  /** the plan, by the plan command's code; `only` narrows the inventory (the `node` command) */
  preparePlan(only?: string): Promise<PreparedPlan>;
  cluster: ClusterOps;
  lock: LockApi;
  verify(expectation: VerifyExpectation): Promise<VerifyResult>;
  openShell(node: string): Promise<NodeShell>;
  reporter: Reporter;
  clock: Clock;
  identity: RunIdentity;
  /** a reason once the run is cancelled (SIGTERM/SIGINT) */
  cancelled(): string | undefined;
  /**
   * Preflight: throws an InputError naming each permission the kubeconfig's user lacks (absent in tests
   * whose fakes need no API). Says nothing when the API cannot be reached: the plan's read reports that.
   */
  checkAccess?(command: string, needed: readonly Permission[]): Promise<void>;
  /** where backups go: the artifact client and RUNNER_TEMP (copies and GHES archives) */
  artifacts: { uploader: ArtifactUploader; runnerTemp: string };
}

export interface CommandResult {
  record: RunRecord;
  /** 0 when the command did what it was asked */
  exitCode: 0 | 1;
}
