// Readiness checks `up` waits on: the API server's /readyz, every SSH node Ready with its kubelet version,
// each sshd's banner, each etcd's /health. A dead process ends the wait at once with its log.
import { readFileSync } from 'node:fs';
import { request } from 'node:https';
import { connect } from 'node:net';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { KubeClient } from '../lib/kube-rest.ts';
import type { ClusterSpec, SimNodeSpec } from '../node/spec.ts';
import { tailOf, type Started } from './processes.ts';

/** A component that did not come up: names it and carries the end of its log. */
export class ComponentFailure extends Error {
  readonly component: string;
  readonly logFile: string;
  constructor(component: string, problem: string, logFile: string) {
    super(`${component}: ${problem}\n--- last lines of ${logFile} ---\n${tailOf(logFile)}`);
    this.component = component;
    this.logFile = logFile;
  }
}

/** Throws for the first started process that has exited (we are its parent, so we see its exit). */
export function assertRunning(started: Started[]): void {
  for (const { proc, child } of started) {
    if (child.exitCode !== null || child.signalCode !== null) {
      const how = child.signalCode ? `was killed by ${child.signalCode}` : `exited with code ${child.exitCode}`;
      throw new ComponentFailure(proc.name, `the process ${how}`, proc.logFile);
    }
  }
}

/**
 * Polls `pending` (what is not ready yet, empty when all is) until it is empty or the deadline passes.
 * `alive` throws when a process it depends on died.
 */
export async function waitUntil(
  what: string,
  deadline: number,
  pending: () => Promise<string[]>,
  alive: () => void,
  blame: (notReady: string[]) => ComponentFailure | undefined = () => undefined,
): Promise<void> {
  let notReady: string[] = [];
  while (true) {
    alive();
    try {
      notReady = await pending();
    } catch (err) {
      notReady = [(err as Error).message];
    }
    if (notReady.length === 0) return;
    if (Date.now() > deadline) {
      throw blame(notReady) ?? new Error(`${what} did not happen in time; still waiting for: ${notReady.join('; ')}`);
    }
    await sleep(250);
  }
}

export async function apiServerPending(kube: KubeClient): Promise<string[]> {
  const res = await kube.request('GET', '/readyz', undefined, { timeoutMs: 2000 });
  return res.status === 200 ? [] : [`/readyz answered ${res.status}`];
}

interface NodeObject {
  metadata: { name: string };
  status?: { conditions?: { type: string; status: string }[]; nodeInfo?: { kubeletVersion?: string } };
}

/** SSH nodes not yet Ready with their installed kubelet version, each with what is missing. */
export async function nodesPending(kube: KubeClient, nodes: SimNodeSpec[]): Promise<string[]> {
  const list = (await kube.list('/api/v1/nodes')) as { items: NodeObject[] };
  const byName = new Map(list.items.map((n) => [n.metadata.name, n]));
  const pending: string[] = [];
  for (const node of nodes) {
    const object = byName.get(node.name);
    const ready = object?.status?.conditions?.find((c) => c.type === 'Ready')?.status === 'True';
    const version = object?.status?.nodeInfo?.kubeletVersion;
    if (!object) pending.push(`${node.name} not registered`);
    else if (!ready) pending.push(`${node.name} not Ready`);
    else if (version !== `v${node.version}`) pending.push(`${node.name} reports kubelet ${version}, expected v${node.version}`);
  }
  return pending;
}

/** Connects and reads the server's identification line ("SSH-2.0-OpenSSH_…"). */
export function sshBanner(address: string, port: number, timeoutMs = 2000): Promise<string | undefined> {
  return new Promise((resolve) => {
    const socket = connect({ host: address, port, timeout: timeoutMs });
    let text = '';
    const finish = (banner: string | undefined) => {
      socket.destroy();
      resolve(banner);
    };
    socket.on('data', (chunk: Buffer) => {
      text += chunk.toString('latin1');
      if (text.includes('\n')) finish(text.startsWith('SSH-2.0-') ? text.trim() : undefined);
    });
    socket.on('timeout', () => finish(undefined));
    socket.on('error', () => finish(undefined));
    socket.on('close', () => finish(undefined));
  });
}

/** etcd's /health over mutual TLS with the node's healthcheck-client certificate (as kubeadm's probe does). */
export function etcdHealthy(spec: ClusterSpec, node: SimNodeSpec, timeoutMs = 2000): Promise<boolean> {
  const pki = join(spec.dir, 'pki');
  return new Promise((resolve) => {
    const req = request(
      {
        host: node.address,
        port: 2379,
        path: '/health',
        method: 'GET',
        timeout: timeoutMs,
        ca: readFileSync(join(pki, 'etcd-ca.crt')),
        cert: readFileSync(join(pki, 'nodes', node.name, 'etcd-healthcheck-client.crt')),
        key: readFileSync(join(pki, 'nodes', node.name, 'etcd-healthcheck-client.key')),
      },
      (res) => {
        let body = '';
        res.on('data', (chunk: Buffer) => (body += chunk.toString()));
        res.on('end', () => resolve(res.statusCode === 200 && /"health"\s*:\s*"true"/.test(body)));
      },
    );
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(false));
    req.end();
  });
}

export async function sshAndEtcdPending(spec: ClusterSpec): Promise<string[]> {
  const checks = spec.nodes.map(async (node) => {
    const problems: string[] = [];
    if (!(await sshBanner(node.address, node.sshPort)))
      problems.push(`${node.name} sshd does not answer on ${node.address}:${node.sshPort}`);
    if (node.role === 'control-plane' && !(await etcdHealthy(spec, node)))
      problems.push(`${node.name} etcd not healthy at https://${node.address}:2379`);
    return problems;
  });
  const bastion = spec.bastion;
  if (bastion)
    checks.push(
      sshBanner(bastion.address, bastion.port).then((banner) =>
        banner ? [] : [`bastion sshd does not answer on ${bastion.address}:${bastion.port}`],
      ),
    );
  return (await Promise.all(checks)).flat();
}

interface WorkloadObject {
  spec?: { replicas?: number };
  status?: { readyReplicas?: number; desiredNumberScheduled?: number; numberReady?: number };
}

/** The Deployments and DaemonSets `up` created, until all their pods are Ready (a drain needs them running). */
export async function workloadsPending(kube: KubeClient, spec: ClusterSpec): Promise<string[]> {
  const deployments = [
    ['kube-system', 'coredns'],
    ...(spec.workload === 'demo'
      ? [
          ['demo', 'web'],
          ['demo', 'cache'],
        ]
      : []),
  ];
  // kube-proxy tolerates every taint, so it runs on every node; the demo agent only on workers
  const workers = spec.nodes.filter((n) => n.role === 'worker').length;
  const daemonSets: [string, string, number][] = [
    ['kube-system', 'kube-proxy', spec.nodes.length],
    ...(spec.workload === 'demo' ? [['demo', 'agent', workers] as [string, string, number]] : []),
  ];
  const pending: string[] = [];
  for (const [namespace, name] of deployments) {
    const d = (await kube.get(`/apis/apps/v1/namespaces/${namespace}/deployments/${name}`)) as WorkloadObject;
    const want = d.spec?.replicas ?? 1;
    if ((d.status?.readyReplicas ?? 0) < want)
      pending.push(`Deployment ${namespace}/${name} ${d.status?.readyReplicas ?? 0}/${want} ready`);
  }
  for (const [namespace, name, atLeast] of daemonSets) {
    const ds = (await kube.get(`/apis/apps/v1/namespaces/${namespace}/daemonsets/${name}`)) as WorkloadObject;
    const want = ds.status?.desiredNumberScheduled ?? 0;
    const ready = ds.status?.numberReady ?? 0;
    if (want < atLeast || ready < want) pending.push(`DaemonSet ${namespace}/${name} ${ready}/${Math.max(want, atLeast)} ready`);
  }
  return pending;
}
