// The node against the simulator's own API server, looked at with the real kubectl: what the
// Action and a person see of a node's kubelet.
import { createHash } from 'node:crypto';
import type { ChildProcess } from 'node:child_process';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startApiServer, type RunningApiServer } from '../../../sim/apiserver/server.ts';
import { buildNodeFixture, installKubelet, randomSubnet, run, ssh, startSupervisor, waitFor, type NodeFixture } from './fixture.ts';
import { stopIfRunning } from './node-teardown.ts';

interface NodeJson {
  status: { conditions: { type: string; status: string }[]; nodeInfo: { kubeletVersion: string } };
}
interface PodJson {
  metadata: { uid: string; annotations: Record<string, string> };
  status: { phase: string };
}

let f: NodeFixture;
let apiServer: RunningApiServer;
let supervisor: ChildProcess;

async function kubectlJson<T>(args: string[]): Promise<T | undefined> {
  const result = await run('kubectl', ['--kubeconfig', join(f.dir, 'kubeconfig'), ...args, '-o', 'json']);
  return result.code === 0 ? (JSON.parse(result.stdout) as T) : undefined;
}

async function nodeReady(status: string, version: string): Promise<boolean | undefined> {
  const node = await kubectlJson<NodeJson>(['get', 'node', 'cp-1']);
  const ready = node?.status.conditions.find((c) => c.type === 'Ready')?.status;
  return ready === status && node?.status.nodeInfo.kubeletVersion === version ? true : undefined;
}

const manifestHash = (name: string) =>
  createHash('sha256')
    .update(readFileSync(join(f.nodeDir, 'upper/etc/kubernetes/manifests', name)))
    .digest('hex');

beforeAll(async () => {
  f = await buildNodeFixture(randomSubnet(), { heartbeatMs: 500, kubeletRestartMs: 1000, podStartMs: 100, podStopMs: 100 });
  const pki = join(f.dir, 'pki');
  apiServer = await startApiServer({
    host: f.cluster.apiServer.address,
    port: f.cluster.apiServer.port,
    clusterVersion: '1.30.5',
    log: () => undefined,
    tls: { cert: join(pki, 'apiserver.crt'), key: join(pki, 'apiserver.key'), ca: join(pki, 'ca.crt') },
  });
  supervisor = startSupervisor(f);
});

afterAll(async () => {
  await stopIfRunning(supervisor);
  await apiServer?.close();
  if (f && !process.env.SIM_NODE_KEEP) rmSync(f.dir, { recursive: true, force: true });
});

it('shows up in kubectl as a Ready node with Running mirror pods', async () => {
  await waitFor('node cp-1 Ready at v1.30.5', () => nodeReady('True', 'v1.30.5'));
  const pod = await waitFor('mirror pod etcd-cp-1', () => kubectlJson<PodJson>(['get', 'pod', '-n', 'kube-system', 'etcd-cp-1']));
  expect(pod.status.phase).toBe('Running');
  expect(pod.metadata.annotations['kubernetes.io/config.hash']).toBe(manifestHash('etcd.yaml'));
});

it('comes back Ready with the new kubelet after `systemctl restart kubelet` (SIGHUP)', async () => {
  installKubelet(f.nodeDir, '1.31.1');
  supervisor.kill('SIGHUP');
  await waitFor('node cp-1 NotReady', () => nodeReady('False', 'v1.30.5'));
  await waitFor('node cp-1 Ready at v1.31.1', () => nodeReady('True', 'v1.31.1'));
});

it('replaces the mirror pod when kubeadm rewrites a manifest', async () => {
  const before = await kubectlJson<PodJson>(['get', 'pod', '-n', 'kube-system', 'kube-apiserver-cp-1']);
  expect(before).toBeDefined();
  expect((await ssh(f, 'sed -i s/:v1.30.5/:v1.31.1/ /etc/kubernetes/manifests/kube-apiserver.yaml')).code).toBe(0);
  const after = await waitFor('a new kube-apiserver-cp-1', async () => {
    const pod = await kubectlJson<PodJson>(['get', 'pod', '-n', 'kube-system', 'kube-apiserver-cp-1']);
    return pod && pod.metadata.uid !== before?.metadata.uid ? pod : undefined;
  });
  expect(after.metadata.annotations['kubernetes.io/config.hash']).toBe(manifestHash('kube-apiserver.yaml'));
  expect(after.status.phase).toBe('Running');
});
