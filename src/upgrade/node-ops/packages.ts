// Package-manager commands as argument vectors: unhold → install the exact revision → hold, for apt
// (apt-mark) and yum/dnf (versionlock, with the repo's exclude= lifted by --disableexcludes=kubernetes).

export type PackageManager = 'apt' | 'yum' | 'dnf';

/** One command of a package step; `tolerate` says which failures are expected and harmless. */
export interface PackageCommand {
  argv: string[];
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

export function installCommand(pm: PackageManager, names: string[], version: string): string[] {
  return pm === 'apt'
    ? ['apt-get', 'install', '-y', '--allow-change-held-packages', ...names.map((n) => `${n}=${version}`)]
    : [pm, 'install', '-y', ...names.map((n) => `${n}-${version}`), '--disableexcludes=kubernetes'];
}

/** The plan's exact package version for this package manager; yum and dnf share the rpm revisions. */
export function planRevision(pm: PackageManager, revisions: Partial<Record<PackageManager, string>>): string | undefined {
  return revisions[pm] ?? (pm === 'dnf' ? revisions.yum : pm === 'yum' ? revisions.dnf : undefined);
}

/** The exact version an install uses, where it came from, and a line for the stage's log saying so. */
export interface InstallVersion {
  version: string;
  source: 'plan' | 'node';
  note: string;
}

/**
 * The exact version to install `name` at: the plan's revision (resolved from every node's repository listing
 * when the plan was made), else the revision the node's repository offers for the target, read right before the
 * install by `list` (which runs listRevisionsCommand), so a node never gets an unpinned "newest" revision.
 * Throws when neither names one.
 */
export async function chooseInstallVersion(
  pm: PackageManager, name: string, target: string, revisions: Partial<Record<PackageManager, string>>, list: () => Promise<string>,
): Promise<InstallVersion> {
  const planned = planRevision(pm, revisions);
  if (planned) return { version: planned, source: 'plan', note: `exact version ${planned}: the plan's revision for ${pm}` };
  const command = listRevisionsCommand(pm, name).join(' ');
  const found = pickRevision(pm, await list(), target);
  if (!found) throw new Error(`${name} ${target} is not offered by the package repository (\`${command}\` lists no ${target}-* revision), and the plan has no exact revision for ${pm}`);
  return { version: found, source: 'node', note: `exact version ${found}: read from the node's repository just now (\`${command}\`), as the plan has no exact revision for ${pm}` };
}

/** The exact version to ask for: the plan's package revision, or every revision of the target when unknown. */
export function packageVersion(pm: PackageManager, target: string, revisions: Partial<Record<PackageManager, string>>): string {
  const exact = planRevision(pm, revisions);
  if (exact) return exact;
  // Debian sorts pre-releases with "~" (1.32.0~rc.1); the glob matches any packaging revision.
  return pm === 'apt' ? `${target.replace(/-(alpha|beta|rc)/, '~$1')}-*` : `${target}-*`;
}

const NO_VERSIONLOCK = /No such command|Unknown versionlock|versionlock.*not (found|installed)/i;

/** Commands that install `names` at exactly the target version and hold them there. */
export function installPackages(pm: PackageManager, names: string[], target: string, revisions: Partial<Record<PackageManager, string>>): PackageCommand[] {
  const version = packageVersion(pm, target, revisions);
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
