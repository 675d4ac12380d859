// The simulated pkgs.k8s.io: one repository per minor, holding every ClusterSpec.published patch of it.
import { compareVersions, isVersion, minorOf } from '../../cluster/versions.ts';
import type { ClusterSpec } from '../context.ts';

/** Packages whose installed version NodeState tracks. */
export const K8S_PACKAGES = ['kubeadm', 'kubelet', 'kubectl'] as const;
export type K8sPackage = (typeof K8S_PACKAGES)[number];
/** Names apt-mark / versionlock accept besides the tracked ones. */
export const HOLDABLE = [...K8S_PACKAGES, 'cri-tools', 'kubernetes-cni'];

export const DEB_REVISION = '1.1';
export const RPM_REVISION = '150500.1.1';

export const DESCRIPTIONS: Record<K8sPackage, string> = {
  kubeadm: 'Command-line utility for administering a Kubernetes cluster',
  kubelet: 'Node agent for Kubernetes clusters',
  kubectl: 'Command-line utility for interacting with a Kubernetes cluster',
};

export function isK8sPackage(name: string): name is K8sPackage {
  return (K8S_PACKAGES as readonly string[]).includes(name);
}

export function debVersion(version: string): string {
  return `${version}-${DEB_REVISION}`;
}

export function rpmVersion(version: string): string {
  return `${version}-${RPM_REVISION}`;
}

/** "1.30.5-1.1" → "1.30.5" */
export function upstreamOf(packageVersion: string): string {
  return packageVersion.replace(/^\d+:/, '').split('-')[0] ?? packageVersion;
}

const REPO_URL = /^https?:\/\/(?:pkgs\.k8s\.io|pkgs\.kubernetes\.io|packages\.kubernetes\.io)\/core:\/stable:\/v(\d+\.\d+)\/(deb|rpm)\/?$/;

/** The minor ("1.30") a pkgs.k8s.io repository URL serves, or undefined for any other URL. */
export function repoMinor(url: string, kind: 'deb' | 'rpm'): string | undefined {
  const match = REPO_URL.exec(url.trim());
  return match && match[2] === kind ? match[1] : undefined;
}

export function repoUrl(minor: string, kind: 'deb' | 'rpm'): string {
  return `https://pkgs.k8s.io/core:/stable:/v${minor}/${kind}/`;
}

/** Published versions of one minor, oldest first. */
export function publishedIn(cluster: ClusterSpec, minor: string): string[] {
  return cluster.published.filter((v) => isVersion(v) && minorOf(v) === minor).sort(compareVersions);
}

/** Orders package versions ("1.30.10-1.1") by upstream version, then revision text. */
export function comparePackageVersions(a: string, b: string): number {
  const ua = upstreamOf(a);
  const ub = upstreamOf(b);
  if (isVersion(ua) && isVersion(ub)) {
    const byUpstream = compareVersions(ua, ub);
    if (byUpstream !== 0) return byUpstream;
  }
  return a.localeCompare(b);
}

/** Shell-style glob (*, ?) as apt and dnf match version strings. */
export function globMatches(pattern: string, text: string): boolean {
  const source = pattern
    .replace(/[.+^${}()|[\]\\]/g, '\\$&')
    .replace(/\*/g, '.*')
    .replace(/\?/g, '.');
  return new RegExp(`^${source}$`).test(text);
}

/** "1,189 B" / "11.2 kB" as apt prints sizes. */
export function aptSize(bytes: number): string {
  if (bytes < 1000) return `${bytes} B`;
  if (bytes < 1_000_000) return bytes < 10_000 ? `${bytes.toLocaleString('en-US')} B` : `${(bytes / 1000).toFixed(1)} kB`;
  return `${(bytes / 1_000_000).toFixed(1)} MB`;
}
