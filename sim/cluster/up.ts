// `sim up`: writes the cluster's files, starts the API server and every node, creates what kubeadm init
// leaves in the API, and waits until all of it answers. On failure it takes everything down again.
import { connect } from 'node:net';
import { join } from 'node:path';
import { nodeTemplates, preparePackages, writePkgsRoot, type PreparedPackages } from '../pkgs/setup.ts';
import { createKubeClient, loadKubeconfig } from '../lib/kube-rest.ts';
import type { ClusterSpec } from '../node/spec.ts';
import { accessPaths, jumpHostOf } from './access-files.ts';
import { createBootstrapObjects } from './bootstrap-objects.ts';
import { downCluster } from './down.ts';
import { joinEtcdMembers } from './etcd-join.ts';
import { validateFaults } from './faults.ts';
import { assertEmptyDir, writeClusterLayout } from './layout.ts';
import { buildClusterSpec, resolveOptions, type UpOptions } from './options.ts';
import { installNodePackages } from './node-files.ts';
import {
  bastionProcess,
  startApiServer,
  startBastion,
  startPkgsServer,
  startSupervisor,
  supervisorProcess,
  type Started,
} from './processes.ts';
import { chooseSubnet } from './subnet.ts';
import { apiServerPending, assertRunning, ComponentFailure, nodesPending, sshAndEtcdPending, waitUntil, workloadsPending } from './wait.ts';

/** What `up` prints: where everything is. */
export interface UpResult {
  dir: string;
  kubeconfig: string;
  inventory: string;
  sshKey: string;
  knownHosts: string;
  apiServer: string;
  nodes: { name: string; address: string; role: string }[];
  /** the nodes' login user ("root" unless --login-user) */
  user: string;
  /** with --bastion: the jump host as the Action's ssh-jump-host input takes it, "ops@127.A.B.3:22" */
  jumpHost?: string;
}

// within vitest's 120 s hook timeout, so a failed up still takes itself down and says why
const API_READY_TIMEOUT_MS = 20_000;
const PKGS_READY_TIMEOUT_MS = 10_000;
const NODES_READY_TIMEOUT_MS = 75_000;

export function upResult(spec: ClusterSpec): UpResult {
  const access = accessPaths(spec.dir);
  return {
    dir: spec.dir,
    kubeconfig: access.kubeconfig,
    inventory: access.inventory,
    sshKey: access.sshKey,
    knownHosts: access.knownHosts,
    apiServer: spec.apiServer.url,
    nodes: spec.nodes.map((n) => ({ name: n.name, address: n.address, role: n.role })),
    user: spec.login?.user ?? 'root',
    ...(spec.bastion ? { jumpHost: jumpHostOf(spec) } : {}),
  };
}

/** A node that is not ready in time: blame its supervisor and show the log that explains it best. */
function blameNode(spec: ClusterSpec, notReady: string[]): ComponentFailure | undefined {
  if (spec.bastion && notReady.some((line) => line.startsWith('bastion ')))
    return new ComponentFailure('bastion', `not ready in time (${notReady.join('; ')})`, bastionProcess(spec.dir, spec.repoRoot).logFile);
  const node = spec.nodes.find((n) => notReady.some((line) => line.startsWith(`${n.name} `)));
  if (!node) return undefined;
  const nodeDir = join(spec.dir, 'nodes', node.name);
  const log = notReady.some((l) => l.includes('etcd'))
    ? join(nodeDir, 'etcd.log')
    : notReady.some((l) => l.includes('sshd'))
      ? join(nodeDir, 'sshd.log')
      : supervisorProcess(spec.dir, spec.repoRoot, node.name).logFile;
  return new ComponentFailure(`node ${node.name}`, `not ready in time (${notReady.join('; ')})`, log);
}

/** Resolves once something accepts TCP connections at address:port. */
function accepts(address: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: address, port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/** The pkgs.k8s.io server, then every node's packages installed from it by the real apt/dpkg and dnf/rpm. */
async function installPackages(spec: ClusterSpec, prepared: PreparedPackages, progress: (line: string) => void): Promise<Started> {
  const server = startPkgsServer(spec);
  await waitUntil(
    'pkgs.k8s.io answering',
    Date.now() + PKGS_READY_TIMEOUT_MS,
    async () => ((await accepts(spec.pkgs.address, 443)) ? [] : [`pkgs.k8s.io at ${spec.pkgs.address}:443 not accepting`]),
    () => assertRunning([server]),
    (notReady) => new ComponentFailure('pkgs.k8s.io', notReady.join('; '), server.proc.logFile),
  );
  const templates = await nodeTemplates(spec, prepared);
  progress(`packages installed with the real package managers (${new Set(templates.values()).size} node template(s))`);
  await Promise.all(spec.nodes.map((node) => installNodePackages(spec, node, templates.get(node.name) ?? '')));
  return server;
}

async function startAndWait(spec: ClusterSpec, progress: (line: string) => void, started: number, pkgs: Started): Promise<void> {
  const elapsed = () => `${((Date.now() - started) / 1000).toFixed(1)}s`;
  const apiServer = startApiServer(spec);
  const apiProc = apiServer.proc;
  const kube = createKubeClient(loadKubeconfig(accessPaths(spec.dir).kubeconfig));
  try {
    await waitUntil(
      'API server ready',
      Date.now() + API_READY_TIMEOUT_MS,
      () => apiServerPending(kube),
      () => assertRunning([apiServer]),
      (notReady) => new ComponentFailure('apiserver', `/readyz not OK in time (${notReady.join('; ')})`, apiProc.logFile),
    );
    progress(`${elapsed()} API server ready at ${spec.apiServer.url}`);
    const everything = [
      apiServer,
      pkgs,
      ...spec.nodes.map((node) => startSupervisor(spec, node)),
      ...(spec.bastion ? [startBastion(spec)] : []),
    ];
    const deadline = Date.now() + NODES_READY_TIMEOUT_MS;
    const alive = () => assertRunning(everything);
    await Promise.all([
      joinEtcdMembers(spec, deadline, alive, (n) => blameNode(spec, n)),
      waitUntil(
        'nodes Ready',
        deadline,
        () => nodesPending(kube, spec.nodes),
        alive,
        (n) => blameNode(spec, n),
      ),
      waitUntil(
        'sshd and etcd answering',
        deadline,
        () => sshAndEtcdPending(spec),
        alive,
        (n) => blameNode(spec, n),
      ),
    ]);
    progress(`${elapsed()} ${spec.nodes.length} nodes Ready, sshd and etcd answering`);
    // created once every node is Ready, so the scheduler spreads the pods as in a cluster that has been running
    await createBootstrapObjects(kube, spec);
    progress(`${elapsed()} kubeadm's objects created${spec.workload === 'demo' ? ' and the demo workload' : ''}`);
    await waitUntil(
      'workloads ready',
      deadline,
      () => workloadsPending(kube, spec),
      alive,
      (notReady) => new ComponentFailure('apiserver', `pods not Ready in time (${notReady.join('; ')})`, apiProc.logFile),
    );
    progress(`${elapsed()} CoreDNS, kube-proxy${spec.workload === 'demo' ? ' and the demo workload' : ''} Ready`);
  } finally {
    kube.close();
  }
}

/** --without-versionlock and --mirror name nodes that exist, and a mirror publishes what its nodes have installed. */
function assertPackageOptions(spec: ClusterSpec): void {
  const byName = new Map(spec.nodes.map((n) => [n.name, n]));
  for (const name of spec.nodes.filter((n) => n.versionlock === false).map((n) => n.name)) {
    if (byName.get(name)?.os !== 'rhel') throw new Error(`--without-versionlock: ${name} is not a rhel node (only dnf has the plugin)`);
  }
  for (const mirror of spec.pkgs.mirrors ?? []) {
    for (const name of mirror.nodes) {
      const node = byName.get(name);
      if (!node) throw new Error(`--mirror names ${name}, which is not a node (${[...byName.keys()].join(', ')})`);
      if (!mirror.published.includes(node.version))
        throw new Error(
          `--mirror for ${name} must publish its installed version ${node.version} (the install guide installed it from there)`,
        );
    }
  }
}

/** Brings a cluster up in options.dir (which must be empty or absent). Throws after taking it down on failure. */
export async function upCluster(options: UpOptions, progress: (line: string) => void = () => {}): Promise<ClusterSpec> {
  const resolved = resolveOptions(options);
  assertEmptyDir(resolved.dir);
  const started = Date.now();
  const spec = buildClusterSpec(resolved, await chooseSubnet());
  if (resolved.faults)
    validateFaults(
      resolved.faults,
      spec.nodes.map((n) => n.name),
      'faults',
    );
  const elapsed = () => `${((Date.now() - started) / 1000).toFixed(1)}s`;
  assertPackageOptions(spec);
  try {
    const [prepared] = await Promise.all([preparePackages(spec), writeClusterLayout(spec, resolved.faults)]);
    await writePkgsRoot(spec, prepared);
    progress(`${elapsed()} files written, pkgs.k8s.io built (subnet ${spec.subnet}.0/24)`);
    const pkgs = await installPackages(spec, prepared, (line) => progress(`${elapsed()} ${line}`));
    await startAndWait(spec, progress, started, pkgs);
  } catch (err) {
    await downCluster(spec.dir).catch(() => undefined);
    throw err;
  }
  return spec;
}
