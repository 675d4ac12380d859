// The PKI helpers, the kubeconfig client, token authentication, and the API server process
// (main.ts --dir DIR) as `sim up` runs it.
import { execFile, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { createKubeClient, KubeApiError, loadKubeconfig, renderKubeconfig } from '../../../sim/lib/kube-rest.ts';
import { createCA, createServiceAccountKeyPair, issueCert } from '../../../sim/lib/pki.ts';
import { eventually, startTestCluster } from './helpers.ts';

const run = promisify(execFile);
const root = join(import.meta.dirname, '..', '..', '..');
const dirs: string[] = [];

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'sim-apiserver-test-'));
  dirs.push(dir);
  return dir;
}

afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

describe('pki', () => {
  it('issues certificates with the asked names, groups and usages, verifiable against the CA', async () => {
    const dir = tempDir();
    const ca = await createCA(dir, 'ca', 'kubernetes');
    const leaf = await issueCert({
      ca,
      outDir: dir,
      name: 'node',
      cn: 'system:node:worker-1',
      organizations: ['system:nodes'],
      dnsNames: ['worker-1'],
      ipAddresses: ['127.1.2.3'],
      usage: 'both',
    });
    expect(leaf).toEqual({ cert: join(dir, 'node.crt'), key: join(dir, 'node.key') });
    const { stdout: verify } = await run('openssl', ['verify', '-CAfile', ca.cert, leaf.cert]);
    expect(verify).toContain(': OK');
    const { stdout: text } = await run('openssl', ['x509', '-in', leaf.cert, '-noout', '-text']);
    expect(text).toMatch(/Subject: O ?= ?system:nodes, CN ?= ?system:node:worker-1/);
    expect(text).toContain('DNS:worker-1');
    expect(text).toContain('IP Address:127.1.2.3');
    expect(text).toContain('TLS Web Server Authentication, TLS Web Client Authentication');
    expect(text).toContain('prime256v1');
    const sa = await createServiceAccountKeyPair(dir);
    expect(readFileSync(sa.pub, 'utf8')).toContain('BEGIN PUBLIC KEY');
  });
});

describe('kube-rest and authentication', () => {
  it('loads a kubeconfig with client certificate data, and accepts a bearer token from `tokens`', async () => {
    const c = await startTestCluster({ tokens: ['s3cret-token'] });
    try {
      expect((await c.kube.get('/api/v1/namespaces/default')).metadata.name).toBe('default');
      const error = await c.kube.get('/api/v1/namespaces/default/configmaps/none').catch((e: unknown) => e);
      expect(error).toBeInstanceOf(KubeApiError);
      expect((error as KubeApiError).status).toBe(404);
      expect(await c.kube.getOrNull('/api/v1/namespaces/default/configmaps/none')).toBeNull();
      const dir = tempDir();
      const tokenConfig = join(dir, 'token.kubeconfig');
      writeFileSync(tokenConfig, renderKubeconfig({ server: c.server.url, caPem: c.server.caPem, token: 's3cret-token' }));
      const byToken = createKubeClient(loadKubeconfig(tokenConfig));
      expect((await byToken.request('GET', '/api/v1/nodes')).status).toBe(200);
      byToken.close();
      writeFileSync(tokenConfig, renderKubeconfig({ server: c.server.url, caPem: c.server.caPem, token: 'wrong' }));
      const wrong = createKubeClient(loadKubeconfig(tokenConfig));
      expect((await wrong.request('GET', '/api/v1/nodes')).status).toBe(401);
      wrong.close();
    } finally {
      await c.close();
    }
  });
});

describe('main.ts --dir DIR', () => {
  it('serves the cluster of cluster.json with its api-only workers, writes its pid and stops on SIGTERM', async () => {
    const dir = tempDir();
    const address = `127.99.${Math.floor(Math.random() * 250) + 1}.1`;
    const ca = await createCA(join(dir, 'pki'), 'ca', 'kubernetes');
    await issueCert({ ca, outDir: join(dir, 'pki'), name: 'apiserver', cn: 'kube-apiserver', ipAddresses: [address], usage: 'server' });
    const admin = await issueCert({
      ca,
      outDir: join(dir, 'pki'),
      name: 'admin',
      cn: 'kubernetes-admin',
      organizations: ['system:masters'],
      usage: 'client',
    });
    writeFileSync(
      join(dir, 'cluster.json'),
      JSON.stringify({
        name: 'sim',
        dir,
        subnet: address.replace(/\.1$/, ''),
        version: '1.30.5',
        published: [],
        nodes: [],
        apiServer: { address, port: 6443, url: `https://${address}:6443` },
        apiOnlyWorkers: 3,
        podsPerNode: 2,
        workload: 'none',
        delays: { kubeletRestartMs: 100, podStartMs: 100, heartbeatMs: 1000 },
      }),
    );
    const kubeconfig = join(dir, 'kubeconfig');
    writeFileSync(
      kubeconfig,
      renderKubeconfig({
        server: `https://${address}:6443`,
        caPem: readFileSync(ca.cert, 'utf8'),
        certPem: readFileSync(admin.cert, 'utf8'),
        keyPem: readFileSync(admin.key, 'utf8'),
      }),
    );
    const child = spawn(process.execPath, [join(root, 'sim/apiserver/main.ts'), '--dir', dir], { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (d) => (output += d));
    child.stderr.on('data', (d) => (output += d));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    const kube = createKubeClient(loadKubeconfig(kubeconfig));
    try {
      await eventually(async () => existsSync(join(dir, 'apiserver', 'pid')), `pid file (output: ${output})`);
      expect(readFileSync(join(dir, 'apiserver', 'pid'), 'utf8').trim()).toBe(String(child.pid));
      const nodes = await kube.list('/api/v1/nodes');
      expect(nodes.items.map((n: any) => n.metadata.name)).toEqual(['api-worker-00001', 'api-worker-00002', 'api-worker-00003']);
      expect(nodes.items[0].status.addresses[0]).toEqual({ type: 'InternalIP', address: '127.250.0.1' });
      expect((await kube.list('/api/v1/pods', { fieldSelector: 'spec.nodeName=api-worker-00002' })).items).toHaveLength(2);
      const { stdout } = await run('kubectl', ['--kubeconfig', kubeconfig, 'get', 'nodes', '-o', 'name']);
      expect(stdout.trim().split('\n')).toHaveLength(3);
    } finally {
      kube.close();
      child.kill('SIGTERM');
    }
    expect(await exited).toBe(0);
    expect(existsSync(join(dir, 'apiserver', 'pid'))).toBe(false);
  });
});
