// The node's kubelet as the API sees it: registers the Node, heartbeats its status, and on
// SIGHUP ("systemctl restart kubelet") goes NotReady for a while and comes back with the
// installed kubelet version.
import { release } from 'node:os';
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { hasNeverReadyFault } from './faults.ts';
import { installedExecutableVersion } from './package-db.ts';
import { withFileLock } from './file-lock.ts';
import { expectStatus, type KubeRequest } from './kube-client.ts';
import { readNodeState, type ClusterSpec, type NodePaths, type NodeState, type SimNodeSpec } from './spec.ts';

const OS_IMAGES: Record<SimNodeSpec['os'], string> = {
  debian: 'Debian GNU/Linux 12 (bookworm)',
  rhel: 'Rocky Linux 9.4 (Blue Onyx)',
};
const CONTROL_PLANE_ROLE = 'node-role.kubernetes.io/control-plane';

export interface KubeletDeps {
  cluster: ClusterSpec;
  node: SimNodeSpec;
  paths: NodePaths;
  request: KubeRequest;
  log: (line: string) => void;
  /** the kubelet package's executable; default /usr/bin/kubelet (the supervisor sees the node's /usr) */
  kubeletBinary?: string;
}

export interface Kubelet {
  /** Registers the Node if needed and reports status now; resolves to the Node's uid once registered. */
  heartbeat(): Promise<void>;
  /** SIGHUP: the kubelet service was restarted. */
  restart(): void;
  nodeUid(): string | undefined;
}

interface Readiness {
  ready: boolean;
  reason: string;
  message: string;
}

function nodeObject(node: SimNodeSpec): unknown {
  const labels: Record<string, string> = {
    'kubernetes.io/hostname': node.name,
    'kubernetes.io/os': 'linux',
    'kubernetes.io/arch': 'amd64',
    'topology.kubernetes.io/zone': node.zone,
  };
  const controlPlane = node.role === 'control-plane';
  if (controlPlane) labels[CONTROL_PLANE_ROLE] = '';
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: { name: node.name, labels },
    spec: controlPlane ? { taints: [{ key: CONTROL_PLANE_ROLE, effect: 'NoSchedule' }] } : {},
  };
}

function statusPatch(node: SimNodeSpec, machineId: string, state: NodeState, readiness: Readiness, transitionTime: string): unknown {
  const now = new Date().toISOString();
  const resources = { cpu: '4', memory: '8Gi', pods: '110' };
  return {
    status: {
      conditions: [
        {
          type: 'Ready',
          status: readiness.ready ? 'True' : 'False',
          reason: readiness.reason,
          message: readiness.message,
          lastHeartbeatTime: now,
          lastTransitionTime: transitionTime,
        },
      ],
      addresses: [
        { type: 'InternalIP', address: node.address },
        { type: 'Hostname', address: node.name },
      ],
      capacity: resources,
      allocatable: resources,
      nodeInfo: {
        kubeletVersion: `v${state.kubelet.version}`,
        kubeProxyVersion: `v${state.kubelet.version}`,
        osImage: OS_IMAGES[node.os],
        operatingSystem: 'linux',
        architecture: 'amd64',
        kernelVersion: release(),
        containerRuntimeVersion: 'containerd://1.7.22',
        machineID: machineId,
        systemUUID: `${node.name}-${node.address}`,
        bootID: `${node.name}-boot`,
      },
    },
  };
}

/** The kubelet that runs now is the installed package: record it in state.json (under its lock). */
function recordStartedKubelet(paths: NodePaths, installed: string | undefined): NodeState {
  return withFileLock(paths.stateLock, () => {
    const state = readNodeState(paths);
    if (!installed) throw new Error('no kubelet package is installed (/usr/bin/kubelet)');
    state.kubelet.version = installed;
    const temporary = `${paths.stateFile}.${process.pid}.tmp`;
    writeFileSync(temporary, `${JSON.stringify(state, null, 2)}\n`);
    renameSync(temporary, paths.stateFile);
    return state;
  });
}

export function createKubelet(deps: KubeletDeps): Kubelet {
  const { cluster, node, paths, request, log } = deps;
  // the package's executable, as this process sees the node's /usr (the supervisor runs inside the node)
  const installedKubelet = () => installedExecutableVersion(deps.kubeletBinary ?? '/usr/bin/kubelet');
  const nodePath = `/api/v1/nodes/${encodeURIComponent(node.name)}`;
  // as the real kubelet: nodeInfo.machineID is the machine's /etc/machine-id (this node's own, in its /etc overlay)
  let machineIdRead: string | undefined;
  const machineId = (): string => {
    if (machineIdRead === undefined) {
      try {
        machineIdRead = readFileSync(join(paths.upperEtc, 'machine-id'), 'utf8').trim();
      } catch {
        machineIdRead = '';
      }
    }
    return machineIdRead;
  };
  let uid: string | undefined;
  let restartEndsAt = 0;
  let restartPending = false; // set by SIGHUP, cleared when the node is Ready again
  let lastReady: boolean | undefined;
  let transitionTime = new Date().toISOString();

  const register = async (): Promise<void> => {
    const found = expectStatus('GET', nodePath, await request('GET', nodePath), [404]);
    if (found.status === 200) {
      uid = (found.body as { metadata?: { uid?: string } }).metadata?.uid;
      return;
    }
    const created = expectStatus('POST', '/api/v1/nodes', await request('POST', '/api/v1/nodes', nodeObject(node)), [409]);
    if (created.status === 409) return register();
    uid = (created.body as { metadata?: { uid?: string } }).metadata?.uid;
    log(`registered Node ${node.name} (uid ${uid})`);
  };

  const readiness = (state: NodeState): Readiness => {
    if (!state.kubelet.active) return { ready: false, reason: 'KubeletNotReady', message: 'kubelet is stopped' };
    if (Date.now() < restartEndsAt) return { ready: false, reason: 'KubeletNotReady', message: 'kubelet is restarting' };
    if (restartPending && hasNeverReadyFault(cluster.dir, node.name)) {
      return {
        ready: false,
        reason: 'KubeletNotReady',
        message: 'container runtime network not ready: NetworkReady=false (simulated never-ready fault)',
      };
    }
    restartPending = false;
    return { ready: true, reason: 'KubeletReady', message: 'kubelet is posting ready status' };
  };

  let inFlight: Promise<void> | undefined;
  const beat = async (): Promise<void> => {
    if (!uid) await register();
    const state = readNodeState(paths);
    const now = readiness(state);
    if (now.ready !== lastReady) {
      transitionTime = new Date().toISOString();
      log(`Ready=${now.ready} (${now.message}), kubelet v${state.kubelet.version}`);
    }
    const path = `${nodePath}/status`;
    const body = statusPatch(node, machineId(), state, now, transitionTime);
    expectStatus('PATCH', path, await request('PATCH', path, body, 'application/strategic-merge-patch+json'));
    lastReady = now.ready;
  };

  const heartbeat = async (): Promise<void> => {
    // one report at a time; a report asked for meanwhile runs right after
    while (inFlight) await inFlight.catch(() => undefined);
    inFlight = beat().finally(() => {
      inFlight = undefined;
    });
    return inFlight;
  };

  const report = (): void => {
    heartbeat().catch((err: Error) => log(`status report failed: ${err.message}`));
  };

  return {
    heartbeat,
    nodeUid: () => uid,
    restart: () => {
      const state = readNodeState(paths);
      log(`kubelet restart requested (installed kubelet ${installedKubelet() ?? 'none'}, running ${state.kubelet.version})`);
      restartEndsAt = Date.now() + cluster.delays.kubeletRestartMs;
      restartPending = true;
      report();
      setTimeout(() => {
        try {
          const started = recordStartedKubelet(paths, installedKubelet());
          log(`kubelet v${started.kubelet.version} started`);
        } catch (err) {
          log(`cannot record the started kubelet: ${(err as Error).message}`);
        }
        report();
      }, cluster.delays.kubeletRestartMs);
    },
  };
}
