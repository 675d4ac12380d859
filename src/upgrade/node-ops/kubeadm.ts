// kubeadm, kubelet and kube-apiserver commands as argument vectors.

export function kubeadmVersionCommand(): string[] {
  return ['kubeadm', 'version', '-o', 'short'];
}

/** "v1.31.4\n" → "1.31.4"; undefined when the output is not a version. */
export function parseKubeadmVersion(stdout: string): string | undefined {
  return /^v?(\d+\.\d+\.\d+\S*)\s*$/.exec(stdout.trim())?.[1];
}

export function kubeadmPlanCommand(): string[] {
  return ['kubeadm', 'upgrade', 'plan'];
}

/**
 * The CoreDNS version `kubeadm upgrade plan` says `target` brings ("v1.11.3"). The plan prints one table per
 * possible target, each followed by "kubeadm upgrade apply vX": take the CoreDNS row of the target's table.
 */
export function coreDNSTargetFromPlan(stdout: string, target: string): string | undefined {
  const lines = stdout.split('\n');
  const end = lines.findIndex((line) => new RegExp(`kubeadm upgrade apply v${target.replace(/\./g, '\\.')}(\\s|$)`).test(line.trim()));
  const section = end < 0 ? lines : lines.slice(0, end);
  const row = section.filter((line) => /^CoreDNS\s/.test(line.trim())).at(-1);
  const cells = row?.trim().split(/\s+/) ?? [];
  return cells.length >= 3 ? cells.at(-1) : undefined;
}

export interface KubeadmUpgradeFlags {
  certificateRenewal: boolean;
  etcdUpgrade: boolean;
  /** extra flags the plan asks for: --force, --allow-release-candidate-upgrades, … */
  extra: string[];
}

export function kubeadmApplyCommand(version: string, flags: KubeadmUpgradeFlags): string[] {
  return [
    'kubeadm',
    'upgrade',
    'apply',
    `v${version}`,
    '--yes',
    `--certificate-renewal=${flags.certificateRenewal}`,
    `--etcd-upgrade=${flags.etcdUpgrade}`,
    ...flags.extra,
  ];
}

/** `kubeadm upgrade node` takes the version from kubeadm-config; workers have no etcd or certificates to renew. */
export function kubeadmNodeCommand(role: 'control-plane' | 'worker', flags: KubeadmUpgradeFlags): string[] {
  if (role === 'worker') return ['kubeadm', 'upgrade', 'node'];
  return ['kubeadm', 'upgrade', 'node', `--certificate-renewal=${flags.certificateRenewal}`, `--etcd-upgrade=${flags.etcdUpgrade}`];
}

/** The documented workaround before an etcd upgrade: let kube-apiserver finish in-flight requests. */
export function stopApiserverCommand(): string[] {
  return ['killall', '-s', 'SIGTERM', 'kube-apiserver'];
}

export function daemonReloadCommand(): string[] {
  return ['systemctl', 'daemon-reload'];
}

export function restartKubeletCommand(): string[] {
  return ['systemctl', 'restart', 'kubelet'];
}
