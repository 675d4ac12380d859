// Pure parsers for what the read-only probe commands print (probe.ts runs them). Published versions come
// back sorted oldest first, each once, with the exact package version the repository lists for them.
import semver from 'semver';

const REPO_MINOR = /pkgs\.k8s\.io\/core:\/stable:\/v(\d+\.\d+)\//;

/** The minor of the first pkgs.k8s.io repository in repository-configuration text, e.g. "1.30". */
export function parseRepoMinor(text: string): string | undefined {
  for (const line of text.split('\n')) {
    const trimmed = line.trim();
    if (trimmed.startsWith('#')) continue;
    const match = REPO_MINOR.exec(trimmed);
    if (match) return match[1];
  }
  return undefined;
}

/** The first one-line apt source ("deb [opts] URL /") for pkgs.k8s.io, if the node uses that format. */
export function parseAptSourceLine(text: string): string | undefined {
  return text
    .split('\n')
    .map((line) => line.trim())
    .find((line) => line.startsWith('deb ') && REPO_MINOR.test(line));
}

/** The same apt source line pointing at another minor's repository. */
export function aptSourceLineFor(minor: string, current?: string): string {
  if (current) return current.replace(REPO_MINOR, `pkgs.k8s.io/core:/stable:/v${minor}/`);
  return `deb [signed-by=/etc/apt/keyrings/kubernetes-apt-keyring.gpg] https://pkgs.k8s.io/core:/stable:/v${minor}/deb/ /`;
}

export function rpmRepoUrlFor(minor: string): string {
  return `https://pkgs.k8s.io/core:/stable:/v${minor}/rpm/`;
}

/** "1.30.5-1.1" or "0:1.30.5-150500.1.1" → "1.30.5"; undefined when it is not a version. */
export function versionWithoutRevision(packageVersion: string): string | undefined {
  const match = /^(?:\d+:)?(\d+\.\d+\.\d+)(?:[-~+].*)?$/.exec(packageVersion.trim());
  return match?.[1];
}

function sortedUnique(versions: Iterable<string>): string[] {
  return [...new Set(versions)].sort(semver.compare);
}

/** Only the versions of one minor ("1.31"). */
export function ofMinor<T extends string | { version: string }>(versions: T[], minor: string): T[] {
  return versions.filter((v) => (typeof v === 'string' ? v : v.version).startsWith(`${minor}.`));
}

/** A version a repository offers: the Kubernetes version and the exact package version to install. */
export interface PublishedPackage {
  /** "1.31.13", or "1.32.0-rc.1" for a pre-release */
  version: string;
  /** the package version with its revision, as the package manager takes it: "1.31.13-1.1", "1.31.13-150500.1.1" */
  packageVersion: string;
}

/**
 * "1.31.13-1.1", "0:1.31.13-150500.1.1", "1.32.0~rc.1-1.1" → the version and the package version (epoch
 * dropped: pkgs.k8s.io packages have none). Pre-releases keep their suffix, so "1.32.0~rc.1" is never
 * mistaken for 1.32.0.
 */
export function parsePackageVersion(text: string): PublishedPackage | undefined {
  const packageVersion = text.trim().replace(/^0:/, '');
  const match = /^(\d+\.\d+\.\d+)(?:~((?:alpha|beta|rc)\.\d+))?-[0-9][0-9A-Za-z.+~]*$/.exec(packageVersion);
  if (!match) return undefined;
  return { version: match[2] ? `${match[1]}-${match[2]}` : match[1]!, packageVersion };
}

/** Versions in order (oldest first), each once; a version listed twice keeps its highest package revision. */
function uniqueNewestRevision(found: PublishedPackage[]): PublishedPackage[] {
  const byVersion = new Map<string, PublishedPackage>();
  for (const entry of found) {
    const seen = byVersion.get(entry.version);
    if (!seen || compareRevisions(entry.packageVersion, seen.packageVersion) > 0) byVersion.set(entry.version, entry);
  }
  return sortedUnique(byVersion.keys()).map((v) => byVersion.get(v)!);
}

/** Compares the revisions after the first "-" number by number ("1.2" > "1.1", "150500.1.10" > "150500.1.9"). */
function compareRevisions(a: string, b: string): number {
  const parts = (v: string) => v.slice(v.indexOf('-') + 1).split(/[^0-9]+/).filter(Boolean).map(Number);
  const [x, y] = [parts(a), parts(b)];
  for (let i = 0; i < Math.max(x.length, y.length); i++) {
    const d = (x[i] ?? -1) - (y[i] ?? -1);
    if (d !== 0) return d;
  }
  return 0;
}

/** `apt-cache madison kubeadm`: "kubeadm | 1.30.5-1.1 | https://pkgs.k8s.io/… Packages" per line. */
export function parseMadisonPackages(text: string): PublishedPackage[] {
  const found: PublishedPackage[] = [];
  for (const line of text.split('\n')) {
    const fields = line.split('|').map((f) => f.trim());
    if (fields.length < 3) continue;
    const entry = parsePackageVersion(fields[1] ?? '');
    if (entry) found.push(entry);
  }
  return uniqueNewestRevision(found);
}

/** `yum list --showduplicates kubeadm`: "kubeadm.x86_64   1.30.5-150500.1.1   kubernetes" per line. */
export function parseYumListPackages(text: string): PublishedPackage[] {
  const found: PublishedPackage[] = [];
  for (const line of text.split('\n')) {
    const [name, version, repo] = line.trim().split(/\s+/);
    // "@repo" marks the installed package, not a repository offer
    if (!name || !version || !/^kubeadm(\.|$)/.test(name) || repo?.startsWith('@')) continue;
    const entry = parsePackageVersion(version);
    if (entry) found.push(entry);
  }
  return uniqueNewestRevision(found);
}

/** The versions apt-cache madison lists, without revisions. */
export function parseMadison(text: string): string[] {
  return parseMadisonPackages(text).map((p) => p.version);
}

/** The versions yum/dnf list --showduplicates lists, without revisions. */
export function parseYumList(text: string): string[] {
  return parseYumListPackages(text).map((p) => p.version);
}

/** `dpkg-query -W -f '${Package}\t${Version}\n' …` or `rpm -q --qf '%{NAME}\t%{VERSION}-%{RELEASE}\n' …`. */
export function parseInstalledPackages(text: string): Record<string, string> {
  const packages: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const [name, version] = line.trim().split('\t');
    if (name && version && /^[a-z0-9][a-z0-9.+-]*$/.test(name) && versionWithoutRevision(version)) packages[name] = version.trim();
  }
  return packages;
}

/** `apt-mark showhold`: one package name per line. */
export function parseAptHolds(text: string): string[] {
  return text
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => /^[a-z0-9][a-z0-9.+-]*$/.test(line));
}

/** `yum versionlock list`: "kubeadm-0:1.30.5-150500.1.1.*" per lock, among header lines. */
export function parseVersionlockList(text: string): string[] {
  const holds: string[] = [];
  for (const line of text.split('\n')) {
    const match = /^(?:\d+:)?([A-Za-z0-9_.+]+(?:-[A-Za-z][A-Za-z0-9_.+]*)*)-(?:\d+:)?\d+\.\d+/.exec(line.trim());
    if (match?.[1] && !holds.includes(match[1])) holds.push(match[1]);
  }
  return holds;
}

/** `kubeadm version -o short`: "v1.30.5" → "1.30.5". */
export function parseKubeadmShortVersion(text: string): string | undefined {
  const match = /^v?(\d+\.\d+\.\d+)\b/.exec(text.trim());
  return match?.[1];
}

/** `swapon --show --noheadings`: any line is an active swap device. */
export function parseSwapOn(text: string): boolean {
  return text.trim() !== '';
}

/** `df -B1 --output=avail PATH`: header "Avail", then bytes. */
export function parseDfAvail(text: string): number | undefined {
  const value = text
    .split('\n')
    .map((line) => line.trim())
    .find((line) => /^\d+$/.test(line));
  return value === undefined ? undefined : Number(value);
}

/** PRETTY_NAME from /etc/os-release. */
export function parseOsRelease(text: string): string | undefined {
  const match = /^PRETTY_NAME=(?:"([^"]*)"|(.*))$/m.exec(text);
  return match ? (match[1] ?? match[2])?.trim() : undefined;
}

/** Splits output made of `@@ name` header lines and their bodies into { name: body }. */
export function parseFactSections(text: string): Record<string, string> {
  const sections: Record<string, string> = {};
  let current: string | undefined;
  const body: string[] = [];
  const flush = () => {
    if (current !== undefined) sections[current] = body.join('\n');
    body.length = 0;
  };
  for (const line of text.split('\n')) {
    const header = /^@@ ([a-z-]+)$/.exec(line);
    if (header?.[1]) {
      flush();
      current = header[1];
    } else if (current !== undefined) body.push(line);
  }
  flush();
  return sections;
}
