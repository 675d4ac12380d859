// Thin adapters over the package-manager seam (src/adapters/node/packages/manager.ts) for the stage code, which
// still passes the manager's name: each call looks the manager up and asks it. Nothing here branches on apt vs
// rpm. New code should hold the PackageManager itself (packageManagerNamed once per node) instead.
import { packageManagerNamed, planRevision as seamPlanRevision, type PackageCommand, type PackageManager as Manager } from '../../adapters/node/packages/manager.ts';

export type { PackageCommand, PackageManagerName as PackageManager } from '../../adapters/node/packages/manager.ts';
import type { PackageManagerName as PackageManager } from '../../adapters/node/packages/manager.ts';

export function managerFor(pm: string): Manager {
  const manager = packageManagerNamed(pm);
  if (!manager) throw new Error(`unknown package manager "${pm}"`);
  return manager;
}

/** Lists the versions (with packaging revision) the node's repository offers for one package. */
export function listRevisionsCommand(pm: PackageManager, name: string): string[] {
  return managerFor(pm).listRevisionsCommand(name);
}

/** The exact package version ("1.31.4-1.1") for `target` in that listing, when there is one. */
export function pickRevision(pm: PackageManager, listing: string, target: string): string | undefined {
  return managerFor(pm).pickRevision(listing, target);
}

export function installCommand(pm: PackageManager, names: string[], version: string): string[] {
  return managerFor(pm).installCommand(names, version);
}

/** The plan's exact package version for this package manager; managers of one family (dnf, yum) share revisions. */
export function planRevision(pm: PackageManager, revisions: Partial<Record<PackageManager, string>>): string | undefined {
  return seamPlanRevision(managerFor(pm), revisions);
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
  const manager = managerFor(pm);
  const planned = seamPlanRevision(manager, revisions);
  if (planned) return { version: planned, source: 'plan', note: `exact version ${planned}: the plan's revision for ${pm}` };
  const command = manager.listRevisionsCommand(name).join(' ');
  const found = manager.pickRevision(await list(), target);
  if (!found) throw new Error(`${name} ${target} is not offered by the package repository (\`${command}\` lists no ${target}-* revision), and the plan has no exact revision for ${pm}`);
  return { version: found, source: 'node', note: `exact version ${found}: read from the node's repository just now (\`${command}\`), as the plan has no exact revision for ${pm}` };
}

/** The exact version to ask for: the plan's package revision, or every revision of the target when unknown. */
export function packageVersion(pm: PackageManager, target: string, revisions: Partial<Record<PackageManager, string>>): string {
  const manager = managerFor(pm);
  return seamPlanRevision(manager, revisions) ?? manager.versionPattern(target);
}

/** Commands that install `names` at exactly the target version and hold them there. */
export function installPackages(pm: PackageManager, names: string[], target: string, revisions: Partial<Record<PackageManager, string>>): PackageCommand[] {
  return managerFor(pm).installSteps(names, packageVersion(pm, target, revisions));
}
