// Putting kubeadm/kubelet/kubectl back to recorded versions: the recorded repository file first (the minor's
// pkgs.k8s.io repository, switched back when the minor changed), then an explicit-version install that
// allows the downgrade and the held packages, then the holds again.
import type { NodeShell } from '../adapters/transport/node-shell.ts';
import { readVersions } from './collect.ts';
import { runAsRoot } from './remote.ts';
import type { PackageVersions } from './types.ts';

const INSTALL_TIMEOUT_MS = 900_000;

export function versionsDiffer(recorded: PackageVersions, current: PackageVersions): string[] {
  return Object.entries(recorded.packages)
    .filter(([name, version]) => current.packages[name] !== version)
    .map(([name, version]) => `${name} ${current.packages[name] ?? 'missing'} → ${version}`);
}

export async function restoreRepoFile(shell: NodeShell, recorded: PackageVersions): Promise<void> {
  if (!recorded.repoFile) return;
  await runAsRoot(shell, ['sh', '-c', 'cat > "$1"', 'sh', recorded.repoFile.path], 'restoring the repository file', { stdin: recorded.repoFile.content });
}

/** Installs the recorded versions when they differ from what is installed; returns what changed. */
export async function downgradePackages(shell: NodeShell, recorded: PackageVersions): Promise<string[]> {
  const current = await readVersions(shell);
  const changes = versionsDiffer(recorded, current);
  const repoChanged = recorded.repoFile !== undefined && current.repoFile?.content !== recorded.repoFile.content;
  if (repoChanged) await restoreRepoFile(shell, recorded);
  if (changes.length === 0) return [];
  const names = Object.keys(recorded.packages);
  if (recorded.manager === 'apt') {
    await runAsRoot(shell, ['apt-mark', 'unhold', ...names], 'apt-mark unhold');
    await runAsRoot(shell, ['apt-get', 'update'], 'apt-get update', { timeoutMs: INSTALL_TIMEOUT_MS });
    const pins = Object.entries(recorded.packages).map(([n, v]) => `${n}=${v}`);
    await runAsRoot(shell, ['apt-get', 'install', '-y', '--allow-downgrades', '--allow-change-held-packages', ...pins], 'installing the recorded package versions', { timeoutMs: INSTALL_TIMEOUT_MS });
    await runAsRoot(shell, ['apt-mark', 'hold', ...names], 'apt-mark hold');
  } else if (recorded.manager === 'rpm') {
    const pins = Object.entries(recorded.packages).map(([n, v]) => `${n}-${v}`);
    await runAsRoot(shell, ['yum', 'install', '-y', '--disableexcludes=kubernetes', ...pins], 'installing the recorded package versions', { timeoutMs: INSTALL_TIMEOUT_MS });
  } else {
    throw new Error(`${shell.node}: the backup recorded no package manager, so the packages cannot be put back (${changes.join(', ')})`);
  }
  return changes;
}
