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
  /** rhel: dnf's versionlock plugin is installed (default true) */
  versionlock?: boolean;
}

/** Another server answering as pkgs.k8s.io for some nodes (their /etc/hosts), publishing other versions. */
export interface PkgsMirror {
  address: string;
  nodes: string[];
  published: string[];
}

export interface ClusterSpec {
  name: string;
  dir: string;
  subnet: string;
  apiServer: { address: string; port: number; url: string };
  /** the simulated pkgs.k8s.io (sim/pkgs/server.ts): HTTPS on address:443 */
  pkgs: { address: string; mirrors?: PkgsMirror[] };
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
  /** the nodes' login user when it is not root (`--login-user`); absent: root logs in */
  login?: LoginSpec;
  /** the bastion sshd (`--bastion`): the only way in is as the jump host */
  bastion?: { address: string; port: number };
}

/**
 * A non-root login user, in each node's own /etc/passwd, /etc/shadow (no usable password), /etc/group and
 * /etc/sudoers.d/USER, home USER's under /var/home. sudo `nopasswd`: `USER ALL=(ALL:ALL) NOPASSWD: ALL`;
 * `password`: `USER ALL=(ALL:ALL) ALL`, so `sudo -n` refuses ("a password is required").
 */
export interface LoginSpec {
  user: string;
  uid: number;
  gid: number;
  home: string;
  sudo: 'nopasswd' | 'password';
}

/** What no package database holds: the kubelet service's state (systemctl's stand-in) and swap. */
export interface NodeState {
  kubelet: { active: boolean; version: string };
  swap: boolean;
}

/** The top-level directories each node has its own overlay of (its view of the host's). */
export const NODE_OVERLAYS = ['etc', 'var', 'usr', 'opt'] as const;

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

/** The bastion's files under DIR/bastion (`sim up --bastion`). */
export interface BastionPaths {
  dir: string;
  upperEtc: string;
  workEtc: string;
  sshdConfig: string;
  sshdLog: string;
  hostKey: string;
  authorizedKeys: string;
  pidFile: string;
  log: string;
}

export function bastionPaths(clusterDir: string): BastionPaths {
  const dir = join(clusterDir, 'bastion');
  return {
    dir,
    upperEtc: join(dir, 'upper', 'etc'),
    workEtc: join(dir, 'work', 'etc'),
    sshdConfig: join(dir, 'sshd_config'),
    sshdLog: join(dir, 'sshd.log'),
    hostKey: join(dir, 'ssh_host_ed25519_key'),
    authorizedKeys: join(dir, 'authorized_keys'),
    pidFile: join(dir, 'pid'),
    log: join(dir, 'supervisor.log'),
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
