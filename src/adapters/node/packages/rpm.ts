// rpm nodes (RHEL family, Fedora): rpm -q, dnf or yum (whichever the node has, chosen once) with the versionlock
// plugin as the hold, and the repository's `exclude=` lifted for our own installs by --disableexcludes=kubernetes
// (the repository id the kubeadm install guide uses).
import type { PackageCommand, PackageContext, PackageManager, ReadCommand } from './manager.ts';
import {
  findCoreRepoFilesCommand,
  newestRevisionOf,
  parseInstalledPackages,
  parsePackageVersion,
  uniqueNewestRevision,
  type PublishedPackage,
} from './common.ts';

/** The repo file's `exclude=` and versionlock both hide versions from `list`; the plan needs to see them all. */
const SEE_EVERY_VERSION = ['--disableexcludes=all', '--disableplugin=versionlock'];
const OUR_REPO_EXCLUDES = '--disableexcludes=kubernetes';
const RPM_REPO_PATHS = ['/etc/yum.repos.d'];
/** An rpm version cannot hold "-": pkgs.k8s.io spells 1.32.0-rc.1 as 1.32.0~rc.1, which sorts before 1.32.0. */
const prerelease = (target: string) => target.replace(/-(alpha|beta|rc)/, '~$1');
/**
 * Another repository on the node that fails to load (an expired key, a mirror that is down) must not stop the
 * Kubernetes install: dnf then warns "Ignoring repositories: …" and goes on (EL9's default is to fail).
 */
const OTHER_REPOS_MAY_FAIL = '--setopt=skip_if_unavailable=True';
const NO_VERSIONLOCK = /No such command|Unknown versionlock|versionlock.*not (found|installed)/i;

export function rpmRepoUrlFor(minor: string): string {
  return `https://pkgs.k8s.io/core:/stable:/v${minor}/rpm/`;
}

/**
 * `dnf list --showduplicates kubeadm`: "kubeadm.x86_64   1.30.5-150500.1.1   kubernetes" per line, among header
 * lines. "@repo" marks the installed package, not something a repository offers.
 */
export function parseYumListPackages(text: string): PublishedPackage[] {
  const found: PublishedPackage[] = [];
  for (const line of text.split('\n')) {
    const [name, version, repo] = line.trim().split(/\s+/);
    if (!name || !version || !repo || repo.startsWith('@')) continue;
    const entry = parsePackageVersion(version);
    if (entry) found.push(entry);
  }
  return uniqueNewestRevision(found);
}

/** `dnf versionlock list`: "kubeadm-0:1.30.5-150500.1.1.*" per lock, among header lines. */
export function parseVersionlockList(text: string): string[] {
  const holds: string[] = [];
  for (const line of text.split('\n')) {
    const match = /^(?:\d+:)?([A-Za-z0-9_.+]+(?:-[A-Za-z][A-Za-z0-9_.+]*)*)-(?:\d+:)?\d+\.\d+/.exec(line.trim());
    if (match?.[1] && !holds.includes(match[1])) holds.push(match[1]);
  }
  return holds;
}

/** rpm's segment comparison of one version or release string: digits beat letters, "~" sorts before anything. */
function compareSegments(a: string, b: string): number {
  const x = a.match(/~|\d+|[A-Za-z]+/g) ?? [];
  const y = b.match(/~|\d+|[A-Za-z]+/g) ?? [];
  for (let i = 0; i < Math.max(x.length, y.length); i++) {
    const [s, t] = [x[i], y[i]];
    if (s === '~' || t === '~') {
      if (s !== t) return s === '~' ? -1 : 1;
      continue;
    }
    if (s === undefined || t === undefined) return s === undefined ? -1 : 1;
    const [sNum, tNum] = [/^\d/.test(s), /^\d/.test(t)];
    if (sNum !== tNum) return sNum ? 1 : -1;
    if (sNum) {
      const [p, q] = [s.replace(/^0+/, ''), t.replace(/^0+/, '')];
      if (p.length !== q.length) return p.length - q.length;
    }
    if (s !== t) return s < t ? -1 : 1;
  }
  return 0;
}

/** Orders "[epoch:]version-release" as rpm does: epoch, then version, then release. */
export function compareRpmVersions(a: string, b: string): number {
  const split = (v: string) => {
    const epoch = /^(\d+):/.exec(v);
    const rest = epoch ? v.slice(epoch[0].length) : v;
    const dash = rest.lastIndexOf('-');
    return {
      epoch: Number(epoch?.[1] ?? 0),
      version: dash < 0 ? rest : rest.slice(0, dash),
      release: dash < 0 ? '' : rest.slice(dash + 1),
    };
  };
  const [x, y] = [split(a.trim()), split(b.trim())];
  return x.epoch - y.epoch || compareSegments(x.version, y.version) || compareSegments(x.release, y.release);
}

function listedVersions(listing: string): string[] {
  return listing
    .split('\n')
    .map((line) => line.trim().split(/\s+/))
    .filter((f) => f.length >= 3)
    .map((f) => f[1]!);
}

export function rpmPackageManager<T extends 'dnf' | 'yum'>(tool: T) {
  const unlock = (names: readonly string[]): PackageCommand => ({
    argv: [tool, OTHER_REPOS_MAY_FAIL, 'versionlock', 'delete', ...names],
    tolerate: new RegExp(`No package found|${NO_VERSIONLOCK.source}`, 'i'),
    tolerateReason: 'nothing was locked (or the versionlock plugin is absent)',
  });
  const lock = (names: readonly string[]): PackageCommand => ({
    argv: [tool, OTHER_REPOS_MAY_FAIL, 'versionlock', 'add', ...names],
    tolerate: NO_VERSIONLOCK,
    tolerateReason: "the versionlock plugin is not installed; the repository's exclude= line keeps the packages from moving",
  });
  const specs = (entries: [string, string][]) => entries.map(([name, version]) => `${name}-${version}`);

  const manager = {
    name: tool,
    family: 'rpm',
    tool,
    repoSearchPaths: RPM_REPO_PATHS,

    findRepoFilesCommand: (): string[] => findCoreRepoFilesCommand(RPM_REPO_PATHS),
    // the repository kept its id with another baseurl: drop the old minor's cached metadata
    refreshMetadataCommand: () => [tool, 'clean', 'metadata'],

    installedCommand: (names: readonly string[]) => ['rpm', '-q', '--qf', '%{NAME}\t%{VERSION}-%{RELEASE}\n', ...names],
    parseInstalled: parseInstalledPackages,
    holdsCommand: () => [tool, OTHER_REPOS_MAY_FAIL, 'versionlock', 'list'],
    parseHolds: parseVersionlockList,
    publishedCommand: (name: string) => [tool, 'list', '--showduplicates', OTHER_REPOS_MAY_FAIL, ...SEE_EVERY_VERSION, name],
    parsePublished: parseYumListPackages,
    // the target repository added for this one command, its metadata cached in `tmp`
    targetMinorRead: (minor: string, tmp: string, _repoText: string): ReadCommand[] => [
      {
        argv: [
          tool,
          `--repofrompath=kubernetes-target,${rpmRepoUrlFor(minor)}`,
          '--repo=kubernetes-target',
          `--setopt=cachedir=${tmp}`,
          ...SEE_EVERY_VERSION,
          'list',
          '--showduplicates',
          'kubeadm',
        ],
      },
    ],

    listRevisionsCommand: (name: string) => [tool, 'list', '--showduplicates', OTHER_REPOS_MAY_FAIL, OUR_REPO_EXCLUDES, name],
    pickRevision: (listing: string, target: string) => newestRevisionOf(listedVersions(listing), prerelease(target)),
    upstreamVersion: prerelease,
    versionPattern: (target: string) => `${prerelease(target)}-*`,

    installCommand: (names: readonly string[], version: string, _context: PackageContext) => [
      tool,
      'install',
      '-y',
      OTHER_REPOS_MAY_FAIL,
      ...specs(names.map((n) => [n, version])),
      OUR_REPO_EXCLUDES,
    ],
    installSteps: (names: readonly string[], version: string, context: PackageContext): PackageCommand[] => [
      unlock(names),
      { argv: manager.installCommand(names, version, context), install: true },
      lock(names),
    ],
    /**
     * The upgrade's versionlock pins the newer version, and a locked package cannot be installed at any other
     * ("All matches were filtered out by exclude filtering"): delete the locks, downgrade (yum 3 refuses an older
     * version through `install`; `downgrade` takes it on yum and dnf alike), install what is missing or older,
     * then lock again, at the versions now installed.
     */
    downgradeSteps(
      recorded: Readonly<Record<string, string>>,
      installed: Readonly<Record<string, string>>,
      _context: PackageContext,
    ): PackageCommand[] {
      const entries = Object.entries(recorded);
      const names = entries.map(([name]) => name);
      const older = entries.filter(([name, version]) => installed[name] !== undefined && compareRpmVersions(version, installed[name]) < 0);
      const newer = entries.filter(([name, version]) => installed[name] === undefined || compareRpmVersions(version, installed[name]) > 0);
      return [
        unlock(names),
        { argv: [tool, 'clean', 'metadata'] },
        ...(older.length > 0
          ? [{ argv: [tool, 'downgrade', '-y', OTHER_REPOS_MAY_FAIL, ...specs(older), OUR_REPO_EXCLUDES], install: true }]
          : []),
        ...(newer.length > 0
          ? [{ argv: [tool, 'install', '-y', OTHER_REPOS_MAY_FAIL, ...specs(newer), OUR_REPO_EXCLUDES], install: true }]
          : []),
        lock(names),
      ];
    },
  } as const satisfies PackageManager;
  return manager;
}
