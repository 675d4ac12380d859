// Fakes for the runner's unit tests: a NodeShell that records every argv and answers from a script, an
// in-memory cluster (progress annotations, cordon state, Node readiness), a clock that never waits.
import type { DrainOptions, DrainResult } from '../../src/adapters/cluster/drain.ts';
import type { DrainError } from '../../src/adapters/cluster/drain.ts';
import type { NodeProgress, StageRecord } from '../../src/adapters/cluster/progress.ts';
import type { CommandResult, NodeShell, RunOptions } from '../../src/adapters/transport/node-shell.ts';
import type { RunEvent } from '../../src/core/run-record.ts';
import type { RunnerDeps } from '../../src/upgrade/runner.ts';
import type { Clock, ClusterOps, UpgradeTarget } from '../../src/upgrade/types.ts';

export interface Call {
  node: string;
  argv: string[];
  stdin?: string;
}

/** Answers a command: a result, or a thrown error (a dropped connection). */
export type Responder = (node: string, argv: string[]) => Partial<CommandResult> | Error | undefined;

/** Default answers: versions the target after install, the repo file, success otherwise. */
export function nodeWorld(target: string, files: Record<string, string> = {}) {
  const installed = new Map<string, string>();
  const responder: Responder = (node, argv) => {
    const line = argv.join(' ');
    if (line.startsWith('kubeadm version')) return { stdout: `v${installed.get(node) ?? '1.30.5'}\n` };
    if (/(apt-get install|yum install|dnf install).*kubeadm/.test(line)) installed.set(node, target);
    if (argv[0] === 'grep') {
      const found = Object.keys(files).filter((f) => f.startsWith(argv.at(-1)!) || argv.slice(3).some((d) => f.startsWith(d)));
      return found.length > 0 ? { stdout: `${found.join('\n')}\n` } : { code: 1 };
    }
    if (argv[0] === 'cat') return files[argv.at(-1)!] !== undefined ? { stdout: files[argv.at(-1)!] } : { code: 1, stderr: 'No such file' };
    return undefined;
  };
  return responder;
}

export class Recorder {
  readonly calls: Call[] = [];
  readonly opened: string[] = [];
  responders: Responder[] = [];

  open = async (node: string): Promise<NodeShell> => {
    this.opened.push(node);
    const shell: NodeShell = {
      node,
      run: async (argv: readonly string[], opts: RunOptions = {}) => {
        const call: Call = { node, argv: [...argv], ...(opts.stdin !== undefined ? { stdin: opts.stdin } : {}) };
        this.calls.push(call);
        for (const respond of this.responders) {
          const answer = respond(node, [...argv]);
          if (answer instanceof Error) throw answer;
          if (answer) return { code: 0, stdout: '', stderr: '', ...answer };
        }
        return { code: 0, stdout: '', stderr: '' };
      },
      close: async () => {},
    };
    return shell;
  };

  commandsOf(node: string): string[] {
    return this.calls.filter((c) => c.node === node).map((c) => c.argv.join(' '));
  }
}

export class FakeCluster implements ClusterOps {
  readonly progress = new Map<string, NodeProgress>();
  readonly cordoned = new Set<string>();
  readonly kubelet = new Map<string, string>();
  readonly log: string[] = [];
  drainFails = new Map<string, DrainError>();

  async readProgress(node: string) {
    return this.progress.get(node);
  }
  async recordStage(node: string, record: StageRecord) {
    const previous = this.progress.get(node);
    const done = previous?.target === record.target ? previous.doneStages.filter((s) => s !== record.stage) : [];
    if (record.status === 'done') done.push(record.stage);
    this.progress.set(node, { target: record.target, stage: record.stage, stageStatus: record.status, run: record.run, doneStages: done });
    this.log.push(`${node} ${record.stage} ${record.status}`);
  }
  async drain(node: string, _options: DrainOptions): Promise<DrainResult> {
    this.log.push(`${node} drain`);
    const failure = this.drainFails.get(node);
    if (failure) throw failure;
    this.cordoned.add(node);
    return { node, wasUnschedulable: false, evicted: [], skipped: [], deletedIgnoringBudget: [], blockedBy: [], delayedBy: [] };
  }
  readonly fenced: string[] = [];
  async recordFence(node: string, target: string) {
    this.fenced.push(`${node}@${target}`);
  }
  async uncordon(node: string) {
    this.log.push(`${node} uncordon`);
    return this.cordoned.delete(node);
  }
  async nodeStatus(node: string) {
    return { ready: true, kubeletVersion: this.kubelet.get(node) ?? '1.30.5', unschedulable: this.cordoned.has(node) };
  }
  async addonImages() {
    return { coreDNS: 'registry.k8s.io/coredns/coredns:v1.11.3', kubeProxy: 'registry.k8s.io/kube-proxy:v1.31.4' };
  }
}

export function fakeClock(): Clock & { slept: number[] } {
  let now = 1_700_000_000_000;
  const slept: number[] = [];
  return {
    slept,
    now: () => (now += 5),
    sleep: async (ms) => {
      slept.push(ms);
      now += ms;
    },
  };
}

export const TARGET: UpgradeTarget = {
  version: '1.31.4',
  packageVersions: { apt: '1.31.4-1.1', yum: '1.31.4-150500.1.1', dnf: '1.31.4-150500.1.1' },
  kubeadmFlags: [],
  certificateRenewal: true,
  etcdUpgrade: true,
  gracefulApiserverStopMs: 0,
};

export function runnerDeps(
  recorder: Recorder,
  cluster: FakeCluster,
  overrides: Partial<RunnerDeps> = {},
): RunnerDeps & { events: RunEvent[] } {
  const events: RunEvent[] = [];
  const clock = fakeClock();
  // the kubelet reports the new version once restarted
  recorder.responders.push((node, argv) => {
    if (argv.join(' ') === 'systemctl restart kubelet') cluster.kubelet.set(node, TARGET.version);
    return undefined;
  });
  return {
    events,
    cluster,
    openShell: recorder.open,
    clock,
    log: { info: () => {}, warning: () => {}, group: () => {} },
    emit: (event) => events.push({ ...event, at: clock.now() } as RunEvent),
    target: TARGET,
    drain: { timeoutMs: 300_000, deleteEmptyDirData: true, forceUnmanaged: false, fallbackDelete: false },
    readyTimeoutMs: 60_000,
    packageLockTimeoutMs: 120_000,
    kubeadmBackups: 'list',
    nodeFacts: () => ({ repoFiles: [{ path: '/etc/apt/sources.list.d/kubernetes.list', minors: ['1.30'] }], cordonedBefore: false }),
    runIdentity: 'octo/repo run 1 attempt 1',
    stopRequested: () => undefined,
    ...overrides,
  };
}
