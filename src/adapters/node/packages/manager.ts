// The package-manager seam: everything that differs between apt nodes and rpm (dnf/yum) nodes, behind one
// interface with one implementation file per family (apt.ts, rpm.ts). Pure: argument vectors to run and parsers
// for what they print. Nothing here runs a command; callers run the argv through their NodeShell (as root where
// the command changes the node). A node's manager is chosen once and then asked, never branched on:
//
//   choose      choosePackageManager(tools, repoLines)    from DETECTION_SCRIPT's output (parseDetection), or
//               packageManagerNamed(name)                 for the name the plan recorded ('apt' | 'dnf' | 'yum')
//   repository  repoSearchPaths, findRepoFilesCommand(), repoMinorsIn(text), switchRepoMinor(text, minor),
//               refreshMetadataCommand()                  (undefined for apt: installSteps runs apt-get update)
//   read        installedCommand(names) + parseInstalled(out)      dpkg-query / rpm -q
//               holdsCommand() + parseHolds(out)                   apt-mark showhold / versionlock list
//               publishedCommand(name) + parsePublished(out)       apt-cache madison / list --showduplicates
//               targetMinorRead(minor, tmp, repoText)              another minor's repository, the node unchanged
//   revision    listRevisionsCommand(name) + pickRevision(listing, target)   the exact revision, read at install time
//               upstreamVersion(target), versionPattern(target), planRevision(pm, revisions)
//   upgrade     installSteps(names, version): PackageCommand[]   unhold/unlock → (apt-get update) → install → hold/lock
//               installCommand(names, version)                   the install step's argv alone
//   rollback    downgradeSteps(recorded, installed): PackageCommand[]
//                 unhold/unlock → refresh → install the recorded (older) versions → hold/lock again, at those versions
//
// Steps are run in order; a step whose `tolerate` matches a failure's output is not an error (log its
// tolerateReason). The step marked `install: true` is installCommand(names, version): a caller without an exact
// revision (a plan that could not list one) runs listRevisionsCommand + pickRevision right before that step —
// after the refresh step — and runs installCommand with what it picked.
//
// Adding a package manager (zypper, say) is one file implementing PackageManager plus its line in MANAGERS (and
// its name in the core's PackageManager union, src/core/cluster-state.ts, which the compiler asks for).
import { aptPackageManager } from './apt.ts';
import { parseRepoMinor, repoMinorsIn, type PublishedPackage } from './common.ts';
import { rpmPackageManager } from './rpm.ts';

export {
  findCoreRepoFilesCommand,
  ofMinor,
  parseRepoMinor,
  repoMinorsIn,
  switchRepoMinor,
  versionWithoutRevision,
} from './common.ts';
export type { PublishedPackage } from './common.ts';

/** One command of a package step; `tolerate` says which failures are expected and harmless. */
export interface PackageCommand {
  argv: string[];
  /** a failure whose stdout/stderr matches this is not an error (e.g. nothing was locked) */
  tolerate?: RegExp;
  /** why a tolerated failure is fine, for the log */
  tolerateReason?: string;
  /** the install itself: installCommand(names, version) */
  install?: boolean;
  /** the cause and the fix of a failure recognised in its output (a package lock another process holds) */
  explain?: (output: string) => string | undefined;
  /** run again while a failure's output matches (a lock the command itself does not wait for), for up to forSeconds */
  retryWhile?: { pattern: RegExp; forSeconds: number };
}

/** What the node's install and downgrade commands need beyond the packages. */
export interface PackageContext {
  /** the node's pkgs.k8s.io repository files (probed): the metadata refresh reads only these */
  repoFiles: readonly string[];
  /** how long to wait for a package-database lock another process holds (package-lock-timeout) */
  lockTimeoutSeconds: number;
}

/** A read-only command; `stdin` is what it reads. */
export interface ReadCommand {
  argv: string[];
  stdin?: string;
}

export interface PackageManager {
  /** what the plan and the job record: the command family the node runs ('apt', 'dnf', 'yum') */
  readonly name: string;
  /** managers of one family install the same package versions; a backup records the family ('apt', 'rpm') */
  readonly family: string;
  /** the executable on PATH that says this manager can run on the node */
  readonly tool: string;
  /** where its repository files live (directories or files) */
  readonly repoSearchPaths: readonly string[];

  /** Lists the repository files that name a pkgs.k8s.io core repository (grep: one path per line; exit 1 = none). */
  findRepoFilesCommand(): string[];
  /** Drops cached metadata after the repository changed minor; undefined when installSteps refreshes anyway (apt). */
  refreshMetadataCommand(): string[] | undefined;

  /** Prints "NAME<TAB>VERSION-REVISION" per installed package (parseInstalled reads it). */
  installedCommand(names: readonly string[]): string[];
  parseInstalled(output: string): Record<string, string>;
  /** Prints the held (apt-mark) or versionlocked packages. */
  holdsCommand(): string[];
  /** Names of the held / versionlocked packages. */
  parseHolds(output: string): string[];
  /** Lists every version of `name` the configured repository offers, hidden ones (exclude=, versionlock) too. */
  publishedCommand(name: string): string[];
  /** What publishedCommand or listRevisionsCommand printed: oldest first, each version once, with its revision. */
  parsePublished(output: string): PublishedPackage[];
  /**
   * Commands that read kubeadm's versions in another minor's repository without changing the node, using the
   * empty temporary directory `tmp` (the caller makes and removes it). `repoText` is the node's pkgs.k8s.io
   * repository lines (its options are kept). Run in order, stopping at a failure; the last one prints the listing
   * for parsePublished.
   */
  targetMinorRead(minor: string, tmp: string, repoText: string): ReadCommand[];

  /** Lists the revisions of `name` the install would choose from (the node's own filters, as the install sees them). */
  listRevisionsCommand(name: string): string[];
  /** The exact package version ("1.31.4-1.1") for `target` ("1.31.4") in that listing, when there is one. */
  pickRevision(listing: string, target: string): string | undefined;
  /** The upstream version as the packages spell it: Debian sorts pre-releases with "~" ("1.32.0~rc.1"). */
  upstreamVersion(target: string): string;
  /** Every packaging revision of `target`, for display where the exact one is not known yet ("1.31.4-*"). */
  versionPattern(target: string): string;

  /** The install step's argv: `names` at exactly `version`. */
  installCommand(names: readonly string[], version: string, context: PackageContext): string[];
  /** Upgrade: release the hold / versionlock, install `names` at exactly `version`, hold / lock them there. */
  installSteps(names: readonly string[], version: string, context: PackageContext): PackageCommand[];
  /**
   * Rollback: put each package back at its `recorded` version ("1.30.5-1.1") from the `installed` one, allowing
   * the downgrade past the hold / versionlock the upgrade set at the newer version, then hold / lock again at the
   * recorded versions.
   */
  downgradeSteps(
    recorded: Readonly<Record<string, string>>,
    installed: Readonly<Record<string, string>>,
    context: PackageContext,
  ): PackageCommand[];
}

/** Every package manager, in the order detection prefers them when no repository says which one is configured. */
const MANAGERS = [aptPackageManager, rpmPackageManager('dnf'), rpmPackageManager('yum')] as const satisfies readonly PackageManager[];

/** A registered manager: its name and family are literal types ('apt' | 'dnf' | 'yum', 'apt' | 'rpm'). */
export type KnownPackageManager = (typeof MANAGERS)[number];
export type PackageFamily = KnownPackageManager['family'];

export function packageManagerNamed(name: string): KnownPackageManager | undefined {
  return MANAGERS.find((m) => m.name === name);
}

/** Every directory or file where a manager keeps repository files. */
export function allRepoSearchPaths(): string[] {
  return [...new Set(MANAGERS.flatMap((m) => m.repoSearchPaths))];
}

/** A pkgs.k8s.io line of a repository file, as `grep -H` prints it. */
export interface RepoLine {
  path: string;
  line: string;
}

/**
 * Prints `@@ tools` (the managers' tools found on PATH) and `@@ repos` (`grep -H` of pkgs.k8s.io in their
 * repository files); run as `sh -c DETECTION_SCRIPT sh ...detectionArgs()` alone or ahead of other facts.
 * A constant script: the tools and paths are its arguments, never its text.
 */
export const DETECTION_SCRIPT = [
  'echo "@@ tools"',
  'while [ "$#" -gt 0 ] && [ "$1" != "--" ]; do command -v "$1" >/dev/null 2>&1 && echo "$1"; shift; done',
  '[ "$#" -gt 0 ] && shift',
  'echo "@@ repos"',
  '[ "$#" -gt 0 ] && grep -rHs pkgs.k8s.io "$@"',
  'true',
].join('\n');

export function detectionArgs(): string[] {
  return [...new Set(MANAGERS.map((m) => m.tool)), '--', ...allRepoSearchPaths()];
}

/** The tools and repository lines from DETECTION_SCRIPT's `@@ tools` and `@@ repos` sections. */
export function parseDetection(sections: { tools?: string; repos?: string }): { tools: string[]; repos: RepoLine[] } {
  const tools = (sections.tools ?? '')
    .split('\n')
    .map((t) => t.trim())
    .filter(Boolean);
  const repos: RepoLine[] = [];
  for (const line of (sections.repos ?? '').split('\n')) {
    const colon = line.indexOf(':');
    if (colon > 0) repos.push({ path: line.slice(0, colon), line: line.slice(colon + 1) });
  }
  return { tools, repos };
}

function owns(pm: PackageManager, path: string): boolean {
  return pm.repoSearchPaths.some((p) => path === p || path.startsWith(`${p}/`));
}

/** The pkgs.k8s.io lines of this manager's repository files, one per line. */
export function repoTextFor(pm: PackageManager, repos: readonly RepoLine[]): string {
  return repos
    .filter((r) => owns(pm, r.path))
    .map((r) => r.line)
    .join('\n');
}

/** This manager's pkgs.k8s.io repository files, with the core:/stable: minors each names (the repo-switch rewrites them). */
export function repoFilesFor(pm: PackageManager, repos: readonly RepoLine[]): { path: string; minors: string[] }[] {
  const byPath = new Map<string, string[]>();
  for (const r of repos) if (owns(pm, r.path)) byPath.set(r.path, [...(byPath.get(r.path) ?? []), r.line]);
  return [...byPath].map(([path, lines]) => ({ path, minors: repoMinorsIn(lines.join('\n')) })).filter((f) => f.minors.length > 0);
}

/**
 * Rewrites the minor of every pkgs.k8s.io core:/stable: URL in `path` to `minor` ("1.31"), in place; the same for
 * every manager (only the URL's minor changes; signed-by, gpgkey and exclude= stay). sed -i writes a new file and
 * renames it over the old one, so an interruption never leaves half a file.
 */
export function switchRepoMinorCommand(path: string, minor: string): string[] {
  if (!/^\d+\.\d+$/.test(minor)) throw new Error(`not a minor version: ${minor}`);
  return ['sed', '-i', '-E', `s#(pkgs\\.k8s\\.io/core:/stable:/v)[0-9]+\\.[0-9]+/#\\1${minor}/#g`, '--', path];
}

/** The repository configuration decides the manager; the tools on PATH decide when none is configured. */
export function choosePackageManager(tools: readonly string[], repos: readonly RepoLine[]): KnownPackageManager | undefined {
  const usable: KnownPackageManager[] = MANAGERS.filter((m) => tools.includes(m.tool));
  return usable.find((m) => parseRepoMinor(repoTextFor(m, repos)) !== undefined) ?? usable[0];
}

/** The plan's exact package version for this manager; managers of one family share their revisions. */
export function planRevision(pm: PackageManager, revisions: Readonly<Partial<Record<string, string>>>): string | undefined {
  return (
    revisions[pm.name] ??
    MANAGERS.filter((m) => m.family === pm.family)
      .map((m) => revisions[m.name])
      .find((v) => v !== undefined)
  );
}
