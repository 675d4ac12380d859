// The cluster's PKI as kubeadm would have made it, under DIR/pki (cluster-wide) and DIR/pki/nodes/NAME
// (per node). CAs first, then every leaf in parallel.
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { ClusterSpec, SimNodeSpec } from '../node/spec.ts';
import { createCA, createServiceAccountKeyPair, issueCert, type IssueCertOptions, type KeyPairPaths } from '../lib/pki.ts';

type KeyFiles = KeyPairPaths;
type CertRequest = Omit<IssueCertOptions, 'ca'>;

export interface NodePki {
  kubeletClient: KeyFiles;
  /** control planes only */
  etcd?: { server: KeyFiles; peer: KeyFiles; healthcheckClient: KeyFiles };
}

export interface ClusterPki {
  dir: string;
  ca: KeyFiles;
  etcdCa: KeyFiles;
  frontProxyCa: KeyFiles;
  sa: { key: string; pub: string };
  apiserver: KeyFiles;
  apiserverKubeletClient: KeyFiles;
  apiserverEtcdClient: KeyFiles;
  frontProxyClient: KeyFiles;
  admin: KeyFiles;
  superAdmin: KeyFiles;
  controllerManager: KeyFiles;
  scheduler: KeyFiles;
  nodes: Record<string, NodePki>;
}

const SERVICE_IP = '10.96.0.1';
const API_DNS = ['kubernetes', 'kubernetes.default', 'kubernetes.default.svc', 'kubernetes.default.svc.cluster.local'];

function etcdRequests(nodeDir: string, node: SimNodeSpec): Record<'server' | 'peer' | 'healthcheckClient', CertRequest> {
  const common = { outDir: nodeDir, dnsNames: [node.name, 'localhost'], ipAddresses: [node.address, '127.0.0.1', '::1'] };
  return {
    server: { ...common, name: 'etcd-server', cn: node.name, usage: 'both' },
    peer: { ...common, name: 'etcd-peer', cn: node.name, usage: 'both' },
    healthcheckClient: { outDir: nodeDir, name: 'etcd-healthcheck-client', cn: 'kube-etcd-healthcheck-client', usage: 'client' },
  };
}

async function issueNodePki(pkiDir: string, node: SimNodeSpec, ca: KeyFiles, etcdCa: KeyFiles): Promise<NodePki> {
  const nodeDir = join(pkiDir, 'nodes', node.name);
  await mkdir(nodeDir, { recursive: true });
  const kubeletClient = issueCert({
    ca,
    outDir: nodeDir,
    name: 'kubelet-client',
    cn: `system:node:${node.name}`,
    organizations: ['system:nodes'],
    usage: 'client',
  });
  if (node.role !== 'control-plane') return { kubeletClient: await kubeletClient };
  const requests = etcdRequests(nodeDir, node);
  const [client, server, peer, healthcheckClient] = await Promise.all([
    kubeletClient,
    issueCert({ ca: etcdCa, ...requests.server }),
    issueCert({ ca: etcdCa, ...requests.peer }),
    issueCert({ ca: etcdCa, ...requests.healthcheckClient }),
  ]);
  return { kubeletClient: client, etcd: { server, peer, healthcheckClient } };
}

/** Writes every key and certificate the cluster needs; returns their paths. */
export async function createClusterPki(spec: ClusterSpec): Promise<ClusterPki> {
  const dir = join(spec.dir, 'pki');
  await mkdir(dir, { recursive: true });
  const [ca, etcdCa, frontProxyCa, sa] = await Promise.all([
    createCA(dir, 'ca', 'kubernetes'),
    createCA(dir, 'etcd-ca', 'etcd-ca'),
    createCA(dir, 'front-proxy-ca', 'front-proxy-ca'),
    createServiceAccountKeyPair(dir),
  ]);
  const controlPlaneIps = spec.nodes.filter((n) => n.role === 'control-plane').map((n) => n.address);
  const leaf = (name: string, cn: string, usage: CertRequest['usage'], extra: Partial<CertRequest> = {}, by = ca) =>
    issueCert({ ca: by, outDir: dir, name, cn, usage, ...extra });
  const [
    [apiserver, apiserverKubeletClient, apiserverEtcdClient, frontProxyClient, admin, superAdmin, controllerManager, scheduler],
    nodePkis,
  ] = await Promise.all([
    Promise.all([
      leaf('apiserver', 'kube-apiserver', 'server', {
        dnsNames: [...API_DNS, 'localhost'],
        ipAddresses: [spec.apiServer.address, SERVICE_IP, ...controlPlaneIps, '127.0.0.1'],
      }),
      leaf('apiserver-kubelet-client', 'kube-apiserver-kubelet-client', 'client', { organizations: ['kubeadm:cluster-admins'] }),
      leaf('apiserver-etcd-client', 'kube-apiserver-etcd-client', 'client', {}, etcdCa),
      leaf('front-proxy-client', 'front-proxy-client', 'client', {}, frontProxyCa),
      leaf('admin', 'kubernetes-admin', 'client', { organizations: ['system:masters'] }),
      leaf('super-admin', 'kubernetes-super-admin', 'client', { organizations: ['system:masters'] }),
      leaf('controller-manager', 'system:kube-controller-manager', 'client'),
      leaf('scheduler', 'system:kube-scheduler', 'client'),
    ]),
    Promise.all(spec.nodes.map((node) => issueNodePki(dir, node, ca, etcdCa))),
  ]);
  const nodes = Object.fromEntries(spec.nodes.map((node, i) => [node.name, nodePkis[i]!]));
  return {
    dir,
    ca,
    etcdCa,
    frontProxyCa,
    sa,
    apiserver,
    apiserverKubeletClient,
    apiserverEtcdClient,
    frontProxyClient,
    admin,
    superAdmin,
    controllerManager,
    scheduler,
    nodes,
  };
}
