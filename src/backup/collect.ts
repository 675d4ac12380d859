// The files a node's rollback needs, packed by tar on the node into its backup folder, and the installed
// versions of kubeadm/kubelet/kubectl with the pkgs.k8s.io repository file that served them.
import {
  DETECTION_SCRIPT,
  allRepoSearchPaths,
  choosePackageManager,
  detectionArgs,
  findCoreRepoFilesCommand,
  parseDetection,
  type KnownPackageManager,
} from '../adapters/node/packages/manager.ts';
import { parseFactSections } from '../adapters/node/probe-parse.ts';
import type { NodeShell } from '../adapters/transport/node-shell.ts';
import { existingPaths, remoteFileFacts, runAsRoot, tryAsRoot } from './remote.ts';
import type { PackageVersions } from './types.ts';

const KUBE_PACKAGES = ['kubeadm', 'kubelet', 'kubectl'];
const KUBELET_FILES = ['/var/lib/kubelet/config.yaml', '/var/lib/kubelet/kubeadm-flags.env'];
const CONTROL_PLANE_DIRS = ['/etc/kubernetes/manifests', '/etc/kubernetes/pki'];

/** The node's repository file(s) naming a pkgs.k8s.io core repository (as the probe finds them). */
export async function repoFiles(shell: NodeShell): Promise<string[]> {
  const found = await tryAsRoot(shell, findCoreRepoFilesCommand(allRepoSearchPaths()));
  return found.stdout.split('\n').filter(Boolean).sort();
}

/** What goes into files.tar: everything on a control plane; kubelet files and the repo file on a worker. */
export async function pathsToCollect(shell: NodeShell, role: 'control-plane' | 'worker'): Promise<string[]> {
  const repos = await repoFiles(shell);
  if (role === 'worker') return existingPaths(shell, [...KUBELET_FILES, ...repos]);
  const kubeconfigs = await runAsRoot(
    shell,
    ['find', '/etc/kubernetes', '-maxdepth', '1', '-type', 'f', '-name', '*.conf'],
    'listing kubeconfigs',
  );
  const wanted = [...CONTROL_PLANE_DIRS, ...kubeconfigs.split('\n').filter(Boolean).sort(), ...KUBELET_FILES, ...repos];
  return existingPaths(shell, wanted);
}

/** Packs the paths (absolute) into a tar file on the node, with paths relative to / as tar stores them. */
export async function packFiles(shell: NodeShell, paths: readonly string[], tarPath: string): Promise<void> {
  if (paths.length === 0) throw new Error(`nothing to back up on ${shell.node}: none of the kubeadm files exist`);
  const relative = paths.map((p) => p.replace(/^\/+/, ''));
  await runAsRoot(shell, ['tar', '-cf', tarPath, '-C', '/', '--', ...relative], 'packing the files');
}

/** Packs this node's kubeadm files into tarPath on the node and checksums the result. */
export async function collectFiles(
  shell: NodeShell,
  role: 'control-plane' | 'worker',
  tarPath: string,
): Promise<{ paths: string[]; file: { size: number; sha256: string } }> {
  const paths = await pathsToCollect(shell, role);
  await packFiles(shell, paths, tarPath);
  return { paths, file: await remoteFileFacts(shell, tarPath) };
}

/** The node's package manager, chosen from the tools on its PATH and its pkgs.k8s.io repository files. */
export async function detectPackageManager(shell: NodeShell): Promise<KnownPackageManager | undefined> {
  const out = await runAsRoot(shell, ['sh', '-c', DETECTION_SCRIPT, 'sh', ...detectionArgs()], 'finding the package manager');
  const { tools, repos } = parseDetection(parseFactSections(out));
  return choosePackageManager(tools, repos);
}

/** Installed package versions (with revision) and the repository file. */
export async function readVersions(shell: NodeShell): Promise<PackageVersions> {
  return readVersionsWith(shell, await detectPackageManager(shell));
}

/** readVersions through a package manager already chosen for this node (undefined: the node has none). */
export async function readVersionsWith(shell: NodeShell, pm: KnownPackageManager | undefined): Promise<PackageVersions> {
  const repos = await repoFiles(shell);
  const repoPath = repos[0];
  const repoFile = repoPath
    ? { path: repoPath, content: await runAsRoot(shell, ['cat', '--', repoPath], 'reading the repository file') }
    : undefined;
  if (!pm) return { manager: 'unknown', packages: {}, ...(repoFile ? { repoFile } : {}) };
  const installed = pm.parseInstalled((await tryAsRoot(shell, pm.installedCommand(KUBE_PACKAGES))).stdout);
  const packages = Object.fromEntries(Object.entries(installed).filter(([name]) => KUBE_PACKAGES.includes(name)));
  return { manager: pm.family, packages, ...(repoFile ? { repoFile } : {}) };
}
