// The stages of a node's upgrade, following the upstream procedure (kubeadm-upgrade.md). Each is idempotent:
// run twice, it leaves the node as run once, which is what lets a re-run resume a node mid-way.
import { DrainError } from '../adapters/cluster/drain.ts';
import { firstStageNotDone, type NodeProgress } from '../adapters/cluster/progress.ts';
import { chooseInstallVersion, installCommand, installPackages, listRevisionsCommand } from './node-ops/packages.ts';
import {
  coreDNSTargetFromPlan, daemonReloadCommand, kubeadmApplyCommand, kubeadmNodeCommand, kubeadmPlanCommand,
  kubeadmVersionCommand, parseKubeadmVersion, restartKubeletCommand, stopApiserverCommand,
} from './node-ops/kubeadm.ts';
import { findRepoFilesCommand, readFileCommand, refreshMetadataCommand, repoMinorsIn, switchRepoMinor, writeFileCommand } from './node-ops/repo.ts';
import { quoteCommand } from '../adapters/transport/quote.ts';
import type { Stage, StageContext, StageName } from './types.ts';

const PACKAGE_TIMEOUT_MS = 10 * 60_000;
/** kubeadm waits up to 5 minutes per static pod; give it room for all of them. */
const KUBEADM_UPGRADE_TIMEOUT_MS = 20 * 60_000;
const READY_POLL_MS = 2000;

export const KEYRING_NOTE = 'The package repository was switched to the target minor in the existing repository file, keeping its signed-by keyring (gpgkey on yum): pkgs.k8s.io signs every minor with the same key.';

const minorOf = (version: string) => version.split('.').slice(0, 2).join('.');

/** Done unless the recorded progress for this target lists the stage as done. */
function notDoneYet(name: StageName) {
  return (progress: NodeProgress | undefined, target: string) => firstStageNotDone(progress, target, [name]) !== undefined;
}

/** The exact version to install: the plan's revision, else the node's (read just before); the log says which. */
async function exactVersion(ctx: StageContext, name: string): Promise<string> {
  const pm = ctx.job.packageManager;
  const listNode = async () => (await ctx.shell.run(listRevisionsCommand(pm, name), { rerunOnDrop: true, allowFailure: true })).stdout;
  const choice = await chooseInstallVersion(pm, name, ctx.target.version, ctx.target.packageVersions, listNode);
  ctx.say(choice.note);
  return choice.version;
}

async function runPackageCommands(ctx: StageContext, names: string[]): Promise<void> {
  for (const planned of installPackages(ctx.job.packageManager, names, ctx.target.version, ctx.target.packageVersions)) {
    const command = planned.install ? { ...planned, argv: installCommand(ctx.job.packageManager, names, await exactVersion(ctx, names[0]!)) } : planned;
    const result = await ctx.shell.run(command.argv, { rerunOnDrop: true, timeoutMs: PACKAGE_TIMEOUT_MS, allowFailure: command.tolerate !== undefined });
    if (result.code !== 0) {
      if (command.tolerate?.test(`${result.stdout}\n${result.stderr}`)) ctx.say(`(exit ${result.code} is fine here: ${command.tolerateReason})`);
      else throw new Error(`\`${quoteCommand(command.argv)}\` failed on ${ctx.job.name} with exit code ${result.code}`);
    }
  }
}

const repoSwitch: Stage = {
  name: 'repo-switch',
  title: 'point the package repository at the target minor',
  shouldRun: notDoneYet('repo-switch'),
  async run(ctx) {
    const pm = ctx.job.packageManager;
    const minor = minorOf(ctx.target.version);
    const found = await ctx.shell.run(findRepoFilesCommand(pm), { rerunOnDrop: true, allowFailure: true });
    const files = found.stdout.split('\n').map((f) => f.trim()).filter(Boolean);
    if (files.length === 0) throw new Error(`no pkgs.k8s.io repository file found on ${ctx.job.name} (looked in ${findRepoFilesCommand(pm).slice(3).join(', ')}); configure the Kubernetes package repository as the kubeadm install guide says`);
    for (const file of files) {
      const content = (await ctx.shell.run(readFileCommand(file), { rerunOnDrop: true })).stdout;
      const minors = repoMinorsIn(content);
      if (minors.length === 1 && minors[0] === minor) {
        ctx.say(`${file} already points at v${minor}`);
        continue;
      }
      ctx.say(`${file}: v${minors.join(', v')} → v${minor} (the keyring / gpgkey stays: pkgs.k8s.io signs every minor with the same key)`);
      await ctx.shell.run(writeFileCommand(file), { stdin: switchRepoMinor(content, minor), rerunOnDrop: true });
    }
    const refresh = refreshMetadataCommand(pm);
    if (refresh) await ctx.shell.run(refresh, { rerunOnDrop: true, allowFailure: true });
    ctx.note('info', KEYRING_NOTE);
  },
  dryRun: ({ job, target }) => [
    `${quoteCommand(findRepoFilesCommand(job.packageManager))}   # find the pkgs.k8s.io repository files`,
    `rewrite /core:/stable:/vX.Y/ to /v${minorOf(target.version)}/ in each (cat, then tee), keeping signed-by`,
  ],
};

const kubeadmInstall: Stage = {
  name: 'kubeadm-install',
  title: 'install the target kubeadm (unhold, install, hold)',
  shouldRun: notDoneYet('kubeadm-install'),
  async run(ctx) {
    await runPackageCommands(ctx, ['kubeadm']);
    const version = parseKubeadmVersion((await ctx.shell.run(kubeadmVersionCommand(), { rerunOnDrop: true })).stdout);
    if (version !== ctx.target.version) throw new Error(`kubeadm on ${ctx.job.name} reports ${version ?? 'no version'} after the install, expected ${ctx.target.version}`);
  },
  dryRun: ({ job, target }) => [
    ...installPackages(job.packageManager, ['kubeadm'], target.version, target.packageVersions).map((c) => quoteCommand(c.argv)),
    quoteCommand(kubeadmVersionCommand()),
  ],
};

function upgradeFlags(ctx: Pick<StageContext, 'target'>) {
  return { certificateRenewal: ctx.target.certificateRenewal, etcdUpgrade: ctx.target.etcdUpgrade, extra: ctx.target.kubeadmFlags };
}

function upgradeCommand(ctx: Pick<StageContext, 'job' | 'target'>): string[] {
  return ctx.job.kubeadmAction === 'apply' ? kubeadmApplyCommand(ctx.target.version, upgradeFlags(ctx)) : kubeadmNodeCommand(ctx.job.role, upgradeFlags(ctx));
}

function stopsApiserver(ctx: Pick<StageContext, 'job' | 'target'>): boolean {
  return ctx.job.role === 'control-plane' && ctx.target.etcdUpgrade && ctx.target.gracefulApiserverStopMs > 0;
}

const kubeadmUpgrade: Stage = {
  name: 'kubeadm-upgrade',
  title: 'kubeadm upgrade apply / node',
  shouldRun: notDoneYet('kubeadm-upgrade'),
  async run(ctx) {
    if (ctx.job.kubeadmAction === 'apply') {
      const plan = await ctx.shell.run(kubeadmPlanCommand(), { rerunOnDrop: true, allowFailure: true, timeoutMs: 5 * 60_000 });
      const coreDNS = coreDNSTargetFromPlan(plan.stdout, ctx.target.version);
      if (coreDNS) ctx.facts.coreDNSTarget = coreDNS;
      ctx.note(plan.code === 0 ? 'info' : 'warning', `kubeadm upgrade plan on ${ctx.job.name}${plan.code === 0 ? '' : ` exited ${plan.code} (the upgrade goes on: apply runs the same checks)`}`, `${plan.stdout}${plan.stderr}`.trim());
    }
    if (stopsApiserver(ctx)) {
      // Documented workaround: let kube-apiserver finish in-flight requests before etcd restarts under it.
      await ctx.shell.run(stopApiserverCommand(), { rerunOnDrop: true, allowFailure: true });
      ctx.say(`waiting ${Math.round(ctx.target.gracefulApiserverStopMs / 1000)} s for kube-apiserver to finish in-flight requests`);
      await ctx.clock.sleep(ctx.target.gracefulApiserverStopMs);
    }
    // Not re-run on a dropped connection: kubeadm may still be running on the node.
    await ctx.shell.run(upgradeCommand(ctx), { timeoutMs: KUBEADM_UPGRADE_TIMEOUT_MS });
  },
  dryRun: (ctx) => [
    ...(ctx.job.kubeadmAction === 'apply' ? [quoteCommand(kubeadmPlanCommand())] : []),
    ...(stopsApiserver(ctx) ? [quoteCommand(stopApiserverCommand()), `sleep ${Math.round(ctx.target.gracefulApiserverStopMs / 1000)}`] : []),
    quoteCommand(upgradeCommand(ctx)),
  ],
};

const drain: Stage = {
  name: 'drain',
  title: 'cordon and drain (Eviction API)',
  shouldRun: notDoneYet('drain'),
  async run(ctx) {
    try {
      const result = await ctx.cluster.drain(ctx.job.name, ctx.drain, (event) => ctx.say(event.message));
      ctx.cordon(true, 'drained for the upgrade; uncordoned once the new kubelet is Ready');
      if (result.deletedIgnoringBudget.length > 0) {
        ctx.note('warning', `drain-fallback-delete DELETED ${result.deletedIgnoringBudget.length} pod(s) on ${ctx.job.name} IGNORING their disruption budgets: ${result.deletedIgnoringBudget.join(', ')}`);
      }
      for (const delayed of result.delayedBy) ctx.say(`PDB ${delayed.budget} delayed evictions for a while (${delayed.reason})`);
    } catch (error) {
      if (error instanceof DrainError) {
        ctx.cordon(!error.uncordoned, error.uncordoned ? 'the drain failed, so it was uncordoned again' : 'the drain failed and the node could not be uncordoned');
      }
      throw error;
    }
  },
  dryRun: ({ job }) => [`cordon ${job.name}; evict its pods through the Eviction API (DaemonSet and mirror pods stay)`],
};

const kubeletInstall: Stage = {
  name: 'kubelet-install',
  title: 'install the target kubelet and kubectl (unhold, install, hold)',
  shouldRun: notDoneYet('kubelet-install'),
  run: (ctx) => runPackageCommands(ctx, ['kubelet', 'kubectl']),
  dryRun: ({ job, target }) => installPackages(job.packageManager, ['kubelet', 'kubectl'], target.version, target.packageVersions).map((c) => quoteCommand(c.argv)),
};

const kubeletRestart: Stage = {
  name: 'kubelet-restart',
  title: 'restart the kubelet',
  shouldRun: notDoneYet('kubelet-restart'),
  async run(ctx) {
    await ctx.shell.run(daemonReloadCommand(), { rerunOnDrop: true });
    await ctx.shell.run(restartKubeletCommand(), { rerunOnDrop: true });
  },
  dryRun: () => [quoteCommand(daemonReloadCommand()), quoteCommand(restartKubeletCommand())],
};

const waitReady: Stage = {
  name: 'wait-ready',
  title: 'wait until the node is Ready with the new kubelet',
  shouldRun: notDoneYet('wait-ready'),
  async run(ctx) {
    const deadline = ctx.clock.now() + ctx.readyTimeoutMs;
    let last = 'not read yet';
    for (;;) {
      const status = await ctx.cluster.nodeStatus(ctx.job.name).catch((error: Error) => ({ error: error.message }));
      if (!status) last = 'the Node object is missing';
      else if ('error' in status) last = `cannot read the Node: ${status.error}`;
      else if (status.ready && status.kubeletVersion === ctx.target.version) {
        ctx.say(`${ctx.job.name} is Ready with kubelet v${status.kubeletVersion}`);
        return;
      } else last = `${status.ready ? 'Ready' : 'NotReady'}${status.condition ? ` (${status.condition})` : ''}, kubelet v${status.kubeletVersion || '?'}`;
      if (ctx.clock.now() + READY_POLL_MS > deadline) break;
      await ctx.clock.sleep(READY_POLL_MS);
    }
    throw new Error(`${ctx.job.name} was not Ready with kubelet v${ctx.target.version} within ${Math.round(ctx.readyTimeoutMs / 1000)} s (last seen: ${last}); it stays cordoned`);
  },
  dryRun: ({ job, target }) => [`wait until ${job.name} is Ready and reports kubelet v${target.version}`],
};

const uncordon: Stage = {
  name: 'uncordon',
  title: 'uncordon',
  shouldRun: notDoneYet('uncordon'),
  async run(ctx) {
    const changed = await ctx.cluster.uncordon(ctx.job.name);
    ctx.say(changed ? `${ctx.job.name} uncordoned` : `${ctx.job.name} was already schedulable`);
    ctx.cordon(false, 'uncordoned after the upgrade');
  },
  dryRun: ({ job }) => [`uncordon ${job.name}`],
};

export const STAGES: Record<StageName, Stage> = {
  'repo-switch': repoSwitch,
  'kubeadm-install': kubeadmInstall,
  'kubeadm-upgrade': kubeadmUpgrade,
  drain,
  'kubelet-install': kubeletInstall,
  'kubelet-restart': kubeletRestart,
  'wait-ready': waitReady,
  uncordon,
};
