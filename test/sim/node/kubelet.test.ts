// The node's kubelet as the API sees it (Node object, status, mirror pods) and etcd following
// its static pod manifest, against a small in-memory API server.
import { createHash } from 'node:crypto';
import type { ChildProcess } from 'node:child_process';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeApi, type FakeApi } from './fake-api.ts';
import { buildNodeFixture, etcdctl, installKubelet, randomSubnet, ssh, startSupervisor, waitFor, type NodeFixture } from './fixture.ts';
import { stopIfRunning } from './node-teardown.ts';

interface ObjectView {
  metadata: {
    uid: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
    ownerReferences?: { kind: string; uid: string; controller?: boolean }[];
  };
  spec: { nodeName?: string; taints?: { key: string; effect: string }[]; containers?: { image: string }[] };
  status?: {
    phase?: string;
    podIP?: string;
    conditions?: { type: string; status: string; reason?: string }[];
    nodeInfo?: Record<string, string>;
    addresses?: unknown[];
    capacity?: Record<string, string>;
  };
}

const RESTART_MS = 1500;
const HEARTBEAT_MS = 300;
let f: NodeFixture;
let api: FakeApi;
let supervisor: ChildProcess;

const nodeView = () => api.nodes.get('cp-1') as ObjectView | undefined;
const podView = (name: string) => api.pods.get(name) as ObjectView | undefined;
const readyOf = (o: ObjectView | undefined) => o?.status?.conditions?.find((c) => c.type === 'Ready');
const sha256 = (file: string) => createHash('sha256').update(readFileSync(file)).digest('hex');
const manifestFile = (name: string) => join(f.nodeDir, 'upper/etc/kubernetes/manifests', name);
const stateFile = () => join(f.nodeDir, 'state.json');

function editState(edit: (state: { kubelet: { active: boolean; version: string } }) => void): void {
  const state = JSON.parse(readFileSync(stateFile(), 'utf8'));
  edit(state);
  writeFileSync(stateFile(), JSON.stringify(state, null, 2));
}

function waitReady(status: 'True' | 'False', version?: string): Promise<ObjectView> {
  return waitFor(`Node cp-1 Ready=${status}${version ? ` at ${version}` : ''}`, () => {
    const node = nodeView();
    const ok = readyOf(node)?.status === status && (!version || node?.status?.nodeInfo?.kubeletVersion === version);
    return ok ? node : undefined;
  });
}

/** The pid of the etcd the supervisor started last, from its log. */
function lastEtcdPid(): number {
  const starts = [...readFileSync(join(f.nodeDir, 'supervisor.log'), 'utf8').matchAll(/etcd started, pid (\d+)/g)];
  return Number(starts.at(-1)?.[1]);
}

beforeAll(async () => {
  f = await buildNodeFixture(randomSubnet(), { heartbeatMs: HEARTBEAT_MS, kubeletRestartMs: RESTART_MS, podStartMs: 100, podStopMs: 100 });
  api = await startFakeApi(f.cluster.apiServer.address, f.cluster.apiServer.port, f.apiPki);
  supervisor = startSupervisor(f);
  await waitReady('True');
  await waitFor('etcd', async () => ((await etcdctl(f, ['endpoint', 'health'])).code === 0 ? true : undefined));
});

afterAll(async () => {
  await stopIfRunning(supervisor);
  await api?.close();
  if (f && !process.env.SIM_NODE_KEEP) rmSync(f.dir, { recursive: true, force: true });
});

describe('Node registration and status', () => {
  it('registers a control-plane Node with its labels and taint', () => {
    const node = nodeView();
    expect(node?.metadata.labels).toMatchObject({
      'kubernetes.io/hostname': 'cp-1',
      'kubernetes.io/os': 'linux',
      'topology.kubernetes.io/zone': 'zone-a',
      'node-role.kubernetes.io/control-plane': '',
    });
    expect(node?.spec.taints).toEqual([{ key: 'node-role.kubernetes.io/control-plane', effect: 'NoSchedule' }]);
  });

  it('reports Ready, addresses, capacity and the running kubelet version by strategic merge patch', () => {
    const node = nodeView();
    expect(readyOf(node)).toMatchObject({ status: 'True', reason: 'KubeletReady' });
    expect(node?.status?.addresses).toEqual([
      { type: 'InternalIP', address: f.node.address },
      { type: 'Hostname', address: 'cp-1' },
    ]);
    expect(node?.status?.capacity).toEqual({ cpu: '4', memory: '8Gi', pods: '110' });
    expect(node?.status?.nodeInfo).toMatchObject({
      kubeletVersion: 'v1.30.5',
      containerRuntimeVersion: 'containerd://1.7.22',
      osImage: expect.stringContaining('Debian'),
    });
    const patches = api.requests.filter((r) => r.method === 'PATCH' && r.path === '/api/v1/nodes/cp-1/status');
    expect(patches.length).toBeGreaterThan(0);
    expect(new Set(patches.map((p) => p.contentType))).toEqual(new Set(['application/strategic-merge-patch+json']));
  });

  it('SIGHUP: NotReady while the kubelet restarts, then Ready with the installed kubelet version', async () => {
    installKubelet(f.nodeDir, '1.31.1'); // as `apt-get install kubelet=1.31.1-1.1` leaves it
    supervisor.kill('SIGHUP');
    expect(readyOf(await waitReady('False'))?.reason).toBe('KubeletNotReady');
    await waitReady('True', 'v1.31.1');
    expect(JSON.parse(readFileSync(stateFile(), 'utf8')).kubelet.version).toBe('1.31.1');
  });

  it('never-ready: after a restart the node stays NotReady until the fault goes', async () => {
    writeFileSync(join(f.dir, 'faults.json'), JSON.stringify([{ type: 'never-ready', node: 'cp-1' }]));
    supervisor.kill('SIGHUP');
    await waitReady('False');
    const sawReady = await waitFor(
      'the restart window and a few heartbeats',
      () => (readyOf(nodeView())?.status === 'True' ? 'ready' : undefined),
      RESTART_MS + 5 * HEARTBEAT_MS,
    ).catch(() => 'stayed NotReady');
    expect(sawReady).toBe('stayed NotReady');
    writeFileSync(join(f.dir, 'faults.json'), '[]');
    await waitReady('True');
  });

  it('reports NotReady while state.json says the kubelet is stopped', async () => {
    editState((s) => (s.kubelet.active = false));
    await waitReady('False');
    editState((s) => (s.kubelet.active = true));
    await waitReady('True');
  });
});

describe('static pods', () => {
  it('keeps a mirror pod per manifest with its hash, owner and Running/Ready status', async () => {
    const pod = await waitFor('mirror pod kube-apiserver-cp-1', () => podView('kube-apiserver-cp-1'));
    const hash = sha256(manifestFile('kube-apiserver.yaml'));
    expect(pod.metadata.annotations).toMatchObject({ 'kubernetes.io/config.hash': hash, 'kubernetes.io/config.mirror': hash });
    expect(pod.metadata.labels).toMatchObject({ component: 'kube-apiserver', tier: 'control-plane' });
    expect(pod.metadata.ownerReferences).toEqual([
      expect.objectContaining({ kind: 'Node', uid: nodeView()?.metadata.uid, controller: true }),
    ]);
    expect(pod.spec.nodeName).toBe('cp-1');
    expect(pod.spec.containers?.[0]?.image).toBe('registry.k8s.io/kube-apiserver:v1.30.5');
    expect(pod.status).toMatchObject({ phase: 'Running', podIP: f.node.address });
    expect(readyOf(pod)?.status).toBe('True');
    expect(podView('etcd-cp-1')?.metadata.annotations?.['kubernetes.io/config.hash']).toBe(sha256(manifestFile('etcd.yaml')));
  });

  it('recreates the mirror pod when the manifest changes, and deletes it when the manifest goes', async () => {
    const before = podView('kube-apiserver-cp-1');
    const edit = await ssh(f, 'sed -i s/kube-apiserver:v1.30.5/kube-apiserver:v1.31.1/ /etc/kubernetes/manifests/kube-apiserver.yaml');
    expect(edit.code).toBe(0);
    const after = await waitFor('a new mirror pod', () => {
      const pod = podView('kube-apiserver-cp-1');
      return pod && pod.metadata.uid !== before?.metadata.uid ? pod : undefined;
    });
    expect(after.spec.containers?.[0]?.image).toBe('registry.k8s.io/kube-apiserver:v1.31.1');
    expect(after.metadata.annotations?.['kubernetes.io/config.hash']).toBe(sha256(manifestFile('kube-apiserver.yaml')));

    expect((await ssh(f, 'mv /etc/kubernetes/manifests/kube-apiserver.yaml /etc/kubernetes/')).code).toBe(0);
    await waitFor('the mirror pod to go', () => (podView('kube-apiserver-cp-1') ? undefined : true));
  });

  it('restarts etcd when its manifest changes, keeping the data', async () => {
    expect((await etcdctl(f, ['put', '/sim/survives', 'yes'])).code).toBe(0);
    const before = lastEtcdPid();
    const edit = await ssh(f, 'sed -i s/--snapshot-count=10000/--snapshot-count=5000/ /etc/kubernetes/manifests/etcd.yaml');
    expect(edit.code).toBe(0);
    await waitFor('a new etcd', () => (lastEtcdPid() !== before ? true : undefined));
    const got = await waitFor('etcd to answer', async () => {
      const res = await etcdctl(f, ['get', '/sim/survives', '--print-value-only']);
      return res.code === 0 ? res.stdout : undefined;
    });
    expect(got).toBe('yes\n');
    expect(readFileSync(join(f.nodeDir, 'etcd.log'), 'utf8')).toContain('--snapshot-count=5000');
  });

  it('restarts etcd when it dies while its manifest is there', async () => {
    const before = lastEtcdPid();
    process.kill(before, 'SIGKILL');
    await waitFor('etcd to be restarted', () => (lastEtcdPid() !== before ? true : undefined));
    await waitFor('etcd to answer', async () => ((await etcdctl(f, ['endpoint', 'health'])).code === 0 ? true : undefined));
  });

  it('stops etcd when its manifest is removed and starts it again when it is back', async () => {
    expect((await ssh(f, 'mv /etc/kubernetes/manifests/etcd.yaml /etc/kubernetes/etcd.yaml.off')).code).toBe(0);
    await waitFor('etcd to stop', async () => ((await etcdctl(f, ['endpoint', 'health'])).code !== 0 ? true : undefined));
    await waitFor('the etcd mirror pod to go', () => (podView('etcd-cp-1') ? undefined : true));
    expect((await ssh(f, 'mv /etc/kubernetes/etcd.yaml.off /etc/kubernetes/manifests/etcd.yaml')).code).toBe(0);
    const got = await waitFor('etcd to answer again', async () => {
      const res = await etcdctl(f, ['get', '/sim/survives', '--print-value-only']);
      return res.code === 0 ? res.stdout : undefined;
    });
    expect(got).toBe('yes\n');
    await waitFor('the etcd mirror pod to return', () => podView('etcd-cp-1'));
  });
});
