// What the simulated pkgs.k8s.io publishes: per Kubernetes minor one deb and one rpm repository holding kubeadm,
// kubelet and kubectl at every published patch, plus that minor's cri-tools and kubernetes-cni, with the version
// strings, dependencies and file layout pkgs.k8s.io uses. The executables inside are two-line scripts that run the
// simulator's stand-in of that tool (sim/standins); the first comment line says which package and version they are,
// which is how the stand-ins, the supervisor's kubelet and `sim status` know what is installed.

export const DEB_REVISION = '1.1';
export const RPM_RELEASE = '150500.1.1';

/** The packages a node's kube tooling is made of; kubeadm, kubelet and kubectl carry the Kubernetes version. */
export const KUBE_PACKAGES = ['kubeadm', 'kubelet', 'kubectl'] as const;
export type KubePackage = (typeof KUBE_PACKAGES)[number];

/** kubernetes-cni as each minor's repository carries it. */
function cniVersion(minor: number): string {
  if (minor <= 28) return '1.2.0';
  if (minor === 29) return '1.3.0';
  if (minor <= 31) return '1.4.0';
  if (minor === 32) return '1.5.1';
  if (minor === 33) return '1.6.0';
  return '1.7.1';
}

export interface PackageFile {
  /** absolute path on the node */
  path: string;
  content: string;
  mode: number;
  /** a configuration file: dpkg's conffile, rpm's %config(noreplace) */
  config?: boolean;
}

export interface PackageDef {
  name: string;
  /** upstream version, "1.31.13" */
  version: string;
  summary: string;
  /** deb Depends / rpm Requires, among this repository's packages only: [name, minimum version] */
  depends: [string, string][];
  files: PackageFile[];
}

const FIRST_LINE = /^# sim-package: (\S+) (\S+)$/m;

/** The executable a package installs: it runs the node's stand-in dispatcher for `tool`. */
export function executableText(name: string, version: string, tool: string): string {
  return `#!/bin/sh\n# sim-package: ${name} ${version}\nexec /usr/local/sbin/sim-standin ${tool} "$@"\n`;
}

/** The package and version an installed executable (its text) belongs to, if it is one of ours. */
export function parseExecutable(text: string): { name: string; version: string } | undefined {
  const match = FIRST_LINE.exec(text);
  return match ? { name: match[1]!, version: match[2]! } : undefined;
}

function minorNumber(version: string): number {
  // 1.32.0-rc.1 → 32 as well
  const minor = Number(version.split('.')[1]);
  if (!Number.isInteger(minor)) throw new Error(`not a Kubernetes version: ${version}`);
  return minor;
}

/** The packages of Kubernetes `version` ("1.31.13"): kubeadm, kubelet, kubectl. */
export function kubePackages(version: string): PackageDef[] {
  const minor = minorNumber(version);
  return [
    {
      name: 'kubeadm',
      version,
      summary: 'Command-line utility for administering a Kubernetes cluster',
      depends: [['cri-tools', `1.${minor - 1}.0`]],
      files: [
        { path: '/usr/bin/kubeadm', content: executableText('kubeadm', version, 'kubeadm'), mode: 0o755 },
        {
          path: '/usr/lib/systemd/system/kubelet.service.d/10-kubeadm.conf',
          content:
            '[Service]\nEnvironment="KUBELET_KUBECONFIG_ARGS=--bootstrap-kubeconfig=/etc/kubernetes/bootstrap-kubelet.conf --kubeconfig=/etc/kubernetes/kubelet.conf"\n' +
            'Environment="KUBELET_CONFIG_ARGS=--config=/var/lib/kubelet/config.yaml"\nEnvironmentFile=-/var/lib/kubelet/kubeadm-flags.env\n',
          mode: 0o644,
        },
      ],
    },
    {
      name: 'kubelet',
      version,
      summary: 'Node agent for Kubernetes clusters',
      depends: [['kubernetes-cni', '1.1.1']],
      files: [
        { path: '/usr/bin/kubelet', content: executableText('kubelet', version, 'kubelet'), mode: 0o755 },
        {
          path: '/usr/lib/systemd/system/kubelet.service',
          content: '[Unit]\nDescription=kubelet: The Kubernetes Node Agent\n\n[Service]\nExecStart=/usr/bin/kubelet\nRestart=always\n',
          mode: 0o644,
        },
      ],
    },
    {
      name: 'kubectl',
      version,
      summary: 'Command-line utility for interacting with a Kubernetes cluster',
      depends: [],
      files: [{ path: '/usr/bin/kubectl', content: executableText('kubectl', version, 'kubectl'), mode: 0o755 }],
    },
  ];
}

/** The kubelet's environment file, a configuration file each minor's package ships with its own comment. */
export function kubeletDefaults(kind: 'deb' | 'rpm', version: string): PackageFile {
  const minor = minorNumber(version);
  return {
    path: kind === 'deb' ? '/etc/default/kubelet' : '/etc/sysconfig/kubelet',
    content: `# Extra arguments for the kubelet (packaged with Kubernetes 1.${minor})\nKUBELET_EXTRA_ARGS=\n`,
    mode: 0o644,
    config: true,
  };
}

/** The tools every minor's repository carries once: cri-tools and kubernetes-cni. */
export function companionPackages(minorVersion: string): PackageDef[] {
  const minor = minorNumber(`${minorVersion}.0`);
  const crictl = `1.${minor}.0`;
  const cni = cniVersion(minor);
  return [
    {
      name: 'cri-tools',
      version: crictl,
      summary: 'Command-line utility for interacting with a container runtime',
      depends: [],
      files: [{ path: '/usr/bin/crictl', content: executableText('cri-tools', crictl, 'crictl'), mode: 0o755 }],
    },
    {
      name: 'kubernetes-cni',
      version: cni,
      summary: 'Binaries required to provision kubernetes container networking',
      depends: [],
      files: [{ path: '/opt/cni/bin/bridge', content: `#!/bin/sh\n# sim-package: kubernetes-cni ${cni}\nexit 0\n`, mode: 0o755 }],
    },
  ];
}

/** The package as one format spells it: kubelet gets its environment file in that format's place. */
export function forFormat(pkg: PackageDef, kind: 'deb' | 'rpm'): PackageDef {
  return pkg.name === 'kubelet' ? { ...pkg, files: [...pkg.files, kubeletDefaults(kind, pkg.version)] } : pkg;
}

/** The version as the packages spell it: a pre-release sorts before its release with "~" (1.32.0~rc.1). */
export function packageUpstream(version: string): string {
  return version.replace(/-(alpha|beta|rc)\./, '~$1.');
}

export function debVersion(version: string): string {
  return `${packageUpstream(version)}-${DEB_REVISION}`;
}

export function rpmVersion(version: string): string {
  return `${packageUpstream(version)}-${RPM_RELEASE}`;
}

export function debFileName(pkg: PackageDef): string {
  return `${pkg.name}_${debVersion(pkg.version)}_amd64.deb`;
}

export function rpmFileName(pkg: PackageDef): string {
  return `${pkg.name}-${rpmVersion(pkg.version)}.x86_64.rpm`;
}
