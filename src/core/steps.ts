// What an upgrade run would do on a node, following the upstream procedure (kubeadm-upgrade.md): switch the
// per-minor pkgs.k8s.io repository, upgrade kubeadm, kubeadm upgrade apply|node, drain, upgrade kubelet and
// kubectl, restart the kubelet, wait Ready, uncordon. Nodes with the same shape share one step list.
import type { PackageManager, Step } from './plan-types.ts';
import { parseVersion } from './versions.ts';

export interface ProcedureShape {
  action: 'apply' | 'node';
  /** undefined when the node could not be read */
  packageManager?: PackageManager;
  /** minor of the node's configured repository ("1.30"); undefined when unknown */
  repoMinor?: string;
}

export interface ProcedureContext {
  /** "1.31.4" */
  target: string;
  /** exact package versions per package manager, when the repositories list them */
  packageVersions: Partial<Record<PackageManager, string>>;
  /** forceable verdicts were accepted with force: true → kubeadm runs with --force */
  forced: boolean;
}

/** Key of the shared step list for a node of this shape. */
export function procedureKey(shape: ProcedureShape, targetMinor: string): string {
  const repo = shape.repoMinor === undefined ? 'repo-unknown' : shape.repoMinor === targetMinor ? 'same-minor' : 'minor-change';
  return `${shape.action}/${shape.packageManager ?? 'unknown-pm'}/${repo}`;
}

function packageSpec(pm: PackageManager | undefined, name: string, ctx: ProcedureContext): string {
  const exact = pm ? ctx.packageVersions[pm] : undefined;
  if (pm === 'apt') return `${name}='${exact ?? `${debVersion(ctx.target)}-*`}'`;
  return `${name}-${exact ?? `${ctx.target}-*`}`;
}

/** Debian sorts pre-releases with "~": 1.32.0-rc.1 is packaged as 1.32.0~rc.1. */
function debVersion(v: string): string {
  return v.replace(/-(alpha|beta|rc)/, '~$1');
}

function installCommand(pm: PackageManager | undefined, names: string[], ctx: ProcedureContext): string | undefined {
  const specs = names.map((n) => packageSpec(pm, n, ctx)).join(' ');
  if (pm === 'apt') return `apt-mark unhold ${names.join(' ')} && apt-get update && apt-get install -y --allow-downgrades ${specs} && apt-mark hold ${names.join(' ')}`;
  if (pm === 'yum' || pm === 'dnf') return `${pm} install -y ${specs} --disableexcludes=kubernetes`;
  return undefined;
}

function repoSwitch(shape: ProcedureShape, minor: string): Step | undefined {
  if (shape.repoMinor === minor) return undefined;
  const from = shape.repoMinor ? ` (now v${shape.repoMinor})` : ' (current repository unknown: checked on the node)';
  if (shape.packageManager === 'apt') {
    return {
      id: 'repo-switch',
      title: `point the apt repository at pkgs.k8s.io v${minor}${from}`,
      command: `echo 'deb [signed-by=/etc/apt/keyrings/kubernetes-apt-keyring.gpg] https://pkgs.k8s.io/core:/stable:/v${minor}/deb/ /' > /etc/apt/sources.list.d/kubernetes.list`,
    };
  }
  if (shape.packageManager === 'yum' || shape.packageManager === 'dnf') {
    return {
      id: 'repo-switch',
      title: `point the ${shape.packageManager} repository at pkgs.k8s.io v${minor}${from}`,
      command: `sed -i -E 's#/v[0-9]+\\.[0-9]+/rpm/#/v${minor}/rpm/#g' /etc/yum.repos.d/kubernetes.repo`,
    };
  }
  return { id: 'repo-switch', title: `point the package repository at pkgs.k8s.io v${minor}${from}` };
}

function kubeadmFlags(ctx: ProcedureContext): string {
  const v = parseVersion(ctx.target);
  const flags = ['--yes'];
  if (ctx.forced) flags.push('--force');
  if (v?.prerelease) flags.push(/-rc\./.test(ctx.target) ? '--allow-release-candidate-upgrades' : '--allow-experimental-upgrades');
  return flags.join(' ');
}

export function buildProcedure(shape: ProcedureShape, ctx: ProcedureContext): Step[] {
  const v = parseVersion(ctx.target);
  const minor = v ? `${v.major}.${v.minor}` : ctx.target;
  const pm = shape.packageManager;
  const steps: Step[] = [];
  const repo = repoSwitch(shape, minor);
  if (repo) steps.push(repo);
  const kubeadmInstall = installCommand(pm, ['kubeadm'], ctx);
  steps.push({ id: 'kubeadm-install', title: `install kubeadm ${ctx.target} (unhold, install, hold)`, ...(kubeadmInstall ? { command: kubeadmInstall } : {}) });
  steps.push(
    shape.action === 'apply'
      ? { id: 'kubeadm-upgrade', title: `kubeadm upgrade apply v${ctx.target}: upgrades etcd and the control-plane static pods here (addons follow after the last control plane)`, command: `kubeadm upgrade apply v${ctx.target} ${kubeadmFlags(ctx)}` }
      : { id: 'kubeadm-upgrade', title: 'kubeadm upgrade node: upgrades this node\'s static pods (control planes) and kubelet configuration', command: 'kubeadm upgrade node' },
  );
  steps.push({ id: 'drain', title: 'cordon and drain {node} through the Eviction API (PDB-aware; DaemonSet and mirror pods stay)', command: 'kubectl drain {node} --ignore-daemonsets --delete-emptydir-data' });
  const kubeletInstall = installCommand(pm, ['kubelet', 'kubectl'], ctx);
  steps.push({ id: 'kubelet-install', title: `install kubelet and kubectl ${ctx.target} (unhold, install, hold)`, ...(kubeletInstall ? { command: kubeletInstall } : {}) });
  steps.push({ id: 'kubelet-restart', title: 'restart the kubelet', command: 'systemctl daemon-reload && systemctl restart kubelet' });
  steps.push({ id: 'wait-ready', title: `wait until {node} is Ready and reports kubelet v${ctx.target}` });
  steps.push({ id: 'uncordon', title: 'uncordon {node}', command: 'kubectl uncordon {node}' });
  return steps;
}
