// apt (Debian, Ubuntu): dpkg-query, apt-mark holds, apt-cache madison, apt-get install of an exact version.
import type { PackageCommand, PackageManager, ReadCommand } from './manager.ts';
import {
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

const upstreamVersion = (target: string) => target.replace(/-(alpha|beta|rc)/, '~$1');
const pins = (entries: [string, string][]) => entries.map(([name, version]) => `${name}=${version}`);

export const aptPackageManager = {
  name: 'apt',
  family: 'apt',
  tool: 'apt-get',
  repoSearchPaths: ['/etc/apt/sources.list.d', '/etc/apt/sources.list'],

  findRepoFilesCommand: () => [
    'grep',
    '-rlsE',
    'pkgs\\.k8s\\.io/core:/stable:/v[0-9]+\\.[0-9]+/',
    '/etc/apt/sources.list.d',
    '/etc/apt/sources.list',
  ],
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

  installCommand: (names, version) => ['apt-get', 'install', '-y', '--allow-change-held-packages', ...pins(names.map((n) => [n, version]))],
  installSteps(names, version): PackageCommand[] {
    return [
      { argv: ['apt-mark', 'unhold', ...names] },
      { argv: ['apt-get', 'update'] },
      { argv: aptPackageManager.installCommand(names, version), install: true },
      { argv: ['apt-mark', 'hold', ...names] },
    ];
  },
  // apt-get installs each exact version, up or down, in one transaction: what is installed now does not matter
  downgradeSteps(recorded: Readonly<Record<string, string>>, _installed: Readonly<Record<string, string>>): PackageCommand[] {
    const names = Object.keys(recorded);
    return [
      { argv: ['apt-mark', 'unhold', ...names] },
      { argv: ['apt-get', 'update'] },
      {
        argv: ['apt-get', 'install', '-y', '--allow-downgrades', '--allow-change-held-packages', ...pins(Object.entries(recorded))],
        install: true,
      },
      { argv: ['apt-mark', 'hold', ...names] },
    ];
  },
} as const satisfies PackageManager;
