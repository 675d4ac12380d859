// apt (Debian, Ubuntu): dpkg-query, apt-mark holds, apt-cache madison, apt-get install of an exact version.
import type { PackageCommand, PackageContext, PackageManager, ReadCommand } from './manager.ts';
import {
  findCoreRepoFilesCommand,
  isPackageName,
  isRepoLine,
  newestRevisionOf,
  parseInstalledPackages,
  parsePackageVersion,
  uniqueNewestRevision,
  withRepoMinor,
  type PublishedPackage,
} from './common.ts';

/** Makes the temporary apt state directories and writes the one source line (stdin) into $1/k.list. */
const PREPARE_APT_DIR = 'mkdir -p "$1/lists/partial" "$1/cache/archives/partial" && cat > "$1/k.list"';

/** The first one-line apt source ("deb [opts] URL /") for pkgs.k8s.io, if the node uses that format. */
export function parseAptSourceLine(text: string): string | undefined {
  return text
    .split('\n')
    .map((line) => line.trim())
    .find((line) => line.startsWith('deb ') && isRepoLine(line));
}

/** The node's apt source line pointing at another minor's repository (the install guide's line when it has none). */
export function aptSourceLineFor(minor: string, current?: string): string {
  if (current) return withRepoMinor(current, minor);
  return `deb [signed-by=/etc/apt/keyrings/kubernetes-apt-keyring.gpg] https://pkgs.k8s.io/core:/stable:/v${minor}/deb/ /`;
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

/** `apt-mark showhold`: one package name per line. */
export function parseAptHolds(text: string): string[] {
  return text
    .split('\n')
    .map((line) => line.trim())
    .filter(isPackageName);
}

function madisonVersions(listing: string): string[] {
  return listing
    .split('\n')
    .map((line) => line.split('|'))
    .filter((f) => f.length >= 3)
    .map((f) => f[1]!.trim());
}

const APT_REPO_PATHS = ['/etc/apt/sources.list.d', '/etc/apt/sources.list'];

/** No debconf question and no conffile prompt may wait for a terminal that is not there. */
const APT_ENV = ['env', 'DEBIAN_FRONTEND=noninteractive'];
/**
 * A configuration file the operator changed stays as it is (the package's new version is left beside it as
 * .dpkg-dist); one nobody changed takes the package's new version. Without these, dpkg stops at a prompt.
 */
const KEEP_CONFFILES = ['-o', 'Dpkg::Options::=--force-confdef', '-o', 'Dpkg::Options::=--force-confold'];

/** apt waits this long for the dpkg lock another process (unattended-upgrades, say) holds, then fails. */
const lockWait = (context: PackageContext) => ['-o', `DPkg::Lock::Timeout=${context.lockTimeoutSeconds}`];

/**
 * `apt-get update` of the Kubernetes repository only: another repository on the node that fails (an expired key,
 * a mirror that is down) neither stops the upgrade nor loses its lists (List-Cleanup=0 keeps them). With several
 * repository files (or none found), every source is refreshed.
 */
function updateCommand(context: PackageContext): string[] {
  const only =
    context.repoFiles.length === 1
      ? ['-o', `Dir::Etc::sourcelist=${context.repoFiles[0]}`, '-o', 'Dir::Etc::sourceparts=-', '-o', 'APT::Get::List-Cleanup=0']
      : [];
  return [...APT_ENV, 'apt-get', 'update', ...lockWait(context), ...only];
}

/**
 * apt-mark changes holds through `dpkg --set-selections`, which does not wait for the dpkg lock (apt's
 * DPkg::Lock::Timeout does not reach it): it is run again while another process holds the lock.
 */
function aptMark(verb: 'hold' | 'unhold', names: readonly string[], context: PackageContext): PackageCommand {
  return {
    argv: ['apt-mark', verb, ...names],
    retryWhile: { pattern: DPKG_LOCKED, forSeconds: context.lockTimeoutSeconds },
    explain: explainLock(context),
  };
}

/** apt's and dpkg's own words for a lock another process holds. */
const DPKG_LOCKED = /Could not get lock|dpkg frontend lock was locked by another process|Unable to acquire the dpkg frontend lock/;

const HELD_LOCK = /Could not get lock (\/\S+?)\.? It is held by process (\d+)(?: \(([^)]*)\))?/;
/** dpkg's own words (apt-mark): "dpkg: error: dpkg frontend lock was locked by another process with pid 4711" */
const DPKG_HELD = /dpkg frontend lock was locked by another process with pid (\d+)/;

/** "E: Could not get lock /var/lib/dpkg/lock-frontend. It is held by process 4711 (unattended-upgr)" → cause and fix. */
export function explainLock(context: PackageContext): (output: string) => string | undefined {
  return (output) => {
    const apt = HELD_LOCK.exec(output);
    const dpkg = apt ? undefined : DPKG_HELD.exec(output);
    if (!apt && !dpkg) return undefined;
    const lock = apt?.[1] ?? '/var/lib/dpkg/lock-frontend';
    const holder = apt ? `process ${apt[2]}${apt[3] ? ` (${apt[3]})` : ''}` : `process ${dpkg?.[1]}`;
    return (
      `${lock} is held by ${holder} and was not released within ${context.lockTimeoutSeconds}s (package-lock-timeout): ` +
      'let it finish (unattended-upgrades usually does within minutes) or stop it, then run the workflow again; a longer package-lock-timeout waits longer'
    );
  };
}

function explainUpdate(context: PackageContext): (output: string) => string | undefined {
  return (output) => {
    const lock = explainLock(context)(output);
    if (lock) return lock;
    const failed = /E: (?:Failed to fetch|The repository|Release file for)[^\n]*|NO_PUBKEY \S+|EXPKEYSIG \S+/.exec(output);
    return failed
      ? `apt-get update of the Kubernetes repository failed (${failed[0].trim()}): check the repository file, its signed-by keyring and that the node reaches pkgs.k8s.io`
      : undefined;
  };
}

const upstreamVersion = (target: string) => target.replace(/-(alpha|beta|rc)/, '~$1');
const pins = (entries: [string, string][]) => entries.map(([name, version]) => `${name}=${version}`);

export const aptPackageManager = {
  name: 'apt',
  family: 'apt',
  tool: 'apt-get',
  repoSearchPaths: APT_REPO_PATHS,

  findRepoFilesCommand: (): string[] => findCoreRepoFilesCommand(APT_REPO_PATHS),
  refreshMetadataCommand: () => undefined,

  installedCommand: (names) => ['dpkg-query', '-W', '-f=${Package}\t${Version}\n', ...names],
  parseInstalled: parseInstalledPackages,
  holdsCommand: () => ['apt-mark', 'showhold'],
  parseHolds: parseAptHolds,
  publishedCommand: (name) => ['apt-cache', 'madison', name],
  parsePublished: parseMadisonPackages,
  targetMinorRead(minor: string, tmp: string, repoText: string): ReadCommand[] {
    // apt's own options point it at an index in `tmp`: the node's sources and lists stay as they are
    const options = [
      '-o',
      `Dir::Etc::sourcelist=${tmp}/k.list`,
      '-o',
      'Dir::Etc::sourceparts=-',
      '-o',
      `Dir::State::Lists=${tmp}/lists`,
      '-o',
      `Dir::Cache=${tmp}/cache`,
    ];
    return [
      { argv: ['sh', '-c', PREPARE_APT_DIR, 'sh', tmp], stdin: `${aptSourceLineFor(minor, parseAptSourceLine(repoText))}\n` },
      { argv: ['apt-get', ...options, 'update'] },
      { argv: ['apt-cache', ...options, 'madison', 'kubeadm'] },
    ];
  },

  listRevisionsCommand: (name) => ['apt-cache', 'madison', name],
  pickRevision: (listing, target) => newestRevisionOf(madisonVersions(listing), upstreamVersion(target)),
  upstreamVersion,
  // the glob matches any packaging revision
  versionPattern: (target) => `${upstreamVersion(target)}-*`,

  installCommand: (names, version, context) => [
    ...APT_ENV,
    'apt-get',
    'install',
    '-y',
    '--allow-change-held-packages',
    ...lockWait(context),
    ...KEEP_CONFFILES,
    ...pins(names.map((n) => [n, version])),
  ],
  installSteps(names, version, context): PackageCommand[] {
    return [
      aptMark('unhold', names, context),
      { argv: updateCommand(context), explain: explainUpdate(context) },
      { argv: aptPackageManager.installCommand(names, version, context), install: true, explain: explainLock(context) },
      aptMark('hold', names, context),
    ];
  },
  // apt-get installs each exact version, up or down, in one transaction: what is installed now does not matter
  downgradeSteps(recorded, _installed, context): PackageCommand[] {
    const names = Object.keys(recorded);
    return [
      aptMark('unhold', names, context),
      { argv: updateCommand(context), explain: explainUpdate(context) },
      {
        argv: [
          ...APT_ENV,
          'apt-get',
          'install',
          '-y',
          '--allow-downgrades',
          '--allow-change-held-packages',
          ...lockWait(context),
          ...KEEP_CONFFILES,
          ...pins(Object.entries(recorded)),
        ],
        install: true,
        explain: explainLock(context),
      },
      aptMark('hold', names, context),
    ];
  },
} as const satisfies PackageManager;
