// Options of `sim up` / startCluster(), their defaults and validation, and the ClusterSpec built from them.
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ClusterSpec, SimNodeSpec } from '../node/spec.ts';
import type { FaultSpec } from './faults.ts';
import { loginSpecFor, loginUserProblem } from './login.ts';
import { defaultPublished, isPrerelease, isVersion, compareVersions } from './versions.ts';

export type OsChoice = 'debian' | 'rhel' | 'mixed';

export interface UpOptions {
  /** absolute or relative; startCluster() makes a temporary one when absent */
  dir?: string;
  controlPlanes?: number;
  workers?: number;
  /** control-plane version (and the workers' unless workerVersion), e.g. "1.30.5" */
  version?: string;
  workerVersion?: string;
  os?: OsChoice;
  /** versions published on the simulated pkgs.k8s.io */
  published?: string[];
  apiOnlyWorkers?: number;
  podsPerNode?: number;
  workload?: 'none' | 'demo';
  /** live faults from the start (DIR/faults.json) */
  faults?: FaultSpec[];
  delays?: Partial<ClusterSpec['delays']>;
  /** rhel nodes without dnf's versionlock plugin (the Action must fall back to the repository's exclude=) */
  withoutVersionlock?: string[];
  /** nodes whose pkgs.k8s.io is a mirror publishing other versions (a stale mirror lacks the newest) */
  mirrors?: { nodes: string[]; published: string[] }[];
  /** the nodes' login user (default root); another name is made on every node with sudo, see sim/README.md */
  loginUser?: string;
  /** how that user's sudo is set up: nopasswd (default) or password (`sudo -n` refuses) */
  loginSudo?: 'nopasswd' | 'password';
  /** one more sshd on 127.A.B.3 that only forwards to the nodes' sshd: the jump host */
  bastion?: boolean;
}

export type ResolvedOptions = Required<Omit<UpOptions, 'faults' | 'delays'>> & {
  faults?: FaultSpec[];
  delays: ClusterSpec['delays'];
};

export const DEFAULT_DELAYS: Required<ClusterSpec['delays']> = {
  kubeletRestartMs: 1500,
  podStartMs: 500,
  podStopMs: 1000,
  heartbeatMs: 2000,
  podReadyMs: 500,
  apiServerRestartMs: 3000,
};

/** The first node address in the /24 is .10, the last usable .254. */
const FIRST_HOST = 10;
/** pkgs.k8s.io at .2; its mirrors from .4 on */
const PKGS_HOST = 2;
const MAX_SSH_NODES = 254 - FIRST_HOST + 1;
const MAX_API_ONLY_WORKERS = 65_000;
const ZONES = ['zone-a', 'zone-b', 'zone-c'];

export const repoRoot = resolve(fileURLToPath(new URL('../..', import.meta.url)));

function requireCount(name: string, value: number, min: number, max: number): void {
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new Error(`--${name} must be a whole number from ${min} to ${max}, got ${value}`);
  }
}

function requireVersion(name: string, value: string): void {
  if (!isVersion(value)) throw new Error(`--${name} must be a version like 1.30.5 (no "v"), got "${value}"`);
}

/** Applies the defaults and rejects what the simulator cannot build, naming the option and the fix. */
export function resolveOptions(options: UpOptions): ResolvedOptions {
  const version = options.version ?? '1.30.5';
  requireVersion('version', version);
  const workerVersion = options.workerVersion ?? version;
  requireVersion('worker-version', workerVersion);
  const controlPlanes = options.controlPlanes ?? 3;
  const workers = options.workers ?? 6;
  requireCount('control-planes', controlPlanes, 1, MAX_SSH_NODES);
  requireCount('workers', workers, 0, MAX_SSH_NODES);
  if (controlPlanes + workers > MAX_SSH_NODES) {
    throw new Error(`--control-planes + --workers must be at most ${MAX_SSH_NODES} (one /24), got ${controlPlanes + workers}`);
  }
  const apiOnlyWorkers = options.apiOnlyWorkers ?? 0;
  requireCount('api-only-workers', apiOnlyWorkers, 0, MAX_API_ONLY_WORKERS);
  const podsPerNode = options.podsPerNode ?? 0;
  requireCount('pods-per-node', podsPerNode, 0, 110);
  const os = options.os ?? 'debian';
  if (!['debian', 'rhel', 'mixed'].includes(os)) throw new Error(`--os must be debian, rhel or mixed, got "${os}"`);
  const workload = options.workload ?? 'none';
  if (!['none', 'demo'].includes(workload)) throw new Error(`--workload must be none or demo, got "${workload}"`);
  const published = options.published ?? defaultPublished([version, workerVersion], version);
  for (const v of published) if (!isPrerelease(v)) requireVersion('published', v);
  for (const [name, v] of [
    ['version', version],
    ['worker-version', workerVersion],
  ] as const) {
    if (!published.includes(v)) throw new Error(`--published must include the installed --${name} ${v}`);
  }
  const delays = { ...DEFAULT_DELAYS, ...options.delays };
  for (const [name, ms] of Object.entries(delays)) {
    if (!Number.isInteger(ms) || ms < 0) throw new Error(`delays.${name} must be a whole number of milliseconds, got ${ms}`);
  }
  const loginUser = options.loginUser ?? 'root';
  const loginProblem = loginUserProblem(loginUser);
  if (loginProblem) throw new Error(`--login-user ${loginProblem}`);
  const loginSudo = options.loginSudo ?? 'nopasswd';
  if (!['nopasswd', 'password'].includes(loginSudo)) throw new Error(`--login-sudo must be nopasswd or password, got "${loginSudo}"`);
  if (options.bastion && loginUser === 'root')
    throw new Error('--bastion needs --login-user NAME (for example ops): the bastion admits no root logins');
  const dir = resolve(options.dir ?? '');
  // sshd_config and the stand-in shims name paths under DIR unquoted
  if (/\s/.test(dir)) throw new Error(`--dir must not contain whitespace (sshd_config cannot hold it), got "${dir}"`);
  return {
    dir,
    controlPlanes,
    workers,
    version,
    workerVersion,
    os,
    apiOnlyWorkers,
    podsPerNode,
    workload,
    delays,
    loginUser,
    loginSudo,
    bastion: options.bastion ?? false,
    published: [...new Set(published)].sort(compareVersions),
    withoutVersionlock: options.withoutVersionlock ?? [],
    mirrors: (options.mirrors ?? []).map((m) => {
      for (const v of m.published) requireVersion('mirrors.published', v);
      return { nodes: [...m.nodes], published: [...new Set(m.published)].sort(compareVersions) };
    }),
    ...(options.faults ? { faults: options.faults } : {}),
  };
}

function nodeOs(choice: OsChoice, index: number): SimNodeSpec['os'] {
  if (choice === 'mixed') return index % 2 === 0 ? 'debian' : 'rhel';
  return choice;
}

/** SSH nodes in address order: cp-1..cp-N, then worker-1..worker-M, from 127.A.B.10 on. */
export function buildNodes(options: ResolvedOptions, subnet: string): SimNodeSpec[] {
  const roles: { name: string; role: SimNodeSpec['role']; version: string }[] = [];
  for (let i = 1; i <= options.controlPlanes; i++) roles.push({ name: `cp-${i}`, role: 'control-plane', version: options.version });
  for (let i = 1; i <= options.workers; i++) roles.push({ name: `worker-${i}`, role: 'worker', version: options.workerVersion });
  return roles.map((node, index) => ({
    ...node,
    address: `${subnet}.${FIRST_HOST + index}`,
    sshPort: 22,
    os: nodeOs(options.os, index),
    zone: ZONES[index % ZONES.length] ?? 'zone-a',
    ...(options.withoutVersionlock.includes(node.name) ? { versionlock: false } : {}),
  }));
}

export function buildClusterSpec(options: ResolvedOptions, subnet: string): ClusterSpec {
  const address = `${subnet}.1`;
  return {
    name: 'sim',
    dir: options.dir,
    subnet,
    apiServer: { address, port: 6443, url: `https://${address}:6443` },
    pkgs: {
      address: `${subnet}.${PKGS_HOST}`,
      ...(options.mirrors.length > 0
        ? {
            mirrors: options.mirrors.map((m, i) => ({ address: `${subnet}.${PKGS_HOST + 2 + i}`, nodes: m.nodes, published: m.published })),
          }
        : {}),
    },
    version: options.version,
    published: options.published,
    nodes: buildNodes(options, subnet),
    apiOnlyWorkers: options.apiOnlyWorkers,
    podsPerNode: options.podsPerNode,
    workload: options.workload,
    delays: options.delays,
    node24: process.execPath,
    repoRoot,
    ...(options.loginUser === 'root' ? {} : { login: loginSpecFor(options.loginUser, options.loginSudo) }),
    ...(options.bastion ? { bastion: { address: `${subnet}.3`, port: 22 } } : {}),
  };
}
