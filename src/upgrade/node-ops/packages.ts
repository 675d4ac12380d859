// Package-manager commands as argument vectors: unhold → install the exact revision → hold, for apt
// (apt-mark) and yum/dnf (versionlock, with the repo's exclude= lifted by --disableexcludes=kubernetes).

export type PackageManager = 'apt' | 'yum' | 'dnf';

/** One command of a package step; `tolerate` says which failures are expected and harmless. */
export interface PackageCommand {
  argv: (string | LateArg)[];
  /** a failure whose output matches this is not an error (e.g. nothing was locked) */
  tolerate?: RegExp;
  /** why a tolerated failure is fine, for the log */
  tolerateReason?: string;
  /** the install itself (its version may be pinned to the node's exact revision just before it runs) */
  install?: boolean;
}

/** Lists the versions (with packaging revision) the node's repository offers for one package. */
export function listRevisionsCommand(pm: PackageManager, name: string): string[] {
  return pm === 'apt' ? ['apt-cache', 'madison', name] : [pm, 'list', '--showduplicates', '--disableexcludes=kubernetes', name];
}

/** The exact package version ("1.31.4-1.1") for `target` in that listing, when there is one. */
export function pickRevision(pm: PackageManager, listing: string, target: string): string | undefined {
  const upstream = pm === 'apt' ? target.replace(/-(alpha|beta|rc)/, '~$1') : target;
  const versions = listing.split('\n').map((line) => (pm === 'apt' ? line.split('|')[1] : line.trim().split(/\s+/)[1])?.trim().replace(/^\d+:/, '') ?? '');
  return versions.find((v) => v.startsWith(`${upstream}-`));
}

/** An argument the stage fills in at run time (an exact revision read on the node). */
export interface LateArg {
  /** the captured value's name */
  runtime: string;
  /** put before the value ("kubeadm=") */
  prefix?: string;
  shown: string;
}

/** `name=version` / `name-version`; a version read at run time stays a LateArg that says how to form the word. */
function pin(pm: PackageManager, name: string, version: string | LateArg): string | LateArg {
  const sep = pm === 'apt' ? '=' : '-';
  if (typeof version === 'string') return `${name}${sep}${version}`;
  return { runtime: version.runtime, prefix: `${name}${sep}`, shown: `${name}${sep}${version.shown}` };
}

export function installCommand(pm: PackageManager, names: string[], version: string | LateArg): (string | LateArg)[] {
  return pm === 'apt'
    ? ['apt-get', 'install', '-y', '--allow-change-held-packages', ...names.map((n) => pin(pm, n, version))]
    : [pm, 'install', '-y', ...names.map((n) => pin(pm, n, version)), '--disableexcludes=kubernetes'];
}

/** The plan's exact package version for this package manager; yum and dnf share the rpm revisions. */
export function planRevision(pm: PackageManager, revisions: Partial<Record<PackageManager, string>>): string | undefined {
  return revisions[pm] ?? (pm === 'dnf' ? revisions.yum : pm === 'yum' ? revisions.dnf : undefined);
}

const NO_VERSIONLOCK = /No such command|Unknown versionlock|versionlock.*not (found|installed)/i;

/** Commands that install `names` at exactly `version` (a package revision) and hold them there. */
export function installPackages(pm: PackageManager, names: string[], version: string | LateArg): PackageCommand[] {
  if (pm === 'apt') {
    return [
      { argv: ['apt-mark', 'unhold', ...names] },
      { argv: ['apt-get', 'update'] },
      { argv: installCommand(pm, names, version), install: true },
      { argv: ['apt-mark', 'hold', ...names] },
    ];
  }
  return [
    {
      argv: [pm, 'versionlock', 'delete', ...names],
      tolerate: new RegExp(`No package found|${NO_VERSIONLOCK.source}`, 'i'),
      tolerateReason: 'nothing was locked (or the versionlock plugin is absent)',
    },
    { argv: installCommand(pm, names, version), install: true },
    {
      argv: [pm, 'versionlock', 'add', ...names],
      tolerate: NO_VERSIONLOCK,
      tolerateReason: 'the versionlock plugin is not installed; the repository\'s exclude= line keeps the packages from moving',
    },
  ];
}
