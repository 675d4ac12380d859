// Version tables the simulated pkgs.k8s.io and kubeadm's addons need.

/** Last patch release of each minor on pkgs.k8s.io (1.27–1.36); unknown minors get DEFAULT_LAST_PATCH. */
const LAST_PATCH: Record<number, number> = {
  27: 16,
  28: 15,
  29: 15,
  30: 14,
  31: 13,
  32: 9,
  33: 5,
  34: 1,
  35: 0,
  36: 0,
};
const DEFAULT_LAST_PATCH = 10;

/** CoreDNS image tag kubeadm deploys per minor (kubeadm's constants). */
const COREDNS: Record<number, string> = {
  27: 'v1.10.1',
  28: 'v1.10.1',
  29: 'v1.11.1',
  30: 'v1.11.3',
  31: 'v1.11.3',
  32: 'v1.11.3',
  33: 'v1.12.0',
  34: 'v1.12.1',
  35: 'v1.12.1',
  36: 'v1.12.1',
};

/** etcd image tag kubeadm pins per minor. */
const ETCD: Record<number, string> = {
  27: '3.5.12-0',
  28: '3.5.15-0',
  29: '3.5.15-0',
  30: '3.5.15-0',
  31: '3.5.15-0',
  32: '3.5.16-0',
  33: '3.5.21-0',
  34: '3.6.4-0',
  35: '3.6.4-0',
  36: '3.6.4-0',
};

export interface Semver {
  major: number;
  minor: number;
  patch: number;
  /** alpha/beta/rc (0/1/2) and its number */
  pre?: { stage: number; number: number };
}

const VERSION = /^(\d+)\.(\d+)\.(\d+)$/;
/** A pre-release as Kubernetes tags it: 1.32.0-rc.1 (pkgs.k8s.io publishes them as 1.32.0~rc.1). */
const PRERELEASE = /^(\d+)\.(\d+)\.(\d+)-((alpha|beta|rc)\.(\d+))$/;
const STAGES = ['alpha', 'beta', 'rc'];

export function isVersion(text: string): boolean {
  return VERSION.test(text);
}

export function isPrerelease(text: string): boolean {
  return PRERELEASE.test(text);
}

export function parseVersion(text: string): Semver {
  const match = VERSION.exec(text) ?? PRERELEASE.exec(text);
  if (!match) throw new Error(`"${text}" is not a version like 1.30.5`);
  const pre = match[5] ? { stage: STAGES.indexOf(match[5]), number: Number(match[6]) } : undefined;
  return { major: Number(match[1]), minor: Number(match[2]), patch: Number(match[3]), ...(pre ? { pre } : {}) };
}

export function minorOf(version: string): string {
  const v = parseVersion(version);
  return `${v.major}.${v.minor}`;
}

export function compareVersions(a: string, b: string): number {
  const x = parseVersion(a);
  const y = parseVersion(b);
  // a pre-release comes before its release
  const pre = (v: Semver) => (v.pre ? v.pre.stage * 1_000_000 + v.pre.number : Number.MAX_SAFE_INTEGER);
  return x.major - y.major || x.minor - y.minor || x.patch - y.patch || Math.sign(pre(x) - pre(y));
}

export function lastPatchOf(minor: number): number {
  return LAST_PATCH[minor] ?? DEFAULT_LAST_PATCH;
}

/**
 * Every patch of the minors one below the lowest installed version through one above the control plane's,
 * so a default cluster can be upgraded by a minor and the nodes' own versions are always published.
 */
export function defaultPublished(installed: string[], controlPlaneVersion: string): string[] {
  const cp = parseVersion(controlPlaneVersion);
  const lowest = Math.min(...installed.map((v) => parseVersion(v).minor));
  const versions = new Set<string>();
  for (let minor = Math.max(0, lowest - 1); minor <= cp.minor + 1; minor++) {
    for (let patch = 0; patch <= lastPatchOf(minor); patch++) versions.add(`${cp.major}.${minor}.${patch}`);
  }
  for (const v of installed) versions.add(v);
  return [...versions].sort(compareVersions);
}

export function corednsImage(version: string): string {
  const tag = COREDNS[parseVersion(version).minor] ?? 'v1.12.1';
  return `registry.k8s.io/coredns/coredns:${tag}`;
}

export function etcdImage(version: string): string {
  const tag = ETCD[parseVersion(version).minor] ?? '3.6.4-0';
  return `registry.k8s.io/etcd:${tag}`;
}
