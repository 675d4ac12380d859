// Helpers the stage files share: the package install sequence (through the node's package manager) and the
// exact-version choice, so kubeadm-install and kubelet-install describe their commands the same way.
import { packageManagerNamed, planRevision, type PackageContext, type PackageManager } from '../../adapters/node/packages/manager.ts';
import type { CommandStep, RuntimeArg, StageInput } from '../types.ts';

/** How long a package command may take (downloads on slow mirrors). */
export const PACKAGE_TIMEOUT_MS = 10 * 60_000;

export const minorOf = (version: string): string => version.split('.').slice(0, 2).join('.');

/** The node's package manager (chosen once, by the probe). */
export function managerOf(input: StageInput): PackageManager {
  const pm = packageManagerNamed(input.job.packageManager);
  if (!pm) throw new Error(`${input.job.name}: unknown package manager ${input.job.packageManager}`);
  return pm;
}

/** What the node's package commands need: its repository files (probed) and the package-lock-timeout. */
export function packageContext(input: StageInput): PackageContext {
  return { repoFiles: input.node.repoFiles.map((f) => f.path), lockTimeoutSeconds: Math.ceil(input.packageLockTimeoutMs / 1000) };
}

/** Stands for a revision read on the node at run time while the manager builds its argv. */
const LATE = '\u0000revision\u0000';

/**
 * unhold → install the exact revision → hold, as the node's package manager does it. The exact revision is the
 * plan's (read from every node's repository listing when the plan was made); when the plan has none, the node's
 * repository listing is read right before the install, and the plan shows the revision as resolved at run time.
 */
export function packageSteps(input: StageInput, names: string[]): CommandStep[] {
  const pm = managerOf(input);
  const planned = planRevision(pm, input.target.packageVersions);
  const shown = `<the ${input.target.version} revision the node lists>`;
  const late = (arg: string): string | RuntimeArg => {
    if (!arg.includes(LATE)) return arg;
    if (!arg.endsWith(LATE)) throw new Error(`cannot place a run-time revision inside ${JSON.stringify(arg)}`);
    return { runtime: 'revision', prefix: arg.slice(0, -LATE.length), shown: arg.replace(LATE, shown) };
  };
  const commands = pm.installSteps(names, planned ?? LATE, packageContext(input));
  const steps: CommandStep[] = commands.map((c) => ({
    kind: 'command' as const,
    argv: c.argv.map(late),
    rerunOnDrop: true,
    // the lock wait comes on top of the command's own time
    timeoutMs: PACKAGE_TIMEOUT_MS + input.packageLockTimeoutMs,
    ...(c.explain ? { explain: c.explain } : {}),
    ...(c.retryWhile ? { retry: { while: c.retryWhile.pattern, forMs: c.retryWhile.forSeconds * 1000 } } : {}),
    ...(c.tolerate ? { tolerate: { pattern: c.tolerate, reason: c.tolerateReason ?? 'expected' } } : {}),
  }));
  // Metadata that predates the repository switch (NodeReport.repoMetadataStale) is dropped before the install too,
  // even when an earlier run recorded repo-switch done (its refresh may fail without failing it); apt's installSteps
  // run apt-get update anyway.
  const refresh = input.node.repoMetadataStale ? pm.refreshMetadataCommand() : undefined;
  if (refresh) steps.unshift({ kind: 'command', argv: refresh, rerunOnDrop: true, allowFailure: true });
  if (planned) return steps;
  const listing: CommandStep = {
    kind: 'command',
    argv: pm.listRevisionsCommand(names[0]!),
    rerunOnDrop: true,
    timeoutMs: PACKAGE_TIMEOUT_MS,
    capture: {
      name: 'revision',
      parse: (stdout) => pm.pickRevision(stdout, input.target.version),
      missing: `${names[0]} ${input.target.version} is not offered by the node's package repository (no ${input.target.version}-* revision listed), and the plan has no exact revision for ${pm.name}`,
    },
  };
  // the listing goes right before the install: after apt-get update, so it sees the target minor's repository
  const at = commands.findIndex((c) => c.install);
  return [...steps.slice(0, at), listing, ...steps.slice(at)];
}
