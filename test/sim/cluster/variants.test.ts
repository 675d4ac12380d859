// Cluster shapes other than the default: RHEL nodes, and many API-only workers next to the SSH nodes.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCluster, type SimCluster } from '../../../sim/index.ts';
import { kubectl, parseTable, ssh } from './helpers.ts';

describe('a RHEL cluster with 50 API-only workers', () => {
  let cluster: SimCluster;

  beforeAll(async () => {
    cluster = await startCluster({ controlPlanes: 1, workers: 2, os: 'rhel', apiOnlyWorkers: 50, podsPerNode: 3 });
  }, 120_000);

  afterAll(async () => {
    await cluster?.stop();
  });

  it('gives RHEL nodes the yum repository of their minor and no apt source', async () => {
    const node = cluster.spec.nodes[1]!;
    const got = await ssh(
      cluster.sshKeyPath,
      cluster.knownHostsPath,
      node.address,
      'cat /etc/yum.repos.d/kubernetes.repo; test -e /etc/apt/sources.list.d/kubernetes.list && echo apt-source-present',
    );
    expect(got.stdout).toContain('baseurl=https://pkgs.k8s.io/core:/stable:/v1.30/rpm/');
    expect(got.stdout).toContain('exclude=kubelet kubeadm kubectl cri-tools kubernetes-cni');
    expect(got.stdout).not.toContain('apt-source-present');
  });

  it('shows the API-only workers as 50 more Ready nodes, with pods on them', async () => {
    const nodes = parseTable((await kubectl(cluster.kubeconfigPath, 'get', 'nodes')).stdout);
    expect(nodes).toHaveLength(53);
    const apiOnly = nodes.filter((n) => n.NAME?.startsWith('api-worker-'));
    expect(apiOnly).toHaveLength(50);
    expect(apiOnly.every((n) => n.STATUS === 'Ready')).toBe(true);
    const status = await cluster.status();
    expect(status.apiOnlyNodes).toBe(50);
    const pods = parseTable((await kubectl(cluster.kubeconfigPath, 'get', 'pods', '-A', '-o', 'wide')).stdout);
    const onFirst = pods.filter((p) => p.NODE === 'api-worker-00001' && !p.NAME?.startsWith('kube-proxy-'));
    expect(onFirst.length).toBeGreaterThanOrEqual(3);
  });
});
