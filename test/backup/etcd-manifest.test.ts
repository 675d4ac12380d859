// Endpoint, certificates and member flags come from the etcd static pod manifest as kubeadm writes it.
import { describe, expect, test } from 'vitest';
import { stringify } from 'yaml';
import { clusterRestoreMembers, etcdAccessFromManifest, etcdMemberFromManifest, parseSnapshotStatus } from '../../src/backup/etcd.ts';

function manifest(flags: string[]): string {
  return stringify({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'etcd' },
    spec: { containers: [{ name: 'etcd', command: ['etcd', ...flags] }] },
  });
}

const kubeadmFlags = [
  '--advertise-client-urls=https://10.0.0.10:2379',
  '--data-dir=/var/lib/etcd',
  '--initial-advertise-peer-urls=https://10.0.0.10:2380',
  '--initial-cluster=cp-1=https://10.0.0.10:2380,cp-2=https://10.0.0.11:2380',
  '--listen-client-urls=https://127.0.0.1:2379,https://10.0.0.10:2379',
  '--name=cp-1',
  '--trusted-ca-file=/etc/kubernetes/pki/etcd/ca.crt',
];

describe('etcd static pod manifest', () => {
  test('prefers the loopback client URL and uses the healthcheck client beside the CA', () => {
    expect(etcdAccessFromManifest(manifest(kubeadmFlags))).toEqual({
      endpoint: 'https://127.0.0.1:2379',
      cacert: '/etc/kubernetes/pki/etcd/ca.crt',
      cert: '/etc/kubernetes/pki/etcd/healthcheck-client.crt',
      key: '/etc/kubernetes/pki/etcd/healthcheck-client.key',
      external: false,
    });
  });

  test('takes the only listen URL when there is no loopback one', () => {
    const flags = kubeadmFlags.map((f) => (f.startsWith('--listen-client-urls') ? '--listen-client-urls=https://10.0.0.10:2379' : f));
    expect(etcdAccessFromManifest(manifest(flags)).endpoint).toBe('https://10.0.0.10:2379');
  });

  test("member flags for a restore, with etcd's default cluster token", () => {
    expect(etcdMemberFromManifest(manifest(kubeadmFlags))).toEqual({
      name: 'cp-1',
      dataDir: '/var/lib/etcd',
      initialCluster: 'cp-1=https://10.0.0.10:2380,cp-2=https://10.0.0.11:2380',
      initialAdvertisePeerUrls: 'https://10.0.0.10:2380',
      initialClusterToken: 'etcd-cluster',
    });
  });

  // kubeadm writes --initial-cluster as the cluster was when each member joined: the first control plane names
  // only itself, a joining one the members before it and itself (with --initial-cluster-state=existing)
  const kubeadmMember = (n: number, state?: string) =>
    manifest([
      `--name=cp-${n}`,
      `--initial-advertise-peer-urls=https://10.0.0.1${n - 1}:2380`,
      `--initial-cluster=${Array.from({ length: n }, (_, i) => `cp-${i + 1}=https://10.0.0.1${i}:2380`).join(',')}`,
      ...(state ? [`--initial-cluster-state=${state}`] : []),
      '--data-dir=/var/lib/etcd',
    ]);

  test('every member of a kubeadm HA cluster restores into the same whole cluster, whatever its own manifest lists', () => {
    const members = clusterRestoreMembers([
      { node: 'cp-1', manifest: kubeadmMember(1) },
      { node: 'cp-2', manifest: kubeadmMember(2, 'existing') },
      { node: 'cp-3', manifest: kubeadmMember(3, 'existing') },
    ]);
    const whole = 'cp-1=https://10.0.0.10:2380,cp-2=https://10.0.0.11:2380,cp-3=https://10.0.0.12:2380';
    expect(members).toEqual([
      {
        name: 'cp-1',
        dataDir: '/var/lib/etcd',
        initialCluster: whole,
        initialAdvertisePeerUrls: 'https://10.0.0.10:2380',
        initialClusterToken: 'etcd-cluster',
      },
      {
        name: 'cp-2',
        dataDir: '/var/lib/etcd',
        initialCluster: whole,
        initialAdvertisePeerUrls: 'https://10.0.0.11:2380',
        initialClusterToken: 'etcd-cluster',
      },
      {
        name: 'cp-3',
        dataDir: '/var/lib/etcd',
        initialCluster: whole,
        initialAdvertisePeerUrls: 'https://10.0.0.12:2380',
        initialClusterToken: 'etcd-cluster',
      },
    ]);
  });

  test('a member that a recorded manifest names but no control plane of the inventory runs is refused, naming it', () => {
    const cp2 = manifest([
      '--name=cp-2',
      '--initial-advertise-peer-urls=https://10.0.0.11:2380',
      '--initial-cluster=cp-1=https://10.0.0.10:2380,cp-2=https://10.0.0.11:2380,cp-3=https://10.0.0.12:2380',
    ]);
    expect(() =>
      clusterRestoreMembers([
        { node: 'cp-1', manifest: kubeadmMember(1) },
        { node: 'cp-2', manifest: cp2 },
      ]),
    ).toThrow(/etcd member cp-3 \(https:\/\/10\.0\.0\.12:2380, named in cp-2's etcd manifest\) is not a control plane of the inventory/);
  });

  test('a manifest without a command line, and a status without keys, are errors', () => {
    expect(() => etcdAccessFromManifest(stringify({ spec: { containers: [{ name: 'etcd' }] } }))).toThrow(/no etcd command line/);
    expect(() => parseSnapshotStatus('{"hash":1,"revision":2,"totalSize":3}')).toThrow(/totalKey/);
  });
});
