// `sim status`: the cluster as the API sees it and as each node's files say, plus which processes live.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createKubeClient, loadKubeconfig } from '../lib/kube-rest.ts';
import { heldKubePackages, installedKubePackages, type InstalledKube } from '../node/package-db.ts';
import { nodePaths, readClusterSpec, type ClusterSpec, type NodeState, type SimNodeSpec } from '../node/spec.ts';
import { accessPaths } from './access-files.ts';
import { repoFile } from './configs.ts';
import { clusterProcesses, livePid } from './processes.ts';

export interface NodeStatus {
  name: string;
  role: SimNodeSpec['role'];
  address: string;
  os: SimNodeSpec['os'];
  /** from the API; null when the API did not answer or the Node is missing */
  ready: boolean | null;
  kubeletVersion: string | null;
  cordoned: boolean | null;
  /** kubeadm/kubelet/kubectl as the node's package database has them installed (upstream versions) */
  packages: InstalledKube | null;
  /** held (apt-mark) or versionlocked (dnf) kube packages, sorted */
  holds: string[];
  /** the kubelet service as systemctl's stand-in left it (state.json) */
  kubelet: NodeState['kubelet'] | null;
  /** the minor its package repository file points at, e.g. "1.30"; null when the file is gone */
  repoMinor: string | null;
  commands: unknown[];
}

export interface ClusterStatus {
  dir: string;
  apiServer: string;
  nodes: NodeStatus[];
  apiOnlyNodes: number | null;
  /** the API server's /sim/status (min Ready replicas per budgeted workload), null when it did not answer */
  workloads: unknown;
  apiError?: string;
  processes: { name: string; pid: number | null; alive: boolean }[];
}

interface ApiNode {
  metadata: { name: string };
  spec?: { unschedulable?: boolean };
  status?: { conditions?: { type: string; status: string }[]; nodeInfo?: { kubeletVersion?: string } };
}

function readText(file: string): string | undefined {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
}

function repoMinorOf(spec: ClusterSpec, node: SimNodeSpec): string | null {
  const text = readText(join(spec.dir, 'nodes', node.name, 'upper', repoFile(node).path));
  return text?.match(/core:\/stable:\/v(\d+\.\d+)\//)?.[1] ?? null;
}

function orNull<T>(read: () => T): T | null {
  try {
    return read();
  } catch {
    return null;
  }
}

function commandsOf(file: string): unknown[] {
  return (readText(file) ?? '')
    .split('\n')
    .filter((l) => l.trim())
    .map((line) => {
      try {
        return JSON.parse(line) as unknown;
      } catch {
        return { unparsed: line };
      }
    });
}

function nodeStatus(spec: ClusterSpec, node: SimNodeSpec, apiNode: ApiNode | undefined, apiAnswered: boolean): NodeStatus {
  const paths = nodePaths(spec.dir, node.name);
  let state: NodeState | undefined;
  try {
    state = JSON.parse(readText(paths.stateFile) ?? '') as NodeState;
  } catch {
    state = undefined;
  }
  const ready = apiNode?.status?.conditions?.find((c) => c.type === 'Ready')?.status === 'True';
  return {
    name: node.name,
    role: node.role,
    address: node.address,
    os: node.os,
    ready: apiAnswered && apiNode ? ready : null,
    kubeletVersion: apiNode?.status?.nodeInfo?.kubeletVersion ?? null,
    cordoned: apiNode ? apiNode.spec?.unschedulable === true : null,
    packages: orNull(() => installedKubePackages(paths, node.os)),
    holds: orNull(() => heldKubePackages(paths, node.os)) ?? [],
    kubelet: state?.kubelet ?? null,
    repoMinor: repoMinorOf(spec, node),
    commands: commandsOf(paths.commandsLog),
  };
}

export async function clusterStatus(dir: string): Promise<ClusterStatus> {
  const spec = readClusterSpec(dir);
  let apiNodes: ApiNode[] = [];
  let workloads: unknown = null;
  let apiError: string | undefined;
  let apiAnswered = false;
  const kube = createKubeClient(loadKubeconfig(accessPaths(dir).kubeconfig));
  try {
    apiNodes = ((await kube.list('/api/v1/nodes')) as { items: ApiNode[] }).items;
    apiAnswered = true;
    const sim = await kube.request('GET', '/sim/status', undefined, { timeoutMs: 5000 });
    workloads = sim.status === 200 ? sim.body : null;
  } catch (err) {
    apiError = (err as Error).message;
  } finally {
    kube.close();
  }
  const byName = new Map(apiNodes.map((n) => [n.metadata.name, n]));
  const sshNames = new Set(spec.nodes.map((n) => n.name));
  return {
    dir: spec.dir,
    apiServer: spec.apiServer.url,
    nodes: spec.nodes.map((node) => nodeStatus(spec, node, byName.get(node.name), apiAnswered)),
    apiOnlyNodes: apiAnswered ? apiNodes.filter((n) => !sshNames.has(n.metadata.name)).length : null,
    workloads,
    ...(apiError ? { apiError } : {}),
    processes: clusterProcesses(spec).map((proc) => {
      const pid = livePid(proc, spec.dir) ?? null;
      return { name: proc.name, pid, alive: pid !== null };
    }),
  };
}
