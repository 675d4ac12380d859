// The API server keeps its objects in a real etcd under kube-apiserver's /registry/… keys, answers a write only
// once etcd has it, and after an etcd snapshot restore serves what the snapshot holds (watches end; a watch
// resuming from before gets 410 Gone, as a client re-lists).
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCA, issueCert } from '../../../sim/lib/pki.ts';
import { randomSubnet } from '../node/fixture.ts';
import { eventually, startTestCluster, type TestCluster } from './helpers.ts';

const dir = mkdtempSync(join(tmpdir(), 'etcd-storage-'));
const address = `${randomSubnet()}.10`;
const endpoint = `https://${address}:2379`;
let etcd: ChildProcess | undefined;
let c: TestCluster;
let tls: { ca: string; cert: string; key: string };
let server: { cert: string; key: string };

function startEtcd(dataDir: string): void {
  etcd = spawn(
    '/usr/bin/etcd',
    [
      '--name=cp-1',
      `--data-dir=${dataDir}`,
      `--listen-client-urls=${endpoint}`,
      `--advertise-client-urls=${endpoint}`,
      `--listen-peer-urls=http://${address}:2380`,
      `--initial-advertise-peer-urls=http://${address}:2380`,
      `--initial-cluster=cp-1=http://${address}:2380`,
      `--cert-file=${server.cert}`,
      `--key-file=${server.key}`,
      `--trusted-ca-file=${tls.ca}`,
      '--client-cert-auth=true',
    ],
    { stdio: 'ignore' },
  );
}

async function stopEtcd(): Promise<void> {
  const child = etcd;
  etcd = undefined;
  if (!child || child.exitCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  await exited;
}

function etcdctl(...args: string[]): string {
  return execFileSync('etcdctl', [`--endpoints=${endpoint}`, `--cacert=${tls.ca}`, `--cert=${tls.cert}`, `--key=${tls.key}`, ...args], {
    encoding: 'utf8',
    env: { ...process.env, ETCDCTL_API: '3' },
  });
}

const stored = (key: string) => {
  const text = etcdctl('get', key, '--print-value-only').trim();
  return text ? JSON.parse(text) : undefined;
};

/** Opens a watch and collects its lines until the server ends it. */
function watch(path: string): { lines: any[]; ended: Promise<void> } {
  const conn = c.kube.connection;
  const lines: any[] = [];
  const ended = new Promise<void>((resolve, reject) => {
    const req = request(
      { host: '127.0.0.1', port: new URL(conn.server).port, ca: conn.ca, cert: conn.cert, key: conn.key, path },
      (res) => {
        let buffer = '';
        res.on('data', (chunk: Buffer) => {
          buffer += chunk.toString();
          for (let i = buffer.indexOf('\n'); i >= 0; i = buffer.indexOf('\n')) {
            lines.push(JSON.parse(buffer.slice(0, i)));
            buffer = buffer.slice(i + 1);
          }
        });
        res.on('end', () => resolve());
      },
    );
    req.on('error', reject);
    req.end();
  });
  return { lines, ended };
}

beforeAll(async () => {
  const ca = await createCA(dir, 'etcd-ca', 'etcd-ca');
  // kubeadm's etcd server certificate is for clients too: etcd's JSON gateway dials etcd's gRPC with it
  const s = await issueCert({ ca, outDir: dir, name: 'server', cn: 'cp-1', ipAddresses: [address], usage: 'both' });
  const client = await issueCert({ ca, outDir: dir, name: 'apiserver-etcd-client', cn: 'kube-apiserver-etcd-client', usage: 'client' });
  tls = { ca: ca.cert, cert: client.cert, key: client.key };
  server = s;
  startEtcd(join(dir, 'etcd'));
  c = await startTestCluster({
    etcd: {
      endpoints: [endpoint],
      tls: { ca: readFileSync(ca.cert, 'utf8'), cert: readFileSync(client.cert, 'utf8'), key: readFileSync(client.key, 'utf8') },
    },
  });
  await eventually(() => stored('/registry/namespaces/kube-system'), 'the first write of every object to etcd', 30_000);
}, 60_000);

afterAll(async () => {
  await c?.close();
  await stopEtcd();
  rmSync(dir, { recursive: true, force: true });
});

describe('API objects in etcd', () => {
  it('a write is in etcd under its /registry key when its answer arrives', async () => {
    const created = await c.kube.create('/api/v1/namespaces/kube-system/configmaps', {
      metadata: { name: 'kubeadm-config' },
      data: { ClusterConfiguration: 'kubernetesVersion: v1.30.5\n' },
    });
    expect(stored('/registry/configmaps/kube-system/kubeadm-config')).toEqual(created);
    await c.kube.create('/api/v1/nodes', { metadata: { name: 'cp-1' } });
    expect(stored('/registry/minions/cp-1')?.metadata.name).toBe('cp-1');
    await c.kube.del('/api/v1/nodes/cp-1');
    expect(stored('/registry/minions/cp-1')).toBeUndefined();
  });

  it('after an etcd snapshot restore the API serves what the snapshot holds; watches end and old resourceVersions are gone', async () => {
    const snapshot = join(dir, 'snapshot.db');
    etcdctl('snapshot', 'save', snapshot);
    await c.kube.patch('/api/v1/namespaces/kube-system/configmaps/kubeadm-config', {
      data: { ClusterConfiguration: 'kubernetesVersion: v1.31.13\n' },
    });
    await c.kube.create('/api/v1/namespaces/default/configmaps', { metadata: { name: 'created-after-backup' } });
    const before = await c.kube.list('/api/v1/configmaps');
    const open = watch(`/api/v1/configmaps?watch=true&resourceVersion=${before.metadata.resourceVersion}`);

    await stopEtcd();
    // as kube-apiserver's etcd readiness check
    const unready = await eventually(async () => {
      const res = await c.kube.request('GET', '/readyz');
      return res.status === 500 ? res : undefined;
    }, '/readyz failing while no etcd answers');
    expect(String(unready.body)).toContain('[-]etcd failed');
    execFileSync(
      'etcdctl',
      [
        'snapshot',
        'restore',
        snapshot,
        '--name=cp-1',
        `--data-dir=${join(dir, 'etcd-restored')}`,
        `--initial-cluster=cp-1=http://${address}:2380`,
        `--initial-advertise-peer-urls=http://${address}:2380`,
      ],
      { env: { ...process.env, ETCDCTL_API: '3' }, stdio: 'ignore' },
    );
    startEtcd(join(dir, 'etcd-restored'));

    await open.ended;
    const config = await eventually(
      async () => {
        const cm = await c.kube.get('/api/v1/namespaces/kube-system/configmaps/kubeadm-config');
        return cm.data.ClusterConfiguration.includes('v1.30.5') ? cm : undefined;
      },
      'kubeadm-config as the snapshot holds it',
      30_000,
    );
    expect(config.data.ClusterConfiguration).toBe('kubernetesVersion: v1.30.5\n');
    expect((await c.kube.request('GET', '/readyz')).status).toBe(200);
    expect(await c.kube.getOrNull('/api/v1/namespaces/default/configmaps/created-after-backup')).toBeNull();

    const resumed = watch(`/api/v1/configmaps?watch=true&resourceVersion=${before.metadata.resourceVersion}`);
    await resumed.ended;
    expect(resumed.lines).toEqual([expect.objectContaining({ type: 'ERROR', object: expect.objectContaining({ code: 410 }) })]);

    // and writes go to the restored etcd again
    await c.kube.create('/api/v1/namespaces/default/configmaps', { metadata: { name: 'after-restore' } });
    expect(stored('/registry/configmaps/default/after-restore')?.metadata.name).toBe('after-restore');
  }, 60_000);
});
