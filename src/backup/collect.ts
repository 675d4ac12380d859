// The files a node's rollback needs, packed by tar on the node into its backup folder, and the installed
// versions of kubeadm/kubelet/kubectl with the pkgs.k8s.io repository file that served them.
import type { NodeShell } from '../adapters/transport/node-shell.ts';
import { existingPaths, remoteFileFacts, runAsRoot, tryAsRoot } from './remote.ts';
import type { PackageVersions } from './types.ts';

const KUBE_PACKAGES = ['kubeadm', 'kubelet', 'kubectl'];
const KUBELET_FILES = ['/var/lib/kubelet/config.yaml', '/var/lib/kubelet/kubeadm-flags.env'];
const CONTROL_PLANE_DIRS = ['/etc/kubernetes/manifests', '/etc/kubernetes/pki'];
const REPO_DIRS = ['/etc/apt/sources.list.d', '/etc/yum.repos.d'];

/** The pkgs.k8s.io repository file(s) of the node. */
export async function repoFiles(shell: NodeShell): Promise<string[]> {
  const found = await tryAsRoot(shell, ['grep', '-rls', 'pkgs.k8s.io', ...REPO_DIRS]);
  return found.stdout.split('\n').filter(Boolean).sort();
}

/** What goes into files.tar: everything on a control plane; kubelet files and the repo file on a worker. */
export async function pathsToCollect(shell: NodeShell, role: 'control-plane' | 'worker'): Promise<string[]> {
  const repos = await repoFiles(shell);
  if (role === 'worker') return existingPaths(shell, [...KUBELET_FILES, ...repos]);
  const kubeconfigs = await runAsRoot(shell, ['find', '/etc/kubernetes', '-maxdepth', '1', '-type', 'f', '-name', '*.conf'], 'listing kubeconfigs');
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
export async function collectFiles(shell: NodeShell, role: 'control-plane' | 'worker', tarPath: string): Promise<{ paths: string[]; file: { size: number; sha256: string } }> {
  const paths = await pathsToCollect(shell, role);
  await packFiles(shell, paths, tarPath);
  return { paths, file: await remoteFileFacts(shell, tarPath) };
}

/** Installed package versions (with revision) and the repository file. */
export async function readVersions(shell: NodeShell): Promise<PackageVersions> {
  const repos = await repoFiles(shell);
  const repoPath = repos[0];
  const repoFile = repoPath ? { path: repoPath, content: await runAsRoot(shell, ['cat', '--', repoPath], 'reading the repository file') } : undefined;
  const dpkg = await tryAsRoot(shell, ['dpkg-query', '-W', '-f=${Package} ${Version}\\n', ...KUBE_PACKAGES]);
  if (dpkg.code === 0 || dpkg.stdout.trim()) return { manager: 'apt', packages: parsePairs(dpkg.stdout), ...(repoFile ? { repoFile } : {}) };
  const rpm = await tryAsRoot(shell, ['rpm', '-q', '--qf', '%{NAME} %{VERSION}-%{RELEASE}\\n', ...KUBE_PACKAGES]);
  if (rpm.code === 0 || /^kube\w+ \d/m.test(rpm.stdout)) return { manager: 'rpm', packages: parsePairs(rpm.stdout), ...(repoFile ? { repoFile } : {}) };
  return { manager: 'unknown', packages: {}, ...(repoFile ? { repoFile } : {}) };
}

function parsePairs(text: string): Record<string, string> {
  const packages: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const [name, version] = line.trim().split(/\s+/);
    if (name && version && KUBE_PACKAGES.includes(name) && /^\d/.test(version)) packages[name] = version;
  }
  return packages;
}
