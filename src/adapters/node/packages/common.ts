// What apt and rpm nodes share: pkgs.k8s.io's per-minor repository URLs and the shape of its package versions.
// Pure helpers for the package-manager implementations (apt.ts, rpm.ts) and their callers.
import semver from 'semver';

/**
 * grep -E pattern of a line naming a pkgs.k8s.io core repository. Other pkgs.k8s.io repositories (CRI-O's
 * addons:/cri-o:, say) are not the Kubernetes packages' and are never switched, recorded or restored.
 */
export const CORE_REPO_GREP = 'pkgs\\.k8s\\.io/core:/stable:/v[0-9]+\\.[0-9]+/';

/** The files (or directories, searched recursively) among `paths` that name a pkgs.k8s.io core repository. */
export function findCoreRepoFilesCommand(paths: readonly string[]): string[] {
  return ['grep', '-rlsE', CORE_REPO_GREP, ...paths];
}

/** One pkgs.k8s.io core repository: its minor is what an upgrade to another minor rewrites. */
const CORE_STABLE = /(pkgs\.k8s\.io\/core:\/stable:\/v)(\d+\.\d+)(\/)/g;
const REPO_MINOR = /pkgs\.k8s\.io\/core:\/stable:\/v(\d+\.\d+)\//;

/** The minor of the first pkgs.k8s.io repository in repository-configuration text ("1.30"), skipping comments. */
export function parseRepoMinor(text: string): string | undefined {
  for (const line of text.split('\n')) {
    const trimmed = line.trim();
    if (trimmed.startsWith('#')) continue;
    const match = REPO_MINOR.exec(trimmed);
    if (match) return match[1];
  }
  return undefined;
}

/** Every minor the file's pkgs.k8s.io lines point at now. */
export function repoMinorsIn(content: string): string[] {
  return [...new Set([...content.matchAll(CORE_STABLE)].map((m) => m[2]!))];
}

/**
 * The file with every pkgs.k8s.io core:/stable: minor set to `minor` ("1.31"). Everything else stays (signed-by,
 * gpgkey, exclude=): pkgs.k8s.io signs every minor with the same key, so the keyring is kept.
 */
export function switchRepoMinor(content: string, minor: string): string {
  return content.replace(CORE_STABLE, (_all, head: string, _old: string, tail: string) => `${head}${minor}${tail}`);
}

/** `line` with its pkgs.k8s.io minor replaced. */
export function withRepoMinor(line: string, minor: string): string {
  return line.replace(REPO_MINOR, `pkgs.k8s.io/core:/stable:/v${minor}/`);
}

export function isRepoLine(line: string): boolean {
  return REPO_MINOR.test(line);
}

/** A version a repository offers: the Kubernetes version and the exact package version to install. */
export interface PublishedPackage {
  /** "1.31.13", or "1.32.0-rc.1" for a pre-release */
  version: string;
  /** the package version with its revision, as the package manager takes it: "1.31.13-1.1", "1.31.13-150500.1.1" */
  packageVersion: string;
}

/** "1.30.5-1.1" or "0:1.30.5-150500.1.1" → "1.30.5"; undefined when it is not a version. */
export function versionWithoutRevision(packageVersion: string): string | undefined {
  const match = /^(?:\d+:)?(\d+\.\d+\.\d+)(?:[-~+].*)?$/.exec(packageVersion.trim());
  return match?.[1];
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

/** Compares the revisions after the first "-" number by number ("1.2" > "1.1", "150500.1.10" > "150500.1.9"). */
export function compareRevisions(a: string, b: string): number {
  const parts = (v: string) =>
    v
      .slice(v.indexOf('-') + 1)
      .split(/[^0-9]+/)
      .filter(Boolean)
      .map(Number);
  const [x, y] = [parts(a), parts(b)];
  for (let i = 0; i < Math.max(x.length, y.length); i++) {
    const d = (x[i] ?? -1) - (y[i] ?? -1);
    if (d !== 0) return d;
  }
  return 0;
}

/** Versions in order (oldest first), each once; a version listed twice keeps its highest package revision. */
export function uniqueNewestRevision(found: PublishedPackage[]): PublishedPackage[] {
  const byVersion = new Map<string, PublishedPackage>();
  for (const entry of found) {
    const seen = byVersion.get(entry.version);
    if (!seen || compareRevisions(entry.packageVersion, seen.packageVersion) > 0) byVersion.set(entry.version, entry);
  }
  return [...byVersion.keys()].sort(semver.compare).map((v) => byVersion.get(v)!);
}

/** Only the versions of one minor ("1.31"). */
export function ofMinor<T extends string | { version: string }>(versions: T[], minor: string): T[] {
  return versions.filter((v) => (typeof v === 'string' ? v : v.version).startsWith(`${minor}.`));
}

/**
 * The highest-revision package version starting with `upstream-` among `packageVersions` (epochs dropped), e.g.
 * "1.31.4" in ["1.31.4-1.1", "1.31.3-1.1"] → "1.31.4-1.1".
 */
export function newestRevisionOf(packageVersions: string[], upstream: string): string | undefined {
  return packageVersions
    .map((v) => v.trim().replace(/^\d+:/, ''))
    .filter((v) => v.startsWith(`${upstream}-`))
    .sort(compareRevisions)
    .at(-1);
}

const PACKAGE_NAME = /^[a-z0-9][a-z0-9.+-]*$/;

/** "NAME<TAB>VERSION" per line, as `dpkg-query -W -f` and `rpm -q --qf` print it with the format we give them. */
export function parseInstalledPackages(text: string): Record<string, string> {
  const packages: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const [name, version] = line.trim().split('\t');
    if (name && version && PACKAGE_NAME.test(name) && versionWithoutRevision(version)) packages[name] = version.trim();
  }
  return packages;
}

export function isPackageName(text: string): boolean {
  return PACKAGE_NAME.test(text);
}
