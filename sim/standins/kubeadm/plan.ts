// `kubeadm upgrade plan [version] [-o text|json|yaml]`: available upgrades from the simulated release list
// (ClusterSpec.published plays dl.k8s.io), per-node component rows, UpgradePlan output.kubeadm.k8s.io/v1alpha3.
import YAML from 'yaml';
import type { KubeClient } from '../../lib/kube-rest.ts';
import { corednsImage, etcdImage } from '../../cluster/versions.ts';
import { clusterSpec, installedVersion, type ToolContext } from '../context.ts';
import { ADMIN_CONF, listNodes, mirrorPod, openClient, readKubeadmConfig, serverVersion, type NodeInfo } from './cluster.ts';
import { KubeadmError, STACK_HINT, compareSemver, parseSemver, table, vstr, type Flags, type Semver } from './output.ts';
import { clusterHealth } from './preflight.ts';

interface PlanComponent {
  name: string;
  currentVersion: string;
  newVersion: string;
  nodeName?: string;
}

interface AvailableUpgrade {
  description: string;
  components: PlanComponent[];
}

const CONFIG_VERSIONS = [
  { group: 'kubeproxy.config.k8s.io', currentVersion: 'v1alpha1', preferredVersion: 'v1alpha1', manualUpgradeRequired: false },
  { group: 'kubelet.config.k8s.io', currentVersion: 'v1beta1', preferredVersion: 'v1beta1', manualUpgradeRequired: false },
];

function latest(versions: Semver[], filter: (v: Semver) => boolean): Semver | undefined {
  return versions.filter(filter).sort(compareSemver).at(-1);
}

function tagOf(image: string | undefined): string {
  return image ? image.slice(image.lastIndexOf(':') + 1) : '';
}

async function addonImage(client: KubeClient, path: string): Promise<string | undefined> {
  const object = await client.getOrNull(path);
  return object?.spec?.template?.spec?.containers?.[0]?.image;
}

interface Current {
  nodes: NodeInfo[];
  pods: Map<string, string>;
  kubeProxy: string;
  coreDNS: string;
}

async function currentState(client: KubeClient, nodes: NodeInfo[]): Promise<Current> {
  const pods = new Map<string, string>();
  for (const node of nodes.filter((n) => n.controlPlane)) {
    for (const component of ['kube-apiserver', 'kube-controller-manager', 'kube-scheduler', 'etcd']) {
      const pod = await mirrorPod(client, component, node.name);
      if (pod) pods.set(`${component}/${node.name}`, pod.tag);
    }
  }
  return {
    nodes,
    pods,
    kubeProxy: tagOf(await addonImage(client, '/apis/apps/v1/namespaces/kube-system/daemonsets/kube-proxy')).replace(/^v/, ''),
    coreDNS: tagOf(await addonImage(client, '/apis/apps/v1/namespaces/kube-system/deployments/coredns')),
  };
}

function componentsFor(current: Current, target: Semver): PlanComponent[] {
  const t = vstr(target);
  const plain = `${target.major}.${target.minor}.${target.patch}`;
  const cps = current.nodes.filter((n) => n.controlPlane);
  const rows: PlanComponent[] = current.nodes.map((n) => ({
    name: 'kubelet',
    currentVersion: n.kubeletVersion,
    newVersion: t,
    nodeName: n.name,
  }));
  for (const component of ['kube-apiserver', 'kube-controller-manager', 'kube-scheduler']) {
    for (const n of cps)
      rows.push({ name: component, currentVersion: current.pods.get(`${component}/${n.name}`) ?? '', newVersion: t, nodeName: n.name });
  }
  if (current.kubeProxy) rows.push({ name: 'kube-proxy', currentVersion: current.kubeProxy, newVersion: t });
  if (current.coreDNS) rows.push({ name: 'CoreDNS', currentVersion: current.coreDNS, newVersion: tagOf(corednsImage(plain)) });
  for (const n of cps) {
    const running = current.pods.get(`etcd/${n.name}`);
    if (running) rows.push({ name: 'etcd', currentVersion: running, newVersion: tagOf(etcdImage(plain)), nodeName: n.name });
  }
  return rows;
}

function textUpgrade(upgrade: AvailableUpgrade, target: Semver, kubeadm: Semver): string {
  const kubelets = upgrade.components.filter((c) => c.name === 'kubelet');
  const others = upgrade.components.filter((c) => c.name !== 'kubelet');
  const row = (c: PlanComponent) => [c.name, c.nodeName ?? '', c.currentVersion, c.newVersion];
  let text = "Components that must be upgraded manually after you have upgraded the control plane with 'kubeadm upgrade apply':\n";
  text += table([['COMPONENT', 'NODE', 'CURRENT', 'TARGET'], ...kubelets.map(row)]);
  text += `\nUpgrade to the latest ${upgrade.description}:\n\n`;
  text += table([['COMPONENT', 'NODE', 'CURRENT', 'TARGET'], ...others.map(row)]);
  text += `\nYou can now apply the upgrade by executing the following command:\n\n\tkubeadm upgrade apply ${vstr(target)}\n\n`;
  if (compareSemver(kubeadm, target) < 0)
    text += `Note: Before you can perform this upgrade, you have to update kubeadm to ${vstr(target)}.\n\n`;
  return `${text + '_'.repeat(69)}\n\n`;
}

function textConfigVersions(): string {
  return (
    '\nThe table below shows the current state of component configs as understood by this version of kubeadm.\n' +
    'Configs that have a "yes" mark in the "MANUAL UPGRADE REQUIRED" column require manual config upgrade or\n' +
    'resetting to kubeadm defaults before a successful upgrade can be performed. The version to manually\n' +
    'upgrade to is denoted in the "PREFERRED VERSION" column.\n\n' +
    table([
      ['API GROUP', 'CURRENT VERSION', 'PREFERRED VERSION', 'MANUAL UPGRADE REQUIRED'],
      ...CONFIG_VERSIONS.map((c) => [c.group, c.currentVersion, c.preferredVersion, c.manualUpgradeRequired ? 'yes' : 'no']),
    ]) +
    '_'.repeat(69) +
    '\n\n'
  );
}

export async function plan(ctx: ToolContext, flags: Flags): Promise<number> {
  const output = flags.values.get('--output') ?? 'text';
  if (!['text', 'json', 'yaml'].includes(output)) throw new KubeadmError(`invalid output format: ${output}`);
  const say = (line: string) => (output === 'text' ? ctx.out : ctx.err)(`${line}\n`);
  const client = openClient(ctx, ADMIN_CONF);
  try {
    say('[preflight] Running pre-flight checks.');
    say('[upgrade/config] Reading configuration from the "kubeadm-config" ConfigMap in namespace "kube-system"...');
    say("[upgrade/config] Use 'kubeadm init phase upload-config --config your-config-file' to re-upload it.");
    await readKubeadmConfig(client);
    say('[upgrade] Running cluster health checks');
    const nodes = await listNodes(client);
    const unhealthy = clusterHealth(ctx, flags, nodes, say);
    if (unhealthy) {
      ctx.err(`[upgrade/health] FATAL: ${unhealthy}\n${STACK_HINT}\n`);
      return 1;
    }
    const cluster = await serverVersion(client);
    const kubeadm = parseSemver(installedVersion(ctx, 'kubeadm')) as Semver;
    say('[upgrade] Fetching available versions to upgrade to');
    say(`[upgrade/versions] Cluster version: ${vstr(cluster).slice(1)}`);
    say(`[upgrade/versions] kubeadm version: ${vstr(kubeadm)}`);
    const requested = flags.positional[0];
    const releases = requested
      ? [parseSemver(requested)].filter((v): v is Semver => !!v)
      : clusterSpec(ctx)
          .published.map((v) => parseSemver(v))
          .filter((v): v is Semver => !!v);
    if (requested && releases.length === 0) throw new KubeadmError(`unable to parse version "${requested}"`);
    let stable = latest(releases, () => true) ?? kubeadm;
    if (stable.minor > kubeadm.minor) {
      ctx.err(
        `I0101 00:00:00.000000       1 version.go:261] remote version is much newer: ${vstr(stable)}; falling back to: stable-${kubeadm.major}.${kubeadm.minor}\n`,
      );
      stable = latest(releases, (v) => v.minor === kubeadm.minor) ?? kubeadm;
    }
    say(`[upgrade/versions] Target version: ${vstr(stable)}`);
    const patch = latest(releases, (v) => v.major === cluster.major && v.minor === cluster.minor);
    if (patch) say(`[upgrade/versions] Latest version in the v${cluster.major}.${cluster.minor} series: ${vstr(patch)}`);
    const targets: [string, Semver][] = [];
    if (patch && compareSemver(patch, cluster) > 0) targets.push([`version in the v${cluster.major}.${cluster.minor} series`, patch]);
    if (stable.minor > cluster.minor && compareSemver(stable, cluster) > 0) targets.push(['stable version', stable]);
    const current = await currentState(client, nodes);
    const upgrades = targets.map(([description, target]) => ({ description, components: componentsFor(current, target) }));
    if (output !== 'text') {
      const object = {
        kind: 'UpgradePlan',
        apiVersion: 'output.kubeadm.k8s.io/v1alpha3',
        availableUpgrades: upgrades,
        configVersions: CONFIG_VERSIONS,
      };
      ctx.out(output === 'json' ? `${JSON.stringify(object, null, 4)}\n` : YAML.stringify(object));
      return 0;
    }
    ctx.out('\n');
    if (upgrades.length === 0) ctx.out("Awesome, you're up-to-date! Enjoy!\n");
    targets.forEach(([, target], i) => {
      ctx.out(textUpgrade(upgrades[i] as AvailableUpgrade, target, kubeadm));
    });
    ctx.out(textConfigVersions());
    return 0;
  } finally {
    client.close();
  }
}
