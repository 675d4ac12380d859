// Builds by hand the DIR a single control-plane node needs (what `sim up` prepares), and helpers
// to start its supervisor and talk to it the way a user would: ssh, sftp, etcdctl.
import { executableText } from '../../../sim/pkgs/catalog.ts';
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, openSync, readFileSync, writeFileSync, closeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { stringify } from 'yaml';
import { createCA, issueCert, type KeyPairPaths } from '../../../sim/lib/pki.ts';
import type { ClusterSpec, NodeState, SimNodeSpec } from '../../../sim/node/spec.ts';

export const repoRoot = resolve(fileURLToPath(new URL('../../..', import.meta.url)));
export const node24 = join(repoRoot, 'node_modules/.bin/node');

export interface NodeFixture {
  dir: string;
  cluster: ClusterSpec;
  node: SimNodeSpec;
  nodeDir: string;
  apiPki: { ca: string; cert: string; key: string };
  etcdClient: { ca: string; cert: string; key: string };
  sshKey: string;
  knownHosts: string;
}

/** 127.A.B with A in 100..199: one /24 per test file, as the simulator's clusters take. */
export function randomSubnet(): string {
  return `127.${100 + Math.floor(Math.random() * 100)}.${Math.floor(Math.random() * 256)}`;
}

export function etcdManifestYaml(address: string, extraFlags: string[] = []): string {
  const pki = '/etc/kubernetes/pki/etcd';
  // kubeadm's shape, loopback listeners and a flag only newer etcds know included on purpose
  const command = [
    'etcd',
    `--advertise-client-urls=https://${address}:2379`,
    `--cert-file=${pki}/server.crt`,
    '--client-cert-auth=true',
    '--data-dir=/var/lib/etcd',
    '--experimental-initial-corrupt-check=true',
    '--feature-gates=InitialCorruptCheck=true',
    `--initial-advertise-peer-urls=https://${address}:2380`,
    `--initial-cluster=cp-1=https://${address}:2380`,
    `--key-file=${pki}/server.key`,
    `--listen-client-urls=https://127.0.0.1:2379,https://${address}:2379`,
    '--listen-metrics-urls=http://127.0.0.1:2381',
    `--listen-peer-urls=https://${address}:2380`,
    '--name=cp-1',
    `--peer-cert-file=${pki}/peer.crt`,
    '--peer-client-cert-auth=true',
    `--peer-key-file=${pki}/peer.key`,
    `--peer-trusted-ca-file=${pki}/ca.crt`,
    '--snapshot-count=10000',
    `--trusted-ca-file=${pki}/ca.crt`,
    ...extraFlags,
  ];
  return stringify({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'etcd', namespace: 'kube-system', labels: { component: 'etcd', tier: 'control-plane' } },
    spec: { hostNetwork: true, containers: [{ name: 'etcd', image: 'registry.k8s.io/etcd:3.5.15-0', command }] },
  });
}

export function apiserverManifestYaml(version: string): string {
  return stringify({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'kube-apiserver', namespace: 'kube-system', labels: { component: 'kube-apiserver', tier: 'control-plane' } },
    spec: {
      hostNetwork: true,
      containers: [{ name: 'kube-apiserver', image: `registry.k8s.io/kube-apiserver:v${version}`, command: ['kube-apiserver'] }],
    },
  });
}

function kubeconfigYaml(server: string, ca: string, client: KeyPairPaths): string {
  const b64 = (file: string) => readFileSync(file).toString('base64');
  return stringify({
    apiVersion: 'v1',
    kind: 'Config',
    'current-context': 'kubelet@sim',
    clusters: [{ name: 'sim', cluster: { server, 'certificate-authority-data': b64(ca) } }],
    contexts: [{ name: 'kubelet@sim', context: { cluster: 'sim', user: 'kubelet' } }],
    users: [{ name: 'kubelet', user: { 'client-certificate-data': b64(client.cert), 'client-key-data': b64(client.key) } }],
  });
}

async function writeEtcdPki(etcdDir: string, address: string): Promise<void> {
  const ca = await createCA(etcdDir, 'ca', 'etcd-ca');
  const ips = [address, '127.0.0.1'];
  await issueCert({ ca, outDir: etcdDir, name: 'server', cn: 'cp-1', dnsNames: ['cp-1', 'localhost'], ipAddresses: ips, usage: 'both' });
  await issueCert({ ca, outDir: etcdDir, name: 'peer', cn: 'cp-1', dnsNames: ['cp-1', 'localhost'], ipAddresses: ips, usage: 'both' });
  await issueCert({ ca, outDir: etcdDir, name: 'healthcheck-client', cn: 'kube-etcd-healthcheck-client', usage: 'client' });
}

function writeSshKeys(dir: string, nodeDir: string, address: string): { key: string; knownHosts: string } {
  const sshDir = join(dir, 'ssh');
  mkdirSync(sshDir, { recursive: true });
  const key = join(sshDir, 'id_ed25519');
  const hostKey = join(nodeDir, 'ssh_host_ed25519_key');
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'sim-client', '-f', key]);
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'cp-1', '-f', hostKey]);
  writeFileSync(join(sshDir, 'authorized_keys'), readFileSync(`${key}.pub`));
  const knownHosts = join(sshDir, 'known_hosts');
  writeFileSync(knownHosts, `${address} ${readFileSync(`${hostKey}.pub`, 'utf8').split(' ').slice(0, 2).join(' ')}\n`);
  return { key, knownHosts };
}

/** As installing the kubelet package leaves the node's /usr: its executable names its version. */
export function installKubelet(nodeDir: string, version: string): void {
  mkdirSync(join(nodeDir, 'upper/usr/bin'), { recursive: true });
  writeFileSync(join(nodeDir, 'upper/usr/bin/kubelet'), executableText('kubelet', version, 'kubelet'), { mode: 0o755 });
}

export async function buildNodeFixture(subnet: string, delays: ClusterSpec['delays']): Promise<NodeFixture> {
  const dir = mkdtempSync(join(tmpdir(), 'sim-node-'));
  const node: SimNodeSpec = {
    name: 'cp-1',
    role: 'control-plane',
    address: `${subnet}.10`,
    sshPort: 22,
    os: 'debian',
    version: '1.30.5',
    zone: 'zone-a',
  };
  const apiAddress = `${subnet}.1`;
  const cluster: ClusterSpec = {
    name: 'sim',
    dir,
    subnet,
    apiServer: { address: apiAddress, port: 6443, url: `https://${apiAddress}:6443` },
    pkgs: { address: `${subnet}.2` },
    version: '1.30.5',
    published: ['1.30.5', '1.31.1'],
    nodes: [node],
    apiOnlyWorkers: 0,
    podsPerNode: 0,
    workload: 'none',
    delays,
    node24,
    repoRoot,
  };
  writeFileSync(join(dir, 'cluster.json'), JSON.stringify(cluster, null, 2));
  const nodeDir = join(dir, 'nodes', node.name);
  const k8s = join(nodeDir, 'upper/etc/kubernetes');
  for (const sub of ['manifests', 'pki/etcd']) mkdirSync(join(k8s, sub), { recursive: true });
  for (const sub of ['upper/var', 'work/etc', 'work/var', 'bin']) mkdirSync(join(nodeDir, sub), { recursive: true });

  const pkiDir = join(dir, 'pki');
  const ca = await createCA(pkiDir, 'ca', 'kubernetes');
  const server = await issueCert({
    ca,
    outDir: pkiDir,
    name: 'apiserver',
    cn: 'kube-apiserver',
    ipAddresses: [apiAddress],
    usage: 'server',
  });
  const kubelet = await issueCert({
    ca,
    outDir: pkiDir,
    name: 'kubelet-cp-1',
    cn: 'system:node:cp-1',
    organizations: ['system:nodes'],
    usage: 'client',
  });
  writeFileSync(join(k8s, 'kubelet.conf'), kubeconfigYaml(cluster.apiServer.url, ca.cert, kubelet));
  const admin = await issueCert({
    ca,
    outDir: pkiDir,
    name: 'admin',
    cn: 'kubernetes-admin',
    organizations: ['system:masters'],
    usage: 'client',
  });
  writeFileSync(join(dir, 'kubeconfig'), kubeconfigYaml(cluster.apiServer.url, ca.cert, admin));
  await writeEtcdPki(join(k8s, 'pki/etcd'), node.address);
  writeFileSync(join(k8s, 'manifests/etcd.yaml'), etcdManifestYaml(node.address));
  writeFileSync(join(k8s, 'manifests/kube-apiserver.yaml'), apiserverManifestYaml('1.30.5'));

  installKubelet(nodeDir, '1.30.5');
  const state: NodeState = {
    kubelet: { active: true, version: '1.30.5' },
    swap: false,
  };
  writeFileSync(join(nodeDir, 'state.json'), JSON.stringify(state, null, 2));
  // a shim in the node's bin proves /usr/local/sbin is the node's
  writeFileSync(join(nodeDir, 'bin/sim-hello'), '#!/bin/sh\necho "hello from $(basename "$0") on cp-1"\n');
  chmodSync(join(nodeDir, 'bin/sim-hello'), 0o755);

  const { key, knownHosts } = writeSshKeys(dir, nodeDir, node.address);
  const etcdPki = join(k8s, 'pki/etcd');
  return {
    dir,
    cluster,
    node,
    nodeDir,
    sshKey: key,
    knownHosts,
    apiPki: { ca: ca.cert, cert: server.cert, key: server.key },
    etcdClient: {
      ca: join(etcdPki, 'ca.crt'),
      cert: join(etcdPki, 'healthcheck-client.crt'),
      key: join(etcdPki, 'healthcheck-client.key'),
    },
  };
}

/** Starts the supervisor the way `sim up` does: detached, in a new mount namespace, output to supervisor.log. */
export function startSupervisor(f: NodeFixture): ChildProcess {
  const logFd = openSync(join(f.nodeDir, 'supervisor.log'), 'a');
  const child = spawn(
    'unshare',
    ['--mount', '--propagation', 'private', node24, join(repoRoot, 'sim/node/supervisor.ts'), '--dir', f.dir, '--node', f.node.name],
    {
      detached: true,
      stdio: ['ignore', logFd, logFd],
    },
  );
  closeSync(logFd);
  return child;
}

export interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export function run(file: string, args: string[], input?: string): Promise<RunResult> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(file, args, { stdio: [input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout?.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolvePromise({ code, stdout, stderr }));
    if (child.stdin) {
      child.stdin.on('error', () => undefined); // the program may exit before reading its input
      child.stdin.end(input);
    }
  });
}

export function sshOptions(f: NodeFixture, key = f.sshKey): string[] {
  return [
    '-i',
    key,
    '-o',
    'IdentitiesOnly=yes',
    '-o',
    'StrictHostKeyChecking=yes',
    '-o',
    `UserKnownHostsFile=${f.knownHosts}`,
    '-o',
    'BatchMode=yes',
    '-o',
    'ConnectTimeout=5',
    '-o',
    'LogLevel=ERROR',
  ];
}

export function ssh(f: NodeFixture, command: string, key?: string): Promise<RunResult> {
  return run('ssh', [...sshOptions(f, key), `root@${f.node.address}`, command]);
}

export function etcdctl(f: NodeFixture, args: string[]): Promise<RunResult> {
  const c = f.etcdClient;
  return run('etcdctl', [
    `--endpoints=https://${f.node.address}:2379`,
    `--cacert=${c.ca}`,
    `--cert=${c.cert}`,
    `--key=${c.key}`,
    '--dial-timeout=3s',
    ...args,
  ]);
}

export async function waitFor<T>(what: string, probe: () => Promise<T | undefined> | T | undefined, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError = '';
  while (Date.now() < deadline) {
    try {
      const value = await probe();
      if (value !== undefined && value !== false) return value;
    } catch (err) {
      lastError = (err as Error).message;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${lastError ? `: ${lastError}` : ''}`);
}
