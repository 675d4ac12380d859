// The parts of the simulator contract (sim/README.md) a node's runtime reads: ClusterSpec,
// NodeState, and where a node's files live. Kept local so the node runtime starts without the CLI.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

export interface SimNodeSpec {
  name: string;
  role: 'control-plane' | 'worker';
  address: string;
  sshPort: number;
  os: 'debian' | 'rhel';
  version: string;
  zone: string;
}

export interface ClusterSpec {
  name: string;
  dir: string;
  subnet: string;
  apiServer: { address: string; port: number; url: string };
  version: string;
  published: string[];
  nodes: SimNodeSpec[];
  apiOnlyWorkers: number;
  podsPerNode: number;
  workload: 'none' | 'demo';
  /**
   * kubeletRestartMs: NotReady time after `systemctl restart kubelet`; podStartMs: bound pod → Running/Ready;
   * podStopMs: how long a deleted pod's containers take to exit (the grace period is only the upper bound,
   * as with a real kubelet whose containers stop on SIGTERM; a pod annotated IGNORES_SIGTERM_ANNOTATION stays
   * its whole grace period); heartbeatMs: node status interval; podReadyMs: a started pod's readiness delay
   * (Running, not Ready, this long after podStartMs); apiServerRestartMs: how long kube-apiserver is away
   * when the kubelet restarts it for a changed static pod manifest (one control plane: connections refused;
   * several: a share of new connections reset).
   */
  delays: {
    kubeletRestartMs: number;
    podStartMs: number;
    podStopMs: number;
    heartbeatMs: number;
    podReadyMs?: number;
    apiServerRestartMs?: number;
  };
  node24: string;
  repoRoot: string;
}

export interface NodeState {
  packages: { kubeadm: string; kubelet: string; kubectl: string };
  holds: string[];
  /**
   * yum/dnf versionlock: the version ("1.30.5") each lock pins, written by `versionlock add` as dnf writes the
   * installed version into its lock list. A held name without an entry is locked at its installed version (how
   * the simulator's nodes start).
   */
  versionlocks?: Record<string, string>;
  kubelet: { active: boolean; version: string };
  swap: boolean;
}

/** Paths of one node's files under DIR/nodes/NAME. */
export interface NodePaths {
  nodeDir: string;
  upperEtc: string;
  upperVar: string;
  workEtc: string;
  workVar: string;
  bin: string;
  stateFile: string;
  stateLock: string;
  commandsLog: string;
  sshdConfig: string;
  sshdLog: string;
  hostKey: string;
  pidFile: string;
  etcdLog: string;
}

export function nodePaths(dir: string, node: string): NodePaths {
  const nodeDir = join(dir, 'nodes', node);
  return {
    nodeDir,
    upperEtc: join(nodeDir, 'upper', 'etc'),
    upperVar: join(nodeDir, 'upper', 'var'),
    workEtc: join(nodeDir, 'work', 'etc'),
    workVar: join(nodeDir, 'work', 'var'),
    bin: join(nodeDir, 'bin'),
    stateFile: join(nodeDir, 'state.json'),
    stateLock: join(nodeDir, 'state.lock'),
    commandsLog: join(nodeDir, 'commands.log'),
    sshdConfig: join(nodeDir, 'sshd_config'),
    sshdLog: join(nodeDir, 'sshd.log'),
    hostKey: join(nodeDir, 'ssh_host_ed25519_key'),
    pidFile: join(nodeDir, 'supervisor.pid'),
    etcdLog: join(nodeDir, 'etcd.log'),
  };
}

export function readJsonFile<T>(file: string, what: string): T {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new Error(`cannot read ${what} at ${file}: ${(err as Error).message}`);
  }
  try {
    return JSON.parse(text) as T;
  } catch (err) {
    throw new Error(`${what} at ${file} is not valid JSON: ${(err as Error).message}`);
  }
}

export function readClusterSpec(dir: string): ClusterSpec {
  return readJsonFile<ClusterSpec>(join(dir, 'cluster.json'), 'ClusterSpec');
}

export function findNodeSpec(cluster: ClusterSpec, node: string): SimNodeSpec {
  if (!Array.isArray(cluster.nodes)) throw new Error('cluster.json has no "nodes" list (see sim/README.md, ClusterSpec)');
  const spec = cluster.nodes.find((n) => n.name === node);
  if (!spec) {
    const known = cluster.nodes.map((n) => n.name).join(', ');
    throw new Error(`node ${node} is not in cluster.json (nodes: ${known || 'none'})`);
  }
  return spec;
}

export function readNodeState(paths: NodePaths): NodeState {
  return readJsonFile<NodeState>(paths.stateFile, 'NodeState');
}

/**
 * Node's compile cache for the simulator's many short-lived processes (every SSH command starts the forced
 * command and usually a stand-in): it cuts their start-up from ~180 ms to ~50 ms.
 */
export function compileCacheDir(spec: Pick<ClusterSpec, 'repoRoot'>): string {
  return `${spec.repoRoot}/node_modules/.cache/sim-compile-cache`;
}
