// Putting kubeadm/kubelet/kubectl back to recorded versions: the recorded repository file first (the minor's
// pkgs.k8s.io repository, switched back when the minor changed), then the node's package manager's downgrade
// steps (past the hold / versionlock the upgrade set at the newer version, then held / locked again).
import type { KnownPackageManager, PackageCommand } from '../adapters/node/packages/manager.ts';
import type { NodeShell } from '../adapters/transport/node-shell.ts';
import { quoteCommand } from '../adapters/transport/quote.ts';
import { detectPackageManager, readVersionsWith } from './collect.ts';
import { NodeStepError, runAsRoot, tryAsRoot } from './remote.ts';
import type { PackageVersions } from './types.ts';

const INSTALL_TIMEOUT_MS = 900_000;

export function versionsDiffer(recorded: PackageVersions, current: PackageVersions): string[] {
  return Object.entries(recorded.packages)
    .filter(([name, version]) => current.packages[name] !== version)
    .map(([name, version]) => `${name} ${current.packages[name] ?? 'missing'} → ${version}`);
}

export async function restoreRepoFile(shell: NodeShell, recorded: PackageVersions): Promise<void> {
  if (!recorded.repoFile) return;
  await runAsRoot(shell, ['sh', '-c', 'cat > "$1"', 'sh', recorded.repoFile.path], 'restoring the repository file', {
    stdin: recorded.repoFile.content,
  });
}

/** Runs one package step as root; a failure its `tolerate` expects is not an error. */
async function runPackageStep(shell: NodeShell, step: PackageCommand): Promise<void> {
  let result = await tryAsRoot(shell, step.argv, { timeoutMs: INSTALL_TIMEOUT_MS });
  const giveUpAt = Date.now() + (step.retryWhile?.forSeconds ?? 0) * 1000;
  while (result.code !== 0 && step.retryWhile?.pattern.test(`${result.stdout}\n${result.stderr}`) && Date.now() < giveUpAt) {
    await new Promise((resolve) => setTimeout(resolve, 2000));
    result = await tryAsRoot(shell, step.argv, { timeoutMs: INSTALL_TIMEOUT_MS });
  }
  const output = `${result.stdout}\n${result.stderr}`;
  if (result.code === 0 || step.tolerate?.test(output)) return;
  const what = step.install
    ? `installing the recorded package versions (\`${quoteCommand(step.argv)}\`)`
    : `\`${quoteCommand(step.argv)}\``;
  const why = step.explain?.(output);
  throw new NodeStepError(shell.node, why ? `${what}: ${why}` : what, result);
}

/**
 * Installs the recorded versions when they differ from what is installed; returns what changed. `pm` is the
 * node's package manager when the caller already chose it (detected here otherwise).
 */
export async function downgradePackages(
  shell: NodeShell,
  recorded: PackageVersions,
  lockTimeoutSeconds: number,
  pm?: KnownPackageManager,
): Promise<string[]> {
  const manager = pm ?? (await detectPackageManager(shell));
  const current = await readVersionsWith(shell, manager);
  const changes = versionsDiffer(recorded, current);
  const repoChanged = recorded.repoFile !== undefined && current.repoFile?.content !== recorded.repoFile.content;
  if (repoChanged) await restoreRepoFile(shell, recorded);
  if (changes.length === 0) return [];
  if (recorded.manager === 'unknown') {
    throw new Error(`${shell.node}: the backup recorded no package manager, so the packages cannot be put back (${changes.join(', ')})`);
  }
  if (!manager || manager.family !== recorded.manager) {
    throw new Error(
      `${shell.node}: the backup recorded ${recorded.manager} packages, but the node's package manager is ${manager?.name ?? 'none that this action knows'}, so the packages cannot be put back (${changes.join(', ')})`,
    );
  }
  const context = { repoFiles: [recorded.repoFile?.path ?? current.repoFile?.path].filter((p) => p !== undefined), lockTimeoutSeconds };
  for (const step of manager.downgradeSteps(recorded.packages, current.packages, context)) await runPackageStep(shell, step);
  return changes;
}
