// What a node has installed, read from the real package databases in its overlay (dpkg's status file, the rpm
// database, dnf's versionlock list) from outside the node, and from the executables the packages installed
// (sim/pkgs/catalog.ts) from inside it: the stand-ins and the kubelet know their version that way.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { KUBE_PACKAGES, parseExecutable, type KubePackage } from '../pkgs/catalog.ts';
import type { NodePaths } from './spec.ts';

const KUBE_PACKAGE_NAMES = KUBE_PACKAGES;
export type InstalledKube = Partial<Record<KubePackage, string>>;

/** The version of the package that installed executable `path` (as seen from this process), if one of ours did. */
export function installedExecutableVersion(path: string): string | undefined {
  try {
    return parseExecutable(readFileSync(path, 'utf8'))?.version;
  } catch {
    return undefined;
  }
}

interface DpkgEntry {
  name: string;
  version: string;
  want: string;
  installed: boolean;
}

function dpkgStatus(paths: NodePaths): DpkgEntry[] {
  const file = join(paths.upperVar, 'lib/dpkg/status');
  if (!existsSync(file)) return [];
  const entries: DpkgEntry[] = [];
  for (const stanza of readFileSync(file, 'utf8').split(/\n\n+/)) {
    const field = (name: string) => new RegExp(`^${name}: (.*)$`, 'm').exec(stanza)?.[1]?.trim();
    const name = field('Package');
    const status = field('Status')?.split(/\s+/) ?? [];
    if (!name || !(KUBE_PACKAGE_NAMES as readonly string[]).includes(name)) continue;
    entries.push({ name, version: field('Version') ?? '', want: status[0] ?? '', installed: status[2] === 'installed' });
  }
  return entries;
}

function rpmQuery(paths: NodePaths): { name: string; version: string }[] {
  const dbpath = join(paths.upperVar, 'lib/rpm');
  if (!existsSync(dbpath)) return [];
  let out = '';
  try {
    out = execFileSync('rpm', ['--dbpath', dbpath, '-q', '--qf', '%{NAME}\t%{VERSION}-%{RELEASE}\n', ...KUBE_PACKAGE_NAMES], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    });
  } catch (err) {
    out = (err as { stdout?: string }).stdout ?? ''; // exit 1 when one is not installed; the others are still listed
  }
  return out
    .split('\n')
    .map((line) => line.split('\t'))
    .filter((f): f is [string, string] => f.length === 2 && !f[0]!.includes(' '))
    .map(([name, version]) => ({ name, version }));
}

/** kubeadm/kubelet/kubectl → installed upstream version ("1.30.5"), from the node's package database. */
export function installedKubePackages(paths: NodePaths, os: 'debian' | 'rhel'): InstalledKube {
  const rows = os === 'debian' ? dpkgStatus(paths).filter((e) => e.installed) : rpmQuery(paths);
  const found: InstalledKube = {};
  for (const row of rows) found[row.name as keyof InstalledKube] = row.version.split('-')[0];
  return found;
}

/** The kube packages held (dpkg selection "hold") or versionlocked (dnf's versionlock list), sorted. */
export function heldKubePackages(paths: NodePaths, os: 'debian' | 'rhel'): string[] {
  if (os === 'debian')
    return dpkgStatus(paths)
      .filter((e) => e.want === 'hold')
      .map((e) => e.name)
      .sort();
  const list = join(paths.upperEtc, 'dnf/plugins/versionlock.list');
  if (!existsSync(list)) return [];
  const held = new Set<string>();
  for (const line of readFileSync(list, 'utf8').split('\n')) {
    const match = /^([a-z][a-z0-9-]*?)-(?:\d+:)?\d/.exec(line.trim());
    if (match && (KUBE_PACKAGE_NAMES as readonly string[]).includes(match[1]!)) held.add(match[1]!);
  }
  return [...held].sort();
}
