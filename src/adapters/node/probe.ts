// Reads what a node reports (NodeReport) with read-only commands over a NodeShell. Nothing here changes
// the node: the target minor's repository is read into a temporary directory that is removed afterwards.
import pLimit from 'p-limit';
import type { NodeReport } from '../../core/cluster-state.ts';
import type { CommandResult, NodeShell } from '../transport/node-shell.ts';
import { repoMinorsIn } from '../../upgrade/node-ops/repo.ts';
import {
  aptSourceLineFor,
  parseAptHolds,
  parseAptSourceLine,
  parseDfAvail,
  parseFactSections,
  parseInstalledPackages,
  parseKubeadmShortVersion,
  ofMinor,
  parseMadisonPackages,
  parseOsRelease,
  parseRepoMinor,
  parseSwapOn,
  parseVersionlockList,
  parseYumListPackages,
  rpmRepoUrlFor,
  versionWithoutRevision,
  type PublishedPackage,
} from './probe-parse.ts';

type PackageManager = NonNullable<NodeReport['packageManager']>;
const KUBE_PACKAGES = ['kubeadm', 'kubelet', 'kubectl'];
// Constant scripts: no value from outside is ever part of them (values go in as quoted "$1").
// The cheap facts in one round trip; parseFactSections splits the output at the `@@ name` lines.
const BASIC_FACTS = [
  'echo "@@ tools"; for t in apt-get dnf yum; do command -v "$t" >/dev/null 2>&1 && echo "$t"; done',
  'echo "@@ repos"; grep -rHs pkgs.k8s.io /etc/apt/sources.list /etc/apt/sources.list.d /etc/yum.repos.d',
  'echo "@@ os"; cat /etc/os-release 2>/dev/null',
  'echo "@@ swap"; swapon --show --noheadings 2>/dev/null',
  'echo "@@ df-etcd"; df -B1 --output=avail /var/lib/etcd 2>/dev/null',
  'echo "@@ df-kubernetes"; df -B1 --output=avail /etc/kubernetes 2>/dev/null',
  'true',
].join('\n');
const PREPARE_APT_DIR = 'mkdir -p "$1/lists/partial" "$1/cache/archives/partial" && cat > "$1/k.list"';
/** The repo file's `exclude=` and versionlock both hide versions from `list`; the plan needs to see them all. */
const RPM_SEE_EVERY_VERSION = ['--disableexcludes=all', '--disableplugin=versionlock'];
/** Reading a repository index may fetch from the network: give it longer than the other probes. */
const REPO_READ_TIMEOUT_MS = 180_000;

async function output(shell: NodeShell, argv: string[], timeoutMs?: number): Promise<CommandResult> {
  return shell.run(argv, timeoutMs ? { timeoutMs } : {});
}

/** pkgs.k8s.io lines of the apt and yum repository files (`grep -H` output: file names tell which is which). */
function splitRepoLines(grepOutput: string): { apt: string; yum: string } {
  const apt: string[] = [];
  const yum: string[] = [];
  for (const line of grepOutput.split('\n')) {
    const colon = line.indexOf(':');
    if (colon < 0) continue;
    (line.startsWith('/etc/yum.repos.d/') ? yum : apt).push(line.slice(colon + 1));
  }
  return { apt: apt.join('\n'), yum: yum.join('\n') };
}

/** The pkgs.k8s.io files of one family (`grep -H` lines), with the core:/stable: minors each names. */
function repoFilesOf(grepOutput: string, family: 'apt' | 'yum'): { path: string; minors: string[] }[] {
  const byPath = new Map<string, string[]>();
  for (const line of grepOutput.split('\n')) {
    const colon = line.indexOf(':');
    if (colon < 0 || line.startsWith('/etc/yum.repos.d/') !== (family === 'yum')) continue;
    const path = line.slice(0, colon);
    byPath.set(path, [...(byPath.get(path) ?? []), line.slice(colon + 1)]);
  }
  return [...byPath].map(([path, lines]) => ({ path, minors: repoMinorsIn(lines.join('\n')) })).filter((f) => f.minors.length > 0);
}

/** The repository configuration decides the family; the tools on PATH decide when none is configured. */
function choosePackageManager(tools: string[], repo: { apt: string; yum: string }): PackageManager | undefined {
  const rpmTool: PackageManager | undefined = tools.includes('dnf') ? 'dnf' : tools.includes('yum') ? 'yum' : undefined;
  if (parseRepoMinor(repo.yum) && rpmTool) return rpmTool;
  if (parseRepoMinor(repo.apt) && tools.includes('apt-get')) return 'apt';
  if (tools.includes('apt-get')) return 'apt';
  return rpmTool;
}

interface PackageFacts {
  packages: Record<string, string>;
  holds: string[];
  /** what the configured repository offers, with package revisions */
  publishedInRepo: PublishedPackage[];
}

async function readAptFacts(shell: NodeShell): Promise<PackageFacts> {
  const installed = await output(shell, ['dpkg-query', '-W', '-f=${Package}\t${Version}\n', ...KUBE_PACKAGES]);
  const holds = await output(shell, ['apt-mark', 'showhold']);
  const madison = await output(shell, ['apt-cache', 'madison', 'kubeadm']);
  return { packages: parseInstalledPackages(installed.stdout), holds: parseAptHolds(holds.stdout), publishedInRepo: parseMadisonPackages(madison.stdout) };
}

async function readRpmFacts(shell: NodeShell, pm: PackageManager): Promise<PackageFacts> {
  const installed = await output(shell, ['rpm', '-q', '--qf', '%{NAME}\t%{VERSION}-%{RELEASE}\n', ...KUBE_PACKAGES]);
  const holds = await output(shell, [pm, 'versionlock', 'list']);
  const list = await output(shell, [pm, 'list', '--showduplicates', ...RPM_SEE_EVERY_VERSION, 'kubeadm'], REPO_READ_TIMEOUT_MS);
  return { packages: parseInstalledPackages(installed.stdout), holds: parseVersionlockList(holds.stdout), publishedInRepo: parseYumListPackages(list.stdout) };
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

/** apt: an index of the target repository in a temporary directory; the node's sources and lists stay as they are. */
function readAptTargetMinor(shell: NodeShell, minor: string, currentLine: string | undefined): Promise<PublishedPackage[] | undefined> {
  return withTempDir(shell, async (tmp) => {
    const options = [
      '-o', `Dir::Etc::sourcelist=${tmp}/k.list`,
      '-o', 'Dir::Etc::sourceparts=-',
      '-o', `Dir::State::Lists=${tmp}/lists`,
      '-o', `Dir::Cache=${tmp}/cache`,
    ];
    const prepared = await shell.run(['sh', '-c', PREPARE_APT_DIR, 'sh', tmp], { stdin: aptSourceLineFor(minor, currentLine) + '\n' });
    if (prepared.code !== 0) return undefined;
    const update = await output(shell, ['apt-get', ...options, 'update'], REPO_READ_TIMEOUT_MS);
    if (update.code !== 0) return undefined;
    const madison = await output(shell, ['apt-cache', ...options, 'madison', 'kubeadm']);
    return madison.code === 0 ? ofMinor(parseMadisonPackages(madison.stdout), minor) : undefined;
  });
}

/** yum/dnf: the target repository added for this one command only, its metadata cached in a temporary directory. */
function readRpmTargetMinor(shell: NodeShell, pm: PackageManager, minor: string): Promise<PublishedPackage[] | undefined> {
  return withTempDir(shell, async (tmp) => {
    const list = await output(
      shell,
      [pm, `--repofrompath=kubernetes-target,${rpmRepoUrlFor(minor)}`, '--repo=kubernetes-target', `--setopt=cachedir=${tmp}`,
        ...RPM_SEE_EVERY_VERSION, 'list', '--showduplicates', 'kubeadm'],
      REPO_READ_TIMEOUT_MS,
    );
    return list.code === 0 ? ofMinor(parseYumListPackages(list.stdout), minor) : undefined;
  });
}

/** Everything plan needs from one node, by read-only commands. `targetMinor` is "1.31". */
export async function probeNode(shell: NodeShell, targetMinor: string | undefined): Promise<NodeReport> {
  const basic = parseFactSections((await output(shell, ['sh', '-c', BASIC_FACTS])).stdout);
  const tools = (basic.tools ?? '').split('\n').map((t) => t.trim()).filter(Boolean);
  const repo = splitRepoLines(basic.repos ?? '');
  const packageManager = choosePackageManager(tools, repo);
  const facts: PackageFacts = !packageManager
    ? { packages: {}, holds: [], publishedInRepo: [] }
    : packageManager === 'apt' ? await readAptFacts(shell) : await readRpmFacts(shell, packageManager);
  const repoMinor = parseRepoMinor(packageManager === 'apt' ? repo.apt : repo.yum);
  const repoFiles = packageManager ? repoFilesOf(basic.repos ?? '', packageManager === 'apt' ? 'apt' : 'yum') : [];
  let publishedInTargetMinor: PublishedPackage[] | undefined;
  if (targetMinor && targetMinor === repoMinor) publishedInTargetMinor = facts.publishedInRepo;
  else if (targetMinor && packageManager === 'apt') publishedInTargetMinor = await readAptTargetMinor(shell, targetMinor, parseAptSourceLine(repo.apt));
  else if (targetMinor && packageManager) publishedInTargetMinor = await readRpmTargetMinor(shell, packageManager, targetMinor);
  const kubeadm = await output(shell, ['kubeadm', 'version', '-o', 'short']);
  const plain = (name: string) => (facts.packages[name] ? versionWithoutRevision(facts.packages[name]) : undefined);
  return {
    name: shell.node,
    reachable: true,
    packageManager,
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
    ...packageVersionsOf([...facts.publishedInRepo, ...(publishedInTargetMinor ?? [])]),
    swapOn: parseSwapOn(basic.swap ?? ''),
    freeBytes: { etcd: parseDfAvail(basic['df-etcd'] ?? ''), kubernetes: parseDfAvail(basic['df-kubernetes'] ?? '') },
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
