// A 3 + 6 cluster with workers one minor behind, reached the way the Action and a person reach it.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCluster, type SimCluster } from '../../../sim/index.ts';
import { kubectl, parseTable, ssh, traces } from './helpers.ts';

describe('a 3 + 6 simulated cluster', () => {
  let cluster: SimCluster;
  let scratch: string;

  beforeAll(async () => {
    scratch = mkdtempSync(join(tmpdir(), 'sim-test-'));
    cluster = await startCluster({ controlPlanes: 3, workers: 6, version: '1.30.5', workerVersion: '1.29.9', workload: 'demo' });
  }, 120_000);

  afterAll(async () => {
    await cluster?.stop();
    rmSync(scratch, { recursive: true, force: true });
  });

  it('answers ssh with strict host-key checking on every node, each with its own kubeadm', async () => {
    const answers = await Promise.all(
      cluster.spec.nodes.map((node) => ssh(cluster.sshKeyPath, cluster.knownHostsPath, node.address, 'kubeadm version -o short')),
    );
    const versions = answers.map((a, i) => [cluster.spec.nodes[i]?.name, a.code, a.stdout.trim()]);
    expect(versions).toEqual([
      ['cp-1', 0, 'v1.30.5'],
      ['cp-2', 0, 'v1.30.5'],
      ['cp-3', 0, 'v1.30.5'],
      ...[1, 2, 3, 4, 5, 6].map((i) => [`worker-${i}`, 0, 'v1.29.9']),
    ]);
  });

  it('shows each node its own files under /etc and /var', async () => {
    const etcd = await ssh(
      cluster.sshKeyPath,
      cluster.knownHostsPath,
      cluster.spec.nodes[1]!.address,
      'grep -- --name= /etc/kubernetes/manifests/etcd.yaml; cat /etc/apt/sources.list.d/kubernetes.list',
    );
    expect(etcd.stdout).toContain('--name=cp-2');
    expect(etcd.stdout).toContain('core:/stable:/v1.30/deb/');
    const worker = await ssh(
      cluster.sshKeyPath,
      cluster.knownHostsPath,
      cluster.spec.nodes[3]!.address,
      'cat /etc/apt/sources.list.d/kubernetes.list; ls /etc/kubernetes/manifests | wc -l',
    );
    expect(worker.stdout).toContain('core:/stable:/v1.29/deb/');
    expect(worker.stdout.trim().endsWith('0')).toBe(true);
  });

  it('runs ONE etcd cluster of the three control planes, holding the API objects under /registry/', async () => {
    const etcdctl = (node: number, command: string) =>
      ssh(
        cluster.sshKeyPath,
        cluster.knownHostsPath,
        cluster.spec.nodes[node]!.address,
        `ETCDCTL_API=3 etcdctl --endpoints=https://${cluster.spec.nodes[node]!.address}:2379 --cacert=/etc/kubernetes/pki/etcd/ca.crt ` +
          `--cert=/etc/kubernetes/pki/etcd/healthcheck-client.crt --key=/etc/kubernetes/pki/etcd/healthcheck-client.key ${command}`,
      );
    const members = await etcdctl(2, 'member list');
    expect(
      members.stdout
        .trim()
        .split('\n')
        .map((l) => l.split(', ').slice(1, 3).join(' '))
        .sort(),
    ).toEqual(['started cp-1', 'started cp-2', 'started cp-3']);
    // each member answers from its own data (serializable reads)
    for (const node of [0, 1, 2]) {
      const config = await etcdctl(node, 'get /registry/configmaps/kube-system/kubeadm-config --print-value-only --consistency=s');
      expect(JSON.parse(config.stdout).data.ClusterConfiguration).toContain('kubernetesVersion: v1.30.5');
    }
    const proxy = await etcdctl(0, 'get /registry/daemonsets/kube-system/kube-proxy --print-value-only');
    expect(JSON.parse(proxy.stdout).spec.template.spec.containers[0].image).toBe('registry.k8s.io/kube-proxy:v1.30.5');
    const nodes = await etcdctl(0, 'get /registry/minions/ --prefix --keys-only');
    expect(nodes.stdout.split('\n').filter(Boolean)).toHaveLength(9);
  });

  it('refuses a key it does not know', async () => {
    const otherKey = join(scratch, 'other_ed25519');
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', otherKey]);
    const refused = await ssh(otherKey, cluster.knownHostsPath, cluster.spec.nodes[0]!.address, 'true');
    expect(refused.code).toBe(255);
    expect(refused.stderr).toContain('Permission denied (publickey)');
  });

  it('is refused by a client that expects another host key', async () => {
    const node = cluster.spec.nodes[0]!;
    const wrongHosts = join(scratch, 'known_hosts_wrong');
    const otherHostKey = readFileSync(join(cluster.dir, 'nodes', 'worker-1', 'ssh_host_ed25519_key.pub'), 'utf8').split(' ');
    writeFileSync(wrongHosts, `${node.address} ${otherHostKey[0]} ${otherHostKey[1]}\n`);
    const refused = await ssh(cluster.sshKeyPath, wrongHosts, node.address, 'true');
    expect(refused.code).toBe(255);
    expect(refused.stderr).toContain('Host key verification failed');
  });

  it('lists every node Ready with its kubelet version to kubectl', async () => {
    const got = await kubectl(cluster.kubeconfigPath, 'get', 'nodes');
    expect(got.stderr).toBe('');
    const rows = parseTable(got.stdout).map((r) => [r.NAME, r.STATUS, r.VERSION]);
    expect(rows).toEqual(cluster.spec.nodes.map((n) => [n.name, 'Ready', `v${n.version}`]));
  });

  it('runs what kubeadm init leaves: CoreDNS, kube-proxy everywhere, control-plane mirror pods, the demo workload', async () => {
    const got = await kubectl(cluster.kubeconfigPath, 'get', 'pods', '-A', '-o', 'wide');
    const pods = parseTable(got.stdout);
    const names = (namespace: string, prefix: string) => pods.filter((p) => p.NAMESPACE === namespace && p.NAME?.startsWith(prefix));
    expect(names('kube-system', 'coredns-')).toHaveLength(2);
    expect(
      names('kube-system', 'kube-proxy-')
        .map((p) => p.NODE)
        .sort(),
    ).toEqual(cluster.spec.nodes.map((n) => n.name).sort());
    for (const component of ['etcd', 'kube-apiserver', 'kube-controller-manager', 'kube-scheduler']) {
      expect(
        names('kube-system', `${component}-`)
          .map((p) => p.NAME)
          .sort(),
      ).toEqual(['cp-1', 'cp-2', 'cp-3'].map((n) => `${component}-${n}`));
    }
    expect(names('demo', 'web-')).toHaveLength(4);
    // created after the nodes were Ready, so spread as in a cluster that has been running a while
    expect(new Set(names('demo', 'web-').map((p) => p.NODE)).size).toBeGreaterThan(1);
    expect(names('demo', 'web-').every((p) => p.STATUS === 'Running' && p.READY === '1/1')).toBe(true);
    expect(names('demo', 'cache-')).toHaveLength(1);
    const config = await kubectl(
      cluster.kubeconfigPath,
      '-n',
      'kube-system',
      'get',
      'configmap',
      'kubeadm-config',
      '-o',
      'jsonpath={.data.ClusterConfiguration}',
    );
    expect(config.stdout).toContain('kubernetesVersion: v1.30.5');
    expect(config.stdout).toContain(`controlPlaneEndpoint: ${cluster.spec.apiServer.address}:6443`);
  });

  it('reports each node in status: packages, holds, repository minor, the commands run on it', async () => {
    await ssh(cluster.sshKeyPath, cluster.knownHostsPath, cluster.spec.nodes[4]!.address, 'kubeadm version -o short');
    const status = await cluster.status();
    const worker = status.nodes.find((n) => n.name === 'worker-2');
    expect(worker).toMatchObject({
      ready: true,
      kubeletVersion: 'v1.29.9',
      cordoned: false,
      repoMinor: '1.29',
      packages: { kubeadm: '1.29.9', kubelet: '1.29.9', kubectl: '1.29.9' },
      holds: ['kubeadm', 'kubectl', 'kubelet'],
    });
    expect(JSON.stringify(worker?.commands)).toContain('kubeadm version -o short');
    expect(status.apiOnlyNodes).toBe(0);
    expect(status.processes.every((p) => p.alive)).toBe(true);
    expect(status.processes.map((p) => p.name)).toEqual(['apiserver', 'pkgs.k8s.io', ...cluster.spec.nodes.map((n) => n.name)]);
  });

  it('stops everything on down: no process and no mount of its directory remains, and down can run again', async () => {
    const report = await cluster.stop();
    expect(report.stopped.map((s) => s.name).sort()).toEqual(['apiserver', 'pkgs.k8s.io', ...cluster.spec.nodes.map((n) => n.name)].sort());
    expect(traces(cluster.dir)).toEqual({ processes: [], mounts: [] });
    const again = await cluster.stop();
    expect(again.stopped).toEqual([]);
    const after = await ssh(cluster.sshKeyPath, cluster.knownHostsPath, cluster.spec.nodes[0]!.address, 'true');
    expect(after.code).toBe(255);
  });
});
