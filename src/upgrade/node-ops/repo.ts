// Thin adapters over the package-manager seam (src/adapters/node/packages/manager.ts) for the per-minor
// pkgs.k8s.io repository switch: pkgs.k8s.io serves one repository per minor, so upgrading to a new minor
// rewrites the minor in the node's existing repository file, keeping everything else (signed-by, gpgkey, exclude=).
import { managerFor, type PackageManager } from './packages.ts';

export { repoMinorsIn, switchRepoMinor } from '../../adapters/node/packages/manager.ts';

/** Where each package manager keeps its repository files. */
export function repoSearchPaths(pm: PackageManager): string[] {
  return [...managerFor(pm).repoSearchPaths];
}

/** Lists the repository files that name pkgs.k8s.io (grep prints one path per line; exit 1 = none). */
export function findRepoFilesCommand(pm: PackageManager): string[] {
  return managerFor(pm).findRepoFilesCommand();
}

export function readFileCommand(path: string): string[] {
  return ['cat', '--', path];
}

/** Writes stdin to `path` (tee, so a non-root login can do it through sudo). */
export function writeFileCommand(path: string): string[] {
  return ['tee', '--', path];
}

/** Drops cached metadata of the old minor (yum/dnf); apt-get update in the install stage does this for apt. */
export function refreshMetadataCommand(pm: PackageManager): string[] | undefined {
  return managerFor(pm).refreshMetadataCommand();
}
