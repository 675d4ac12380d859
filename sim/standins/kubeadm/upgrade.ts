// `kubeadm upgrade apply VERSION` and `kubeadm upgrade node`: preflight, skew policy, confirmation,
// control plane, upload-config, kubelet-config, addons, with kubeadm's wording for its version.
import type { KubeClient } from '../../lib/kube-rest.ts';
import { installedVersion, type ToolContext } from '../context.ts';
import {
  ADMIN_CONF,
  KUBELET_CONF,
  isControlPlaneNode,
  listNodes,
  openClient,
  readKubeadmConfig,
  serverVersion,
  storeKubernetesVersion,
} from './cluster.ts';
import { KubeadmError, STACK_HINT, boolFlag, goDuration, parseSemver, vstr, type Flags, type Semver } from './output.ts';
import { enforceVersionPolicies, policyVerdict } from './policy.ts';
import { clusterHealth } from './preflight.ts';
import { upgradeAddons, uploadKubeletConfig, writeKubeletConfig } from './phases.ts';
import { upgradeStaticPods } from './staticpods.ts';

/** Thrown to end the command with kubeadm's "<prefix> FATAL: message" (or phase) error. */
class Fatal extends Error {
  readonly prefix: string;
  constructor(prefix: string, message: string) {
    super(message);
    this.prefix = prefix;
  }
}

interface Common {
  say: (l: string) => void;
  kubeadm: Semver;
  /** kubeadm ≥ 1.32 prints the phase-based wording */
  modern: boolean;
  dryRun: boolean;
  timeoutMs: number;
}

function common(ctx: ToolContext, flags: Flags): Common {
  if (flags.values.has('--config'))
    throw new KubeadmError('the simulated kubeadm does not read --config; pass the version and flags instead');
  const kubeadm = parseSemver(installedVersion(ctx, 'kubeadm')) as Semver;
  const timeoutMs = Number(ctx.env.SIM_KUBEADM_TIMEOUT_MS ?? 300_000);
  return { say: (l) => ctx.out(`${l}\n`), kubeadm, modern: kubeadm.minor >= 32, dryRun: boolFlag(flags, '--dry-run', false), timeoutMs };
}

function report(ctx: ToolContext, err: unknown): number {
  if (err instanceof Fatal) ctx.err(`${err.prefix}${err.message}\n${STACK_HINT}\n`);
  else if (err instanceof KubeadmError) ctx.err(`${err.message}\n${STACK_HINT}\n`);
  else throw err;
  return 1;
}

async function withClient(ctx: ToolContext, kubeconfig: string, work: (client: KubeClient) => Promise<void>): Promise<number> {
  let client: KubeClient;
  try {
    client = openClient(ctx, kubeconfig);
  } catch (err) {
    return report(ctx, new Fatal('[upgrade/config] FATAL: ', (err as Error).message));
  }
  try {
    await work(client);
    return 0;
  } catch (err) {
    return report(ctx, err);
  } finally {
    client.close();
  }
}

async function confirm(ctx: ToolContext): Promise<void> {
  ctx.out('[upgrade] Are you sure you want to proceed? [y/N]: ');
  const answer = (await ctx.readLine()).trim();
  if (answer.toLowerCase() !== 'y')
    throw new Fatal('[upgrade/confirm] FATAL: ', "won't proceed; the user didn't answer (Y|y) in order to continue");
}

function prepull(c: Common): void {
  const prefix = c.modern ? '[upgrade/preflight]' : '[upgrade/prepull]';
  c.say(`${prefix} Pulling images required for setting up a Kubernetes cluster`);
  c.say(`${prefix} This might take a minute or two, depending on the speed of your internet connection`);
  c.say(`${prefix} You can also perform this action beforehand using 'kubeadm config images pull'`);
}

async function controlPlane(
  ctx: ToolContext,
  client: KubeClient,
  c: Common,
  flags: Flags,
  target: string,
  localEtcd: boolean,
): Promise<void> {
  try {
    await upgradeStaticPods(ctx, client, c.say, {
      target,
      dryRun: c.dryRun,
      timeoutMs: c.timeoutMs,
      localEtcd,
      etcdUpgrade: boolFlag(flags, '--etcd-upgrade', true),
      certificateRenewal: boolFlag(flags, '--certificate-renewal', true),
    });
  } catch (err) {
    if (!(err instanceof KubeadmError)) throw err;
    throw new Fatal(
      c.modern ? "error execution phase control-plane: couldn't complete the static pod upgrade: " : '[upgrade/apply] FATAL: ',
      err.message,
    );
  }
  c.say('[upgrade/control-plane] The control plane instance for this node was successfully upgraded!');
}

export async function apply(ctx: ToolContext, flags: Flags): Promise<number> {
  const c = common(ctx, flags);
  const requested = flags.positional[0];
  if (!requested)
    return report(ctx, new Fatal('[upgrade/version] FATAL: ', 'missing one or more required arguments. Required arguments: [version]'));
  const force = boolFlag(flags, '--force', false);
  const yes = boolFlag(flags, '--yes', false) || force || c.dryRun;
  return withClient(ctx, ADMIN_CONF, async (client) => {
    const { say } = c;
    if (c.modern) say('[upgrade] Reading configuration from the "kubeadm-config" ConfigMap in namespace "kube-system"...');
    else say('[preflight] Running pre-flight checks.\n[upgrade/config] Reading configuration from the cluster...');
    const cm = await readKubeadmConfig(client).catch((err: Error) => {
      throw new Fatal('[upgrade/config] FATAL: ', err.message);
    });
    if (c.modern)
      say(
        "[upgrade] Use 'kubeadm init phase upload-config --config your-config-file' to re-upload it.\n[upgrade/preflight] Running preflight checks",
      );
    say('[upgrade] Running cluster health checks');
    const nodes = await listNodes(client);
    const unhealthy = clusterHealth(ctx, flags, nodes, say);
    if (unhealthy) throw new Fatal('[upgrade/health] FATAL: ', unhealthy);
    const target = parseSemver(requested);
    if (!target)
      throw new Fatal(
        '[upgrade/version] FATAL: ',
        `unable to parse normalized version "${requested}": could not parse "${requested}" as version`,
      );
    say(
      c.modern
        ? `[upgrade/preflight] You have chosen to upgrade the cluster version to "${vstr(target)}"`
        : `[upgrade/version] You have chosen to change the cluster version to "${vstr(target)}"`,
    );
    const cluster = await serverVersion(client);
    say(`[upgrade/versions] Cluster version: ${vstr(cluster)}\n[upgrade/versions] kubeadm version: ${vstr(c.kubeadm)}`);
    const errors = enforceVersionPolicies({
      cluster,
      kubeadm: c.kubeadm,
      target,
      kubeletVersions: nodes.map((n) => n.kubeletVersion),
      allowExperimental: boolFlag(flags, '--allow-experimental-upgrades', false),
      allowRC: boolFlag(flags, '--allow-release-candidate-upgrades', false),
    });
    const verdict = policyVerdict(errors, force, say);
    if (verdict) throw new Fatal('[upgrade/version] FATAL: ', verdict);
    if (!yes) await confirm(ctx);
    prepull(c);
    const plain = vstr(target).slice(1);
    say(
      `${c.modern ? '[upgrade/control-plane]' : '[upgrade/apply]'} Upgrading your Static Pod-hosted control plane to version "${vstr(target)}" (timeout: ${goDuration(c.timeoutMs)})...`,
    );
    await controlPlane(ctx, client, c, flags, plain, cm.localEtcd);
    say('[upload-config] Storing the configuration used in ConfigMap "kubeadm-config" in the "kube-system" Namespace');
    if (!c.dryRun) {
      await storeKubernetesVersion(client, cm, vstr(target));
      await uploadKubeletConfig(ctx, client, say);
    }
    say('[upgrade/kubeconfig] The kubeconfig files for this node were successfully upgraded!');
    await writeKubeletConfig(ctx, client, say, c.dryRun);
    say('[upgrade/bootstrap-token] Configuring bootstrap token and cluster-info RBAC rules');
    await upgradeAddons(ctx, client, say, plain, c.dryRun);
    if (c.dryRun) say('[dryrun] Finished dryrunning successfully!');
    else if (c.modern)
      say(
        `\n[upgrade] SUCCESS! A control plane node of your cluster was upgraded to "${vstr(target)}".\n\n[upgrade] Now please proceed with upgrading the rest of the nodes by following the right order.`,
      );
    else
      say(
        `\n[upgrade/successful] SUCCESS! Your cluster was upgraded to "${vstr(target)}". Enjoy!\n\n[upgrade/kubelet] Now that your control plane is upgraded, please proceed with upgrading your kubelets if you haven't already done so.`,
      );
  });
}

export async function node(ctx: ToolContext, flags: Flags): Promise<number> {
  const c = common(ctx, flags);
  const controlPlaneNode = isControlPlaneNode(ctx);
  return withClient(ctx, controlPlaneNode ? ADMIN_CONF : KUBELET_CONF, async (client) => {
    const { say } = c;
    say('[upgrade] Reading configuration from the "kubeadm-config" ConfigMap in namespace "kube-system"...');
    const cm = await readKubeadmConfig(client).catch((err: Error) => {
      throw new Fatal('[upgrade/config] FATAL: ', err.message);
    });
    const target = cm.kubernetesVersion;
    say(
      "[upgrade] Use 'kubeadm init phase upload-config --config your-config-file' to re-upload it.\n[upgrade/preflight] Running pre-flight checks",
    );
    if (target.minor > c.kubeadm.minor || (target.minor === c.kubeadm.minor && target.patch > c.kubeadm.patch)) {
      throw new Fatal(
        'error execution phase preflight: ',
        `the cluster's kubernetesVersion ${vstr(target)} is newer than this kubeadm (${vstr(c.kubeadm)}). Upgrade kubeadm first using the tool you used to install kubeadm`,
      );
    }
    if (controlPlaneNode) {
      prepull(c);
      say(`[upgrade/control-plane] Upgrading your Static Pod-hosted control plane instance to version "${vstr(target)}"...`);
      await controlPlane(ctx, client, c, flags, vstr(target).slice(1), cm.localEtcd);
      say('[upgrade/kubeconfig] The kubeconfig files for this node were successfully upgraded!');
    } else {
      say(
        '[upgrade/preflight] Skipping prepull. Not a control plane node.\n[upgrade/control-plane] Skipping phase. Not a control plane node.',
      );
      say('[upgrade/kubeconfig] Skipping phase. Not a control plane node.');
    }
    await writeKubeletConfig(ctx, client, say, c.dryRun);
    if (controlPlaneNode) await upgradeAddons(ctx, client, say, vstr(target).slice(1), c.dryRun);
    else
      say(
        '[upgrade/addon] Skipping the addon/coredns phase. Not a control plane node.\n[upgrade/addon] Skipping the addon/kube-proxy phase. Not a control plane node.',
      );
    if (c.dryRun) say('[dryrun] Finished dryrunning successfully!');
    else if (c.modern) say('[upgrade] The upgrade for this node was successfully completed!');
    else
      say(
        '[upgrade] The configuration for this node was successfully updated!\n[upgrade] Now you should go ahead and upgrade the kubelet package using your package manager.',
      );
  });
}
