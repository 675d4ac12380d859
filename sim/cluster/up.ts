// `sim up`: writes the cluster's files, starts the API server and every node, creates what kubeadm init
// leaves in the API, and waits until all of it answers. On failure it takes everything down again.
import { join } from 'node:path';
import { createKubeClient, loadKubeconfig } from '../lib/kube-rest.ts';
import type { ClusterSpec } from '../node/spec.ts';
import { accessPaths } from './access-files.ts';
import { createBootstrapObjects } from './bootstrap-objects.ts';
import { downCluster } from './down.ts';
import { joinEtcdMembers } from './etcd-join.ts';
import { validateFaults } from './faults.ts';
import { assertEmptyDir, writeClusterLayout } from './layout.ts';
import { buildClusterSpec, resolveOptions, type UpOptions } from './options.ts';
import { startApiServer, startSupervisor, supervisorProcess } from './processes.ts';
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
}

// within vitest's 120 s hook timeout, so a failed up still takes itself down and says why
const API_READY_TIMEOUT_MS = 20_000;
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
  };
}

/** A node that is not ready in time: blame its supervisor and show the log that explains it best. */
function blameNode(spec: ClusterSpec, notReady: string[]): ComponentFailure | undefined {
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

async function startAndWait(spec: ClusterSpec, progress: (line: string) => void, started: number): Promise<void> {
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
    const everything = [apiServer, ...spec.nodes.map((node) => startSupervisor(spec, node))];
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
  try {
    await writeClusterLayout(spec, resolved.faults);
    progress(`${((Date.now() - started) / 1000).toFixed(1)}s files written (subnet ${spec.subnet}.0/24)`);
    await startAndWait(spec, progress, started);
  } catch (err) {
    await downCluster(spec.dir).catch(() => undefined);
    throw err;
  }
  return spec;
}
