// Reads what a node reports (NodeReport) with read-only commands over a NodeShell. Nothing here changes
// the node: the target minor's repository is read into a temporary directory that is removed afterwards.
import pLimit from 'p-limit';
import type { NodeReport } from '../../core/cluster-state.ts';
import type { CommandResult, NodeShell } from '../transport/node-shell.ts';
import {
  DETECTION_SCRIPT,
  choosePackageManager,
  detectionArgs,
  ofMinor,
  parseDetection,
  parseRepoMinor,
  repoFilesFor,
  repoTextFor,
  versionWithoutRevision,
  type PackageManager,
  type PublishedPackage,
} from './packages/manager.ts';
import { IDENTITY_SCRIPT, parseIdentity } from './identity.ts';
import { parseDfAvail, parseFactSections, parseKubeadmShortVersion, parseLogin, parseOsRelease, parseSwapOn } from './probe-parse.ts';

const KUBE_PACKAGES = ['kubeadm', 'kubelet', 'kubectl'];
// Constant scripts: no value from outside is ever part of them (values go in as quoted "$1").
// The cheap facts in one round trip; parseFactSections splits the output at the `@@ name` lines. The package
// managers' tools and repository files come first (DETECTION_SCRIPT, with detectionArgs() as its arguments).
// The probe runs as the login user: a user other than root has no sbin directory on its PATH (swapon lives in
// /usr/sbin), and must get root through `sudo -n` (no terminal, no password) for every change later.
const BASIC_FACTS = [
  'PATH="$PATH:/usr/local/sbin:/usr/sbin:/sbin"',
  DETECTION_SCRIPT,
  'echo "@@ login"; id -u; id -un; if [ "$(id -u)" -ne 0 ]; then sudo -n true </dev/null 2>&1 && echo sudo-ok; fi',
  'echo "@@ os"; cat /etc/os-release 2>/dev/null',
  'echo "@@ swap"; swapon --show --noheadings 2>/dev/null',
  'echo "@@ df-etcd"; df -B1 --output=avail /var/lib/etcd 2>/dev/null',
  'echo "@@ df-kubernetes"; df -B1 --output=avail /etc/kubernetes 2>/dev/null',
  IDENTITY_SCRIPT,
  'true',
].join('\n');
/** Reading a repository index may fetch from the network: give it longer than the other probes. */
const REPO_READ_TIMEOUT_MS = 180_000;

async function output(shell: NodeShell, argv: string[], timeoutMs?: number): Promise<CommandResult> {
  return shell.run(argv, timeoutMs ? { timeoutMs } : {});
}

interface PackageFacts {
  packages: Record<string, string>;
  holds: string[];
  /** what the configured repository offers, with package revisions */
  publishedInRepo: PublishedPackage[];
}

async function readPackageFacts(shell: NodeShell, pm: PackageManager): Promise<PackageFacts> {
  const installed = await output(shell, pm.installedCommand(KUBE_PACKAGES));
  const holds = await output(shell, pm.holdsCommand());
  const published = await output(shell, pm.publishedCommand('kubeadm'), REPO_READ_TIMEOUT_MS);
  return {
    packages: pm.parseInstalled(installed.stdout),
    holds: pm.parseHolds(holds.stdout),
    publishedInRepo: pm.parsePublished(published.stdout),
  };
}

/** Runs `read(tmp)` with a fresh temporary directory on the node, removed afterwards whatever happens. */
async function withTempDir<T>(shell: NodeShell, read: (tmp: string) => Promise<T | undefined>): Promise<T | undefined> {
  const made = await output(shell, ['mktemp', '-d']);
  const tmp = made.stdout.trim();
  if (made.code !== 0 || !/^\/[A-Za-z0-9._/-]+$/.test(tmp)) return undefined;
  try {
    return await read(tmp);
  } finally {
    await output(shell, ['rm', '-rf', '--', tmp]);
  }
}

/** The target minor's repository, read into a temporary directory: the node's repository files and caches stay as they are. */
function readTargetMinor(shell: NodeShell, pm: PackageManager, minor: string, repoText: string): Promise<PublishedPackage[] | undefined> {
  return withTempDir(shell, async (tmp) => {
    let last: CommandResult | undefined;
    for (const command of pm.targetMinorRead(minor, tmp, repoText)) {
      last = await shell.run(command.argv, {
        timeoutMs: REPO_READ_TIMEOUT_MS,
        ...(command.stdin !== undefined ? { stdin: command.stdin } : {}),
      });
      if (last.code !== 0) return undefined;
    }
    return last ? ofMinor(pm.parsePublished(last.stdout), minor) : undefined;
  });
}

/**
 * The repository file already names the target minor while the node's package lists (apt) or metadata cache (dnf)
 * list none of it: a repository switch was interrupted before the lists were refreshed (a failed `apt-get update`,
 * a kill or a dropped connection right after the write). Those lists say nothing about the target minor, so it is
 * read as if the file did not name it yet (read-only, in a temporary directory), and the run refreshes them.
 */
function metadataPredatesRepo(repoMinor: string | undefined, listed: readonly PublishedPackage[], targetMinor: string): boolean {
  return repoMinor === targetMinor && ofMinor([...listed], targetMinor).length === 0;
}

/** Everything plan needs from one node, by read-only commands. `targetMinor` is "1.31". */
export async function probeNode(shell: NodeShell, targetMinor: string | undefined): Promise<NodeReport> {
  const basic = parseFactSections((await output(shell, ['sh', '-c', BASIC_FACTS, 'sh', ...detectionArgs()])).stdout);
  const { tools, repos } = parseDetection(basic);
  const login = parseLogin(basic.login ?? '');
  const pm = choosePackageManager(tools, repos);
  const facts: PackageFacts = pm ? await readPackageFacts(shell, pm) : { packages: {}, holds: [], publishedInRepo: [] };
  const repoText = pm ? repoTextFor(pm, repos) : '';
  const repoMinor = parseRepoMinor(repoText);
  const repoFiles = pm ? repoFilesFor(pm, repos) : [];
  const stale = targetMinor !== undefined && metadataPredatesRepo(repoMinor, facts.publishedInRepo, targetMinor);
  let publishedInTargetMinor: PublishedPackage[] | undefined;
  if (targetMinor && targetMinor === repoMinor && !stale) publishedInTargetMinor = facts.publishedInRepo;
  else if (targetMinor && pm) publishedInTargetMinor = await readTargetMinor(shell, pm, targetMinor, repoText);
  const kubeadm = await output(shell, ['kubeadm', 'version', '-o', 'short']);
  const plain = (name: string) => (facts.packages[name] ? versionWithoutRevision(facts.packages[name]) : undefined);
  return {
    name: shell.node,
    reachable: true,
    packageManager: pm?.name,
    os: parseOsRelease(basic.os ?? ''),
    kubeadmVersion: (kubeadm.code === 0 ? parseKubeadmShortVersion(kubeadm.stdout) : undefined) ?? plain('kubeadm'),
    kubeletVersion: plain('kubelet'),
    kubectlVersion: plain('kubectl'),
    packages: facts.packages,
    holds: facts.holds,
    repoMinor,
    repoFiles,
    publishedInRepo: facts.publishedInRepo.map((p) => p.version),
    publishedInTargetMinor: publishedInTargetMinor?.map((p) => p.version),
    ...(stale ? { repoMetadataStale: true } : {}),
    ...packageVersionsOf([...facts.publishedInRepo, ...(publishedInTargetMinor ?? [])]),
    swapOn: parseSwapOn(basic.swap ?? ''),
    ...(login ? { login } : {}),
    freeBytes: { etcd: parseDfAvail(basic['df-etcd'] ?? ''), kubernetes: parseDfAvail(basic['df-kubernetes'] ?? '') },
    identity: parseIdentity(basic.identity ?? '', basic['machine-id'] ?? ''),
  };
}

/** { publishedPackageVersions } when the listings gave any exact package version. */
function packageVersionsOf(published: PublishedPackage[]): Pick<NodeReport, 'publishedPackageVersions'> {
  if (published.length === 0) return {};
  return { publishedPackageVersions: Object.fromEntries(published.map((p) => [p.version, p.packageVersion])) };
}

export function unreachableReport(name: string, error: string): NodeReport {
  return { name, reachable: false, error, packages: {}, holds: [], publishedInRepo: [], swapOn: false, freeBytes: {} };
}

export interface ProbeTarget {
  name: string;
}

/**
 * Probes every node, `parallelism` at a time: opens its shell, reads, closes it. A node that cannot be
 * reached or read gives reachable:false with the reason; this never throws for one node's failure.
 */
export async function probeNodes<T extends ProbeTarget>(
  nodes: readonly T[],
  open: (node: T) => Promise<NodeShell>,
  options: { parallelism: number; targetMinor?: string },
): Promise<NodeReport[]> {
  const limit = pLimit(Math.max(1, options.parallelism));
  return Promise.all(
    nodes.map((node) =>
      limit(async () => {
        let shell: NodeShell | undefined;
        try {
          shell = await open(node);
          return await probeNode(shell, options.targetMinor);
        } catch (error) {
          const message = error instanceof Error ? error.message : String(error);
          return unreachableReport(node.name, shell ? `reading ${node.name} failed: ${message}` : message);
        } finally {
          await shell?.close().catch(() => undefined);
        }
      }),
    ),
  );
}
