// Helpers the stage files share: the package install sequence (through the node's package manager) and the
// exact-version choice, so kubeadm-install and kubelet-install describe their commands the same way.
import { installPackages, listRevisionsCommand, pickRevision, planRevision } from '../node-ops/packages.ts';
import type { CommandStep, RuntimeArg, StageInput } from '../types.ts';

/** How long a package command may take (downloads on slow mirrors). */
export const PACKAGE_TIMEOUT_MS = 10 * 60_000;

export const minorOf = (version: string): string => version.split('.').slice(0, 2).join('.');

/**
 * unhold → install the exact revision → hold, as the node's package manager does it. The exact revision is the
 * plan's (read from every node's repository listing when the plan was made); when the plan has none, the node's
 * repository listing is read right before the install, and the plan shows the revision as resolved at run time.
 */
export function packageSteps(input: StageInput, names: string[]): CommandStep[] {
  const pm = input.job.packageManager;
  const planned = planRevision(pm, input.target.packageVersions);
  const revision: string | RuntimeArg = planned ?? { runtime: 'revision', shown: `<the ${input.target.version} revision the node lists>` };
  const commands = installPackages(pm, names, revision);
  const steps: CommandStep[] = commands.map((c) => ({
    kind: 'command' as const,
    argv: c.argv,
    rerunOnDrop: true,
    timeoutMs: PACKAGE_TIMEOUT_MS,
    ...(c.tolerate ? { tolerate: { pattern: c.tolerate, reason: c.tolerateReason ?? 'expected' } } : {}),
  }));
  if (planned) return steps;
  const listing: CommandStep = {
    kind: 'command',
    argv: listRevisionsCommand(pm, names[0]!),
    rerunOnDrop: true,
    timeoutMs: PACKAGE_TIMEOUT_MS,
    capture: {
      name: 'revision',
      parse: (stdout) => pickRevision(pm, stdout, input.target.version),
      missing: `${names[0]} ${input.target.version} is not offered by the node's package repository (no ${input.target.version}-* revision listed), and the plan has no exact revision for ${pm}`,
    },
  };
  // the listing goes right before the install: after apt-get update, so it sees the target minor's repository
  const at = commands.findIndex((c) => c.install);
  return [...steps.slice(0, at), listing, ...steps.slice(at)];
}
