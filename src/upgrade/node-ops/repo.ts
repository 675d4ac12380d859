// The per-minor pkgs.k8s.io repository switch: pkgs.k8s.io serves one repository per minor, so upgrading to
// a new minor rewrites the minor in the node's existing repository file. Everything else in the file stays
// (signed-by, gpgkey, exclude=): pkgs.k8s.io signs every minor with the same key, so the keyring is kept.
import type { PackageManager } from './packages.ts';

const CORE_STABLE = /(pkgs\.k8s\.io\/core:\/stable:\/v)(\d+\.\d+)(\/)/g;

/** Where each package manager keeps its repository files. */
export function repoSearchPaths(pm: PackageManager): string[] {
  return pm === 'apt' ? ['/etc/apt/sources.list.d', '/etc/apt/sources.list'] : ['/etc/yum.repos.d'];
}

/** Lists the repository files that name pkgs.k8s.io (grep prints one path per line; exit 1 = none). */
export function findRepoFilesCommand(pm: PackageManager): string[] {
  return ['grep', '-rlsE', 'pkgs\\.k8s\\.io/core:/stable:/v[0-9]+\\.[0-9]+/', ...repoSearchPaths(pm)];
}

export function readFileCommand(path: string): string[] {
  return ['cat', '--', path];
}

/** Writes stdin to `path` (tee, so a non-root login can do it through sudo). */
export function writeFileCommand(path: string): string[] {
  return ['tee', '--', path];
}

/** Rewrites the minor of every pkgs.k8s.io core:/stable: URL in `path` to `minor` ("1.31"), in place (sed -i renames a new file over the old). */
export function switchRepoMinorCommand(path: string, minor: string): string[] {
  if (!/^\d+\.\d+$/.test(minor)) throw new Error(`not a minor version: ${minor}`);
  return ['sed', '-i', '-E', `s#(pkgs\\.k8s\\.io/core:/stable:/v)[0-9]+\\.[0-9]+/#\\1${minor}/#g`, '--', path];
}

/** Drops cached metadata of the old minor (yum/dnf); apt-get update in the install stage does this for apt. */
export function refreshMetadataCommand(pm: PackageManager): string[] | undefined {
  return pm === 'apt' ? undefined : [pm, 'clean', 'metadata'];
}

/** The minors the file's pkgs.k8s.io lines point at now. */
export function repoMinorsIn(content: string): string[] {
  return [...new Set([...content.matchAll(CORE_STABLE)].map((m) => m[2]!))];
}

/** The file with every pkgs.k8s.io core:/stable: minor set to `minor` ("1.31"). */
export function switchRepoMinor(content: string, minor: string): string {
  return content.replace(CORE_STABLE, (_all, head: string, _old: string, tail: string) => `${head}${minor}${tail}`);
}
