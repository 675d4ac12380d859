// verifyCluster against the simulator's API server, with the objects `kubeadm init` leaves in kube-system
// built here at v1.31.2: first all at the target, then a cluster caught half-way.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ClusterApis } from '../../../src/adapters/cluster/progress.ts';
import { MERGE_PATCH } from '../../../src/adapters/cluster/progress.ts';
import {
  SMOKE_ACCESS,
  VERIFY_ACCESS,
  verifyCluster,
  type VerifyCheck,
  type VerifyResult,
} from '../../../src/adapters/cluster/verify-api.ts';
import { createReadyNode, startTestCluster, suiteId, waitFor, type TestCluster } from './fixtures.ts';

let cluster: TestCluster;
let api: ClusterApis;
let action: ClusterApis;
let cp: string;
let workers: string[];

const VERSION = '1.31.2';
const COREDNS = 'registry.k8s.io/coredns/coredns:v1.11.3';
const ETCD = 'registry.k8s.io/etcd:3.5.15-0';
const SYSTEM = 'kube-system';

async function createMirrorPod(node: string, component: string, image: string): Promise<void> {
  const nodeUid = (await api.core.readNode({ name: node })).metadata!.uid!;
  const name = `${component}-${node}`;
  await api.core.createNamespacedPod({
    namespace: SYSTEM,
    body: {
      metadata: {
        name,
        namespace: SYSTEM,
        labels: { component, tier: 'control-plane' },
        annotations: { 'kubernetes.io/config.mirror': 'f00d', 'kubernetes.io/config.source': 'file' },
        ownerReferences: [{ apiVersion: 'v1', kind: 'Node', name: node, uid: nodeUid, controller: true }],
      },
      spec: { nodeName: node, containers: [{ name: component, image }], priorityClassName: 'system-node-critical' },
    },
  });
  const now = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
  await api.core.patchNamespacedPodStatus(
    {
      name,
      namespace: SYSTEM,
      body: { status: { phase: 'Running', conditions: [{ type: 'Ready', status: 'True', lastTransitionTime: now }] } },
    },
    MERGE_PATCH,
  );
}

beforeAll(async () => {
  cluster = await startTestCluster();
  api = cluster.api;
  // verify runs as a user with exactly VERIFY_ACCESS and SMOKE_ACCESS
  action = await cluster.actingAs([...VERIFY_ACCESS, ...SMOKE_ACCESS]);
  const suite = suiteId();
  cp = `${suite}-cp1`;
  workers = [`${suite}-w1`, `${suite}-w2`];
  await createReadyNode(api, cp, { suite, controlPlane: true, kubeletVersion: VERSION });
  for (const worker of workers) await createReadyNode(api, worker, { suite, kubeletVersion: VERSION });
  for (const component of ['kube-apiserver', 'kube-controller-manager', 'kube-scheduler']) {
    await createMirrorPod(cp, component, `registry.k8s.io/${component}:v${VERSION}`);
  }
  await createMirrorPod(cp, 'etcd', ETCD);
  const dns = { 'k8s-app': 'kube-dns' };
  await api.apps.createNamespacedDeployment({
    namespace: SYSTEM,
    body: {
      metadata: { name: 'coredns', namespace: SYSTEM },
      spec: {
        replicas: 2,
        selector: { matchLabels: dns },
        template: { metadata: { labels: dns }, spec: { containers: [{ name: 'coredns', image: COREDNS }] } },
      },
    },
  });
  const proxy = { 'k8s-app': 'kube-proxy' };
  await api.apps.createNamespacedDaemonSet({
    namespace: SYSTEM,
    body: {
      metadata: { name: 'kube-proxy', namespace: SYSTEM },
      spec: {
        selector: { matchLabels: proxy },
        template: {
          metadata: { labels: proxy },
          spec: { containers: [{ name: 'kube-proxy', image: `registry.k8s.io/kube-proxy:v${VERSION}` }] },
        },
      },
    },
  });
  await setKubeadmConfigVersion(VERSION, true);
  await waitFor('CoreDNS and kube-proxy pods Ready', async () => {
    const pods = (await api.core.listNamespacedPod({ namespace: SYSTEM, labelSelector: 'k8s-app in (kube-dns,kube-proxy)' })).items;
    const ready = pods.filter((p) => p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'));
    return ready.length === 2 + 3;
  });
});
afterAll(async () => {
  await cluster?.close();
});

async function setKubeadmConfigVersion(version: string, create = false): Promise<void> {
  const data = {
    ClusterConfiguration: `apiVersion: kubeadm.k8s.io/v1beta4\nkind: ClusterConfiguration\nkubernetesVersion: v${version}\nclusterName: kubernetes\n`,
  };
  if (create)
    await api.core.createNamespacedConfigMap({
      namespace: SYSTEM,
      body: { metadata: { name: 'kubeadm-config', namespace: SYSTEM }, data },
    });
  else await api.core.patchNamespacedConfigMap({ name: 'kubeadm-config', namespace: SYSTEM, body: { data } }, MERGE_PATCH);
}

function check(result: VerifyResult, name: VerifyCheck['name']): VerifyCheck {
  const found = result.checks.find((c) => c.name === name);
  expect(found, `check ${name}`).toBeDefined();
  return found!;
}

async function smokeNamespaces(): Promise<string[]> {
  return (await api.core.listNamespace()).items.map((n) => n.metadata!.name!).filter((n) => n.startsWith('kubeadm-upgrade-smoke-'));
}

describe('verifyCluster', () => {
  it('passes every check on a cluster at the target, smoke pod included, and leaves no smoke namespace behind', async () => {
    const result = await verifyCluster(action, {
      version: VERSION,
      coreDNSImage: COREDNS,
      controlPlaneImages: { etcd: ETCD },
      smoke: { image: 'registry.k8s.io/pause:3.10', timeoutMs: 20_000, pollIntervalMs: 50 },
    });
    expect(result.checks.filter((c) => !c.ok)).toEqual([]);
    expect(result.ok).toBe(true);
    expect(result.checks.map((c) => c.name)).toEqual([
      'nodes-ready',
      'kubelet-version',
      'control-plane-pods',
      'coredns',
      'kube-proxy',
      'kubeadm-config',
      'smoke-workload',
    ]);
    expect(check(result, 'control-plane-pods').nodes).toEqual([cp]);
    expect(check(result, 'kube-proxy').nodes).toEqual([cp, ...workers].sort());
    await waitFor('the smoke namespace to go', async () => (await smokeNamespaces()).length === 0);
  });

  it('checks CoreDNS against the tag kubeadm announced when the image is not known', async () => {
    const atTag = await verifyCluster(action, { version: VERSION, coreDNSVersion: 'v1.11.3', nodes: [cp] });
    expect(check(atTag, 'coredns')).toMatchObject({ ok: true });
    const behind = await verifyCluster(action, { version: VERSION, coreDNSVersion: 'v1.12.0', nodes: [cp] });
    expect(check(behind, 'coredns')).toMatchObject({ ok: false, message: `CoreDNS template runs ${COREDNS}, expected tag v1.12.0` });
  });

  it('names what is behind and where on a cluster caught half-way', async () => {
    const [, w2] = workers;
    const now = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
    await api.core.patchNodeStatus(
      {
        name: w2!,
        body: {
          status: {
            nodeInfo: { kubeletVersion: 'v1.30.5' },
            conditions: [{ type: 'Ready', status: 'False', reason: 'KubeletNotReady', lastHeartbeatTime: now, lastTransitionTime: now }],
          },
        },
      },
      MERGE_PATCH,
    );
    await setKubeadmConfigVersion('1.30.5');

    const result = await verifyCluster(action, {
      version: VERSION,
      coreDNSImage: 'registry.k8s.io/coredns/coredns:v1.11.4',
      controlPlaneImages: { etcd: 'registry.k8s.io/etcd:3.5.16-0' },
      smoke: { image: 'registry.k8s.io/pause:3.10', timeoutMs: 600, pollIntervalMs: 50, nodeName: w2! },
    });

    expect(result.ok).toBe(false);
    expect(check(result, 'nodes-ready')).toEqual({ name: 'nodes-ready', ok: false, message: `not Ready: ${w2}`, nodes: [w2] });
    expect(check(result, 'kubelet-version')).toEqual({
      name: 'kubelet-version',
      ok: false,
      message: `kubelet not at v${VERSION}: ${w2} (v1.30.5)`,
      nodes: [w2],
    });
    expect(check(result, 'control-plane-pods')).toMatchObject({
      ok: false,
      nodes: [cp],
      message: `etcd on ${cp}: runs ${ETCD}, expected registry.k8s.io/etcd:3.5.16-0`,
    });
    expect(check(result, 'coredns')).toMatchObject({
      ok: false,
      message: `CoreDNS template runs ${COREDNS}, expected registry.k8s.io/coredns/coredns:v1.11.4`,
    });
    expect(check(result, 'kubeadm-config')).toMatchObject({
      ok: false,
      message: `kubeadm-config records kubernetesVersion v1.30.5, expected v${VERSION}`,
    });
    expect(check(result, 'smoke-workload')).toMatchObject({
      ok: false,
      nodes: [w2],
      message: expect.stringMatching(/was not Ready within 1s \(last seen .* on /),
    });
    await waitFor('the smoke namespace to go', async () => (await smokeNamespaces()).length === 0);
  });

  it('checks only the nodes asked for, and reports a node that does not exist', async () => {
    const result = await verifyCluster(action, { version: VERSION, nodes: [cp, 'ghost'] });
    expect(check(result, 'nodes-ready')).toMatchObject({ ok: false, nodes: ['ghost'], message: 'not Ready: ghost (no such node)' });
    expect(check(result, 'kubelet-version')).toMatchObject({ ok: true, nodes: [cp] });
  });
});
