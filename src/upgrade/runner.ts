// Applies the node pipelines in the plan's order: control planes strictly one at a time, then worker batches
// (the nodes of a batch in parallel). Progress is recorded on the Node after every stage. After a failure (or
// a cancellation) no new node starts; the nodes already running finish or fail.
import type { DrainOptions } from '../adapters/cluster/drain.ts';
import type { NodeShell } from '../adapters/transport/node-shell.ts';
import type { RunEvent } from '../core/run-record.ts';
import { commandLine } from './procedure.ts';
import { CommandFailedError, NodeSession, outputTail } from './session.ts';
import type { Schedule, ScheduledNode } from './schedule.ts';
import { stageNamed } from './stages/index.ts';
import type {
  Clock,
  ClusterOps,
  NodeFacts,
  RunFacts,
  RuntimeArg,
  StageContext,
  StageInput,
  StageStep,
  UpgradeLog,
  UpgradeTarget,
} from './types.ts';

type EventBody = RunEvent extends infer E ? (E extends RunEvent ? Omit<E, 'at'> : never) : never;

export interface RunnerDeps {
  cluster: ClusterOps;
  openShell: (node: string) => Promise<NodeShell>;
  clock: Clock;
  log: UpgradeLog;
  emit: (event: EventBody) => void;
  target: UpgradeTarget;
  drain: DrainOptions;
  readyTimeoutMs: number;
  packageLockTimeoutMs: number;
  kubeadmBackups: StageInput['kubeadmBackups'];
  /** what the run's plan read of each node (the same facts its procedure was described from) */
  nodeFacts: (node: string) => NodeFacts;
  /** written into the progress annotations: which run recorded a stage */
  runIdentity: string;
  /** a reason when no new node may start (cancelled, the lock was lost) */
  stopRequested: () => string | undefined;
  /**
   * After this run's `kubeadm upgrade apply/node` on a node: report (and collect) the backup folders kubeadm
   * left there. Never fails the node; it reports its own problems as notes.
   */
  afterKubeadmUpgrade?: (job: ScheduledNode['job']) => Promise<void>;
}

export interface RunnerResult {
  ok: boolean;
  /** why scheduling stopped early (a node failed, cancelled, …) */
  stoppedBecause?: string;
}

function seconds(ms: number): string {
  return ms >= 60_000 ? `${Math.floor(ms / 60_000)}m${Math.round((ms % 60_000) / 1000)}s` : `${(ms / 1000).toFixed(1)}s`;
}

async function record(deps: RunnerDeps, node: string, stage: string, status: 'started' | 'done' | 'failed'): Promise<void> {
  await deps.cluster.recordStage(node, { target: deps.target.version, stage, run: deps.runIdentity, status });
}

const RETRY_EVERY_MS = 2000;

/** Runs one step: a command on the node (values captured by earlier steps filled in), or a cluster action. */
async function runStep(step: StageStep, ctx: StageContext, values: Map<string, string>): Promise<void> {
  if (step.kind === 'cluster') {
    ctx.say(`→ ${step.text}`);
    return step.run(ctx);
  }
  const argv = step.argv.map((arg: string | RuntimeArg) => {
    if (typeof arg === 'string') return arg;
    const value = values.get(arg.runtime);
    if (value === undefined) throw new Error(`${commandLine(step.argv)}: no value was read for ${arg.shown}`);
    return `${arg.prefix ?? ''}${value}`;
  });
  const run = () =>
    ctx.shell.run(argv, {
      ...(step.rerunOnDrop ? { rerunOnDrop: true } : {}),
      ...(step.timeoutMs ? { timeoutMs: step.timeoutMs } : {}),
      allowFailure: step.allowFailure === true || step.tolerate !== undefined || step.explain !== undefined || step.retry !== undefined,
    });
  let result = await run();
  const giveUpAt = ctx.clock.now() + (step.retry?.forMs ?? 0);
  while (result.code !== 0 && step.retry?.while.test(`${result.stdout}\n${result.stderr}`) && ctx.clock.now() < giveUpAt) {
    ctx.say(
      `(another process holds the lock; trying again in ${RETRY_EVERY_MS / 1000} s, for up to ${Math.round(step.retry.forMs / 1000)} s)`,
    );
    await ctx.clock.sleep(RETRY_EVERY_MS);
    result = await run();
  }
  if (result.code !== 0 && step.allowFailure !== true) {
    const output = `${result.stdout}\n${result.stderr}`;
    if (!step.tolerate?.pattern.test(output)) {
      const why = step.explain?.(output);
      throw new CommandFailedError(ctx.job.name, commandLine(argv), result.code, outputTail(result), why && `${ctx.job.name}: ${why}`);
    }
    ctx.say(`(exit ${result.code} is fine here: ${step.tolerate.reason})`);
  }
  if (step.capture) {
    const value = step.capture.parse(result.stdout);
    if (value === undefined) throw new Error(step.capture.missing);
    values.set(step.capture.name, value);
    ctx.say(`read ${value} for ${step.capture.name}`);
  }
  await step.after?.(result, ctx);
}

/** Runs one node's remaining stages; resolves false when a stage failed (the failure is in the events). */
export async function runNode(node: ScheduledNode, deps: RunnerDeps, facts: RunFacts): Promise<boolean> {
  const { name } = node.job;
  const session = new NodeSession(name, () => deps.openShell(name), deps.clock);
  if (node.doneBefore.includes('drain') && !node.doneBefore.includes('uncordon')) {
    deps.emit({
      type: 'cordon',
      node: name,
      cordoned: true,
      reason: "cordoned by an earlier run's drain; uncordoned once the new kubelet is Ready",
    });
  }
  if (node.doneBefore.length > 0)
    deps.log.info(
      `${name}: resuming at ${node.stages.find((s) => !node.doneBefore.includes(s))} (done by an earlier run: ${node.doneBefore.join(', ')})`,
    );
  const input = {
    job: node.job,
    target: deps.target,
    node: deps.nodeFacts(name),
    drain: deps.drain,
    readyTimeoutMs: deps.readyTimeoutMs,
    packageLockTimeoutMs: deps.packageLockTimeoutMs,
    kubeadmBackups: deps.kubeadmBackups,
  };
  try {
    for (const stageName of node.stages) {
      if (node.doneBefore.includes(stageName)) continue;
      const stage = stageNamed(stageName);
      const lines: string[] = [];
      const say = (line: string) => lines.push(line);
      const started = deps.clock.now();
      deps.log.info(`▶ ${name}: ${stage.name} (${stage.title})`);
      deps.emit({ type: 'stage-started', node: name, stage: stage.name });
      const ctx: StageContext = {
        job: node.job,
        target: deps.target,
        shell: session.runner(say),
        cluster: deps.cluster,
        clock: deps.clock,
        drain: deps.drain,
        readyTimeoutMs: deps.readyTimeoutMs,
        say,
        facts,
        note: (level, text, detail) => deps.emit({ type: 'note', level, text, node: name, ...(detail ? { detail } : {}) }),
        cordon: (cordoned, reason) => deps.emit({ type: 'cordon', node: name, cordoned, reason }),
        reportKubeadmBackups: async () => {
          await deps.afterKubeadmUpgrade?.(node.job).catch((error: Error) =>
            deps.emit({
              type: 'note',
              level: 'warning',
              node: name,
              text: `${name}: kubeadm's backup folders could not be listed: ${error.message}`,
            }),
          );
        },
      };
      try {
        await record(deps, name, stage.name, 'started');
        const values = new Map<string, string>();
        for (const step of stage.steps(input)) await runStep(step, ctx, values);
        await record(deps, name, stage.name, 'done');
      } catch (error) {
        const message = (error as Error).message;
        const tail = error instanceof CommandFailedError && error.tail ? error.tail : undefined;
        lines.push(`✖ ${message}`);
        deps.log.group(`${name} · ${stage.name} · failed after ${seconds(deps.clock.now() - started)}`, lines);
        deps.log.warning(`${name}: ${stage.name} failed: ${message}`);
        await record(deps, name, stage.name, 'failed').catch(() => undefined);
        deps.emit({ type: 'stage-failed', node: name, stage: stage.name, message, ...(tail ? { tail } : {}) });
        return false;
      }
      deps.log.group(`${name} · ${stage.name} · ${seconds(deps.clock.now() - started)}`, lines);
      deps.emit({ type: 'stage-finished', node: name, stage: stage.name });
    }
    deps.emit({ type: 'node-finished', node: name });
    deps.log.info(`✔ ${name} upgraded to ${deps.target.version}`);
    return true;
  } finally {
    await session.close();
  }
}

/** Reports whether CoreDNS and kube-proxy run the target's images (kubeadm upgrades them after the last control plane). */
export async function checkAddons(deps: Pick<RunnerDeps, 'cluster' | 'emit' | 'target'>, facts: RunFacts): Promise<void> {
  const tag = (image?: string) => image?.split('@')[0]?.split(':').at(-1);
  let images: { coreDNS?: string; kubeProxy?: string };
  try {
    images = await deps.cluster.addonImages();
  } catch (error) {
    deps.emit({ type: 'note', level: 'warning', text: `could not read the CoreDNS and kube-proxy images: ${(error as Error).message}` });
    return;
  }
  const proxyOk = tag(images.kubeProxy) === `v${deps.target.version}`;
  deps.emit({
    type: 'note',
    level: proxyOk ? 'info' : 'warning',
    text: proxyOk
      ? `kube-proxy runs ${images.kubeProxy}`
      : `kube-proxy runs ${images.kubeProxy ?? '(not found)'}, not v${deps.target.version}: kubeadm upgrades it after the last control plane; check \`kubeadm upgrade node\` output on the last control plane`,
  });
  if (facts.coreDNSTarget) {
    const dnsOk = tag(images.coreDNS) === facts.coreDNSTarget;
    deps.emit({
      type: 'note',
      level: dnsOk ? 'info' : 'warning',
      text: dnsOk
        ? `CoreDNS runs ${images.coreDNS}`
        : `CoreDNS runs ${images.coreDNS ?? '(not found)'}, not ${facts.coreDNSTarget} as kubeadm upgrade plan announced`,
    });
  } else {
    deps.emit({
      type: 'note',
      level: 'info',
      text: `CoreDNS runs ${images.coreDNS ?? '(not found)'} (the version kubeadm chooses for ${deps.target.version} was not read in this run)`,
    });
  }
}

export interface RunPhases {
  controlPlanes: boolean;
  workers: boolean;
}

/** Control planes strictly one at a time; then the addon check. Stops starting nodes after a failure or a stop request. */
export async function runControlPlanes(nodes: readonly ScheduledNode[], deps: RunnerDeps, facts: RunFacts = {}): Promise<RunnerResult> {
  let stoppedBecause: string | undefined;
  for (const node of nodes) {
    stoppedBecause ??= deps.stopRequested();
    if (stoppedBecause !== undefined) break;
    if (!(await runNode(node, deps, facts))) stoppedBecause = `${node.job.name} failed`;
  }
  if (stoppedBecause === undefined) await checkAddons(deps, facts);
  return stoppedBecause === undefined ? { ok: true } : { ok: false, stoppedBecause };
}

/** Worker batches in order, the nodes of a batch in parallel; no new batch after a failure or a stop request. */
export async function runWorkerBatches(batches: Schedule['workerBatches'], deps: RunnerDeps, facts: RunFacts = {}): Promise<RunnerResult> {
  let stoppedBecause: string | undefined;
  for (const batch of batches) {
    stoppedBecause ??= deps.stopRequested();
    if (stoppedBecause !== undefined) break;
    deps.log.info(`Worker batch ${batch.index}: ${batch.nodes.map((n) => n.job.name).join(', ')}`);
    const results = await Promise.all(batch.nodes.map((node) => runNode(node, deps, facts)));
    const failed = batch.nodes.filter((_, i) => !results[i]).map((n) => n.job.name);
    if (failed.length > 0) stoppedBecause ??= `${failed.join(', ')} failed`;
  }
  return stoppedBecause === undefined ? { ok: true } : { ok: false, stoppedBecause };
}

/** The control planes, then the workers (the parts asked for); no worker starts after a control plane failed. */
export async function runSchedule(schedule: Schedule, deps: RunnerDeps, phases: RunPhases, facts: RunFacts = {}): Promise<RunnerResult> {
  if (phases.controlPlanes) {
    const result = await runControlPlanes(schedule.controlPlanes, deps, facts);
    if (!result.ok) return result;
  }
  return phases.workers ? runWorkerBatches(schedule.workerBatches, deps, facts) : { ok: true };
}
