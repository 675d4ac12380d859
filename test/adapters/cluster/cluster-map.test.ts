// Kubernetes API objects → ClusterState values, and list pagination with an expired continue token.
import { describe, expect, it } from 'vitest';
import { ApiException, type V1Node, type V1NodeSystemInfo, type V1Pod } from '@kubernetes/client-node';
import {
  imageVersion,
  mapBudget,
  mapControlPlanePod,
  mapNode,
  mapPod,
  parseClusterConfiguration,
  parseQuantity,
} from '../../../src/adapters/cluster/map.ts';
import { listAll } from '../../../src/adapters/cluster/read-cluster.ts';

describe('mapping API objects', () => {
  it('reads a control-plane node: role label, Ready, kubelet version, InternalIP, allocatable', () => {
    const node: V1Node = {
      metadata: { name: 'cp-1', labels: { 'node-role.kubernetes.io/control-plane': '', 'topology.kubernetes.io/zone': 'a' } },
      spec: { taints: [{ key: 'node-role.kubernetes.io/control-plane', effect: 'NoSchedule' }] },
      status: {
        conditions: [
          { type: 'MemoryPressure', status: 'False' },
          { type: 'Ready', status: 'True' },
        ],
        nodeInfo: { kubeletVersion: 'v1.30.5' } as V1NodeSystemInfo,
        addresses: [
          { type: 'Hostname', address: 'cp-1' },
          { type: 'InternalIP', address: '10.0.0.10' },
        ],
        allocatable: { cpu: '3800m', memory: '16Gi', pods: '110' },
      },
    };
    expect(mapNode(node)).toEqual({
      name: 'cp-1',
      role: 'control-plane',
      ready: true,
      unschedulable: false,
      kubeletVersion: '1.30.5',
      internalIP: '10.0.0.10',
      labels: { 'node-role.kubernetes.io/control-plane': '', 'topology.kubernetes.io/zone': 'a' },
      taints: [{ key: 'node-role.kubernetes.io/control-plane', effect: 'NoSchedule' }],
      allocatable: { cpuMilli: 3800, memoryBytes: 16 * 2 ** 30, pods: 110 },
    });
  });

  it('marks a node this Action drained and has not uncordoned yet, and only that one', () => {
    const annotated = (done: string, unschedulable: boolean): V1Node => ({
      metadata: {
        name: 'w',
        annotations: { 'upgrade.kubeadm-upgrade-action.io/target': '1.31.2', 'upgrade.kubeadm-upgrade-action.io/done-stages': done },
      },
      spec: { unschedulable },
    });
    expect(mapNode(annotated('repo-switch,kubeadm-install,kubeadm-upgrade,drain', true)).cordonedByUpgrade).toBe(true);
    expect(
      mapNode(annotated('repo-switch,kubeadm-install,kubeadm-upgrade,drain,kubelet-install,kubelet-restart,wait-ready,uncordon', true))
        .cordonedByUpgrade,
    ).toBeUndefined();
    expect(mapNode(annotated('repo-switch', true)).cordonedByUpgrade).toBeUndefined();
    expect(mapNode(annotated('repo-switch,kubeadm-install,kubeadm-upgrade,drain', false)).cordonedByUpgrade).toBeUndefined();
  });

  it("marks a node this Action cordoned for a drain that never finished (its cordon mark), but never an operator's fence", () => {
    const node = (unschedulable: boolean, annotations: Record<string, string>): V1Node => ({
      metadata: { name: 'w', annotations: { 'upgrade.kubeadm-upgrade-action.io/target': '1.31.2', ...annotations } },
      spec: { unschedulable },
    });
    const mark = { 'upgrade.kubeadm-upgrade-action.io/cordoned-by-upgrade': '2026-12-03T10:00:00.000Z' };
    const started = { 'upgrade.kubeadm-upgrade-action.io/done-stages': 'repo-switch,kubeadm-install,kubeadm-upgrade' };
    expect(mapNode(node(true, { ...started, ...mark })).cordonedByUpgrade).toBe(true);
    expect(mapNode(node(true, mark)).cordonedByUpgrade).toBe(true);
    // cordoned without the mark: the operator's
    expect(mapNode(node(true, started)).cordonedByUpgrade).toBeUndefined();
    // the mark on a schedulable node says nothing
    expect(mapNode(node(false, mark)).cordonedByUpgrade).toBeUndefined();
    // a fence recorded for the target wins over the mark: never uncordoned
    expect(
      mapNode(node(true, { ...mark, 'upgrade.kubeadm-upgrade-action.io/cordoned-before': '1.31.2' })).cordonedByUpgrade,
    ).toBeUndefined();
  });

  it('parses Kubernetes quantities', () => {
    expect(parseQuantity('250m')).toBeCloseTo(0.25);
    expect(parseQuantity('2')).toBe(2);
    expect(parseQuantity('128974848')).toBe(128974848);
    expect(parseQuantity('129e6')).toBe(129e6);
    expect(parseQuantity('123Mi')).toBe(123 * 2 ** 20);
    expect(parseQuantity('1.5G')).toBe(1.5e9);
    expect(parseQuantity(undefined)).toBe(0);
  });

  it('reads a pod for the drain forecast: controller, emptyDir, requests (init containers counted as the scheduler does)', () => {
    const pod: V1Pod = {
      metadata: {
        namespace: 'shop',
        name: 'web-1',
        uid: 'u1',
        labels: { app: 'web' },
        ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'web-abc', uid: 'r', controller: true }],
      },
      spec: {
        nodeName: 'worker-1',
        containers: [
          { name: 'a', resources: { requests: { cpu: '100m', memory: '64Mi' } } },
          { name: 'b', resources: { requests: { cpu: '50m' } } },
        ],
        initContainers: [{ name: 'init', resources: { requests: { cpu: '500m', memory: '32Mi' } } }],
        volumes: [{ name: 'cache', emptyDir: {} }],
      },
      status: { phase: 'Running', conditions: [{ type: 'Ready', status: 'True' }] },
    };
    expect(mapPod(pod)).toEqual({
      namespace: 'shop',
      name: 'web-1',
      uid: 'u1',
      node: 'worker-1',
      phase: 'Running',
      ready: true,
      terminating: false,
      labels: { app: 'web' },
      controllerKind: 'ReplicaSet',
      controllerName: 'web-abc',
      mirror: false,
      emptyDir: true,
      requests: { cpuMilli: 500, memoryBytes: 64 * 2 ** 20 },
    });
  });

  it('finds control-plane static pods by mirror annotation and component label only', () => {
    const mirror = (component: string, image: string, namespace = 'kube-system', annotated = true): V1Pod => ({
      metadata: {
        namespace,
        name: `${component}-cp-1`,
        labels: { component, tier: 'control-plane' },
        annotations: annotated ? { 'kubernetes.io/config.mirror': 'abc' } : {},
      },
      spec: { nodeName: 'cp-1', containers: [{ name: component, image }] },
      status: { phase: 'Running', conditions: [{ type: 'Ready', status: 'False' }] },
    });
    expect(mapControlPlanePod(mirror('etcd', 'registry.k8s.io/etcd:3.5.15-0'))).toEqual({
      node: 'cp-1',
      component: 'etcd',
      image: 'registry.k8s.io/etcd:3.5.15-0',
      version: '3.5.15-0',
      running: true,
      ready: false,
    });
    expect(mapControlPlanePod(mirror('kube-apiserver', 'registry.k8s.io/kube-apiserver:v1.30.5'))?.version).toBe('1.30.5');
    expect(mapControlPlanePod(mirror('kube-apiserver', 'x:v1', 'default'))).toBeUndefined();
    expect(mapControlPlanePod(mirror('kube-apiserver', 'x:v1', 'kube-system', false))).toBeUndefined();
    expect(mapControlPlanePod(mirror('coredns', 'x:v1'))).toBeUndefined();
    expect(imageVersion('localhost:5000/kube-proxy:v1.30.5@sha256:abc')).toBe('1.30.5');
    expect(imageVersion('localhost:5000/kube-proxy')).toBe('');
  });

  it('reads a PDB with its selector and status', () => {
    expect(
      mapBudget({
        metadata: { namespace: 'shop', name: 'web-pdb' },
        spec: {
          minAvailable: 3,
          selector: { matchLabels: { app: 'web' }, matchExpressions: [{ key: 'tier', operator: 'In', values: ['fe'] }] },
        },
        status: { disruptionsAllowed: 1, currentHealthy: 4, desiredHealthy: 3, expectedPods: 4, observedGeneration: 1 },
      }),
    ).toEqual({
      namespace: 'shop',
      name: 'web-pdb',
      minAvailable: 3,
      selector: { matchLabels: { app: 'web' }, matchExpressions: [{ key: 'tier', operator: 'In', values: ['fe'] }] },
      disruptionsAllowed: 1,
      currentHealthy: 4,
      desiredHealthy: 3,
      expectedPods: 4,
    });
  });

  it("reads kubeadm's ClusterConfiguration", () => {
    const text =
      'apiVersion: kubeadm.k8s.io/v1beta4\nkind: ClusterConfiguration\nkubernetesVersion: v1.30.5\nclusterName: sim\ncontrolPlaneEndpoint: 127.1.2.1:6443\netcd:\n  local:\n    dataDir: /var/lib/etcd\n';
    expect(parseClusterConfiguration(text)).toEqual({
      kubernetesVersion: '1.30.5',
      clusterName: 'sim',
      controlPlaneEndpoint: '127.1.2.1:6443',
      etcdLocal: true,
    });
    expect(parseClusterConfiguration('kubernetesVersion: v1.30.5\netcd:\n  external:\n    endpoints: [https://e:2379]\n')?.etcdLocal).toBe(
      false,
    );
  });
});

describe('listAll', () => {
  it('follows continue tokens with limit 500', async () => {
    const seen: { limit: number; _continue?: string }[] = [];
    const items = await listAll('nodes', async (page) => {
      seen.push(page);
      if (!page._continue) return { items: [1, 2], metadata: { _continue: 'a' } };
      if (page._continue === 'a') return { items: [3], metadata: { _continue: 'b' } };
      return { items: [4], metadata: {} };
    });
    expect(items).toEqual([1, 2, 3, 4]);
    expect(seen).toEqual([{ limit: 500 }, { limit: 500, _continue: 'a' }, { limit: 500, _continue: 'b' }]);
  });

  it('restarts from the beginning when the continue token expired (410), without duplicates', async () => {
    let expired = false;
    const items = await listAll('pods', async (page) => {
      if (!page._continue) return { items: ['a', 'b'], metadata: { _continue: 't' } };
      if (!expired) {
        expired = true;
        throw new ApiException(410, 'Gone', { message: 'The provided continue parameter is too old' }, {});
      }
      return { items: ['c'], metadata: {} };
    });
    expect(items).toEqual(['a', 'b', 'c']);
  });

  it('names the list and the status in other errors', async () => {
    await expect(
      listAll('PodDisruptionBudgets', async () => {
        throw new ApiException(403, 'Forbidden', { message: 'poddisruptionbudgets.policy is forbidden' }, {});
      }),
    ).rejects.toThrow('cannot list PodDisruptionBudgets: HTTP 403: poddisruptionbudgets.policy is forbidden');
  });
});
