// Lists (selectors, pagination), watch, discovery and what kubectl prints.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestCluster, type TestCluster } from './helpers.ts';

const run = promisify(execFile);
let c: TestCluster;
const pods = '/api/v1/namespaces/sel/pods';

function pod(name: string, labels: Record<string, string>, nodeName?: string): object {
  return {
    metadata: { name, labels },
    spec: { schedulerName: 'none', ...(nodeName ? { nodeName } : {}), containers: [{ name: 'a', image: 'a:1' }] },
  };
}

beforeAll(async () => {
  c = await startTestCluster({ apiOnlyWorkers: 3, podsPerNode: 4 });
  await c.kube.create('/api/v1/namespaces', { metadata: { name: 'sel' } });
  await c.kube.create(pods, pod('p1', { app: 'web', tier: 'front' }));
  await c.kube.create(pods, pod('p2', { app: 'web', tier: 'back' }));
  await c.kube.create(pods, pod('p3', { app: 'db' }));
  await c.kube.create(pods, pod('p4', { app: 'cache', legacy: 'yes' }));
});
afterAll(async () => {
  await c.close();
});

const names = (list: any) => list.items.map((i: any) => i.metadata.name);

describe('label selectors', () => {
  it.each([
    ['app=web', ['p1', 'p2']],
    ['app==web', ['p1', 'p2']],
    ['app!=web', ['p3', 'p4']],
    ['app in (db,cache)', ['p3', 'p4']],
    ['app notin (db,cache)', ['p1', 'p2']],
    ['tier', ['p1', 'p2']],
    ['!tier', ['p3', 'p4']],
    ['app=web,tier!=back', ['p1']],
  ])('%s', async (selector, expected) => {
    expect(names(await c.kube.list(pods, { labelSelector: selector }))).toEqual(expected);
  });
});

describe('field selectors', () => {
  it('selects pods by node, name and phase, and nodes by unschedulable', async () => {
    const onNode = await c.kube.list('/api/v1/pods', { fieldSelector: 'spec.nodeName=api-worker-00002' });
    expect(onNode.items).toHaveLength(4);
    expect(onNode.items.every((p: any) => p.spec.nodeName === 'api-worker-00002')).toBe(true);
    expect(names(await c.kube.list(pods, { fieldSelector: 'metadata.name=p3' }))).toEqual(['p3']);
    expect(names(await c.kube.list(pods, { fieldSelector: 'status.phase=Pending,metadata.name!=p1' }))).toEqual(['p2', 'p3', 'p4']);
    const running = await c.kube.list('/api/v1/pods', { fieldSelector: 'status.phase=Running', labelSelector: 'app=bulk' });
    expect(running.items).toHaveLength(12);
    await c.kube.patch('/api/v1/nodes/api-worker-00003', { spec: { unschedulable: true } }, 'strategic');
    expect(names(await c.kube.list('/api/v1/nodes', { fieldSelector: 'spec.unschedulable=true' }))).toEqual(['api-worker-00003']);
    await c.kube.patch('/api/v1/nodes/api-worker-00003', { spec: { unschedulable: null } }, 'strategic');
    const bad = await c.kube.request('GET', '/api/v1/pods', undefined, { query: { fieldSelector: 'spec.bogus=1' } });
    expect(bad.status).toBe(400);
  });
});

describe('pagination', () => {
  it('pages with limit/continue in key order, remainingItemCount only without selectors', async () => {
    const seen: string[] = [];
    let token: string | undefined;
    let first = true;
    do {
      const page = await c.kube.list('/api/v1/pods', { limit: 5, continue: token });
      if (first) {
        expect(page.items).toHaveLength(5);
        expect(page.metadata.remainingItemCount).toBe(16 - 5);
        first = false;
      }
      seen.push(...page.items.map((p: any) => `${p.metadata.namespace}/${p.metadata.name}`));
      token = page.metadata.continue || undefined;
      if (!token) expect(page.metadata.remainingItemCount).toBeUndefined();
    } while (token);
    expect(seen).toHaveLength(16);
    expect([...seen].sort()).toEqual(seen);
    const selected = await c.kube.list('/api/v1/pods', { limit: 2, labelSelector: 'app=bulk' });
    expect(selected.items).toHaveLength(2);
    expect(selected.metadata.continue).toBeTruthy();
    expect(selected.metadata.remainingItemCount).toBeUndefined();
  });
});

describe('watch', () => {
  it('streams ADDED, MODIFIED and DELETED from a resourceVersion', async () => {
    const list = await c.kube.list('/api/v1/namespaces/sel/configmaps');
    const { request } = await import('node:https');
    const conn = c.kube.connection;
    const lines: any[] = [];
    const done = new Promise<void>((resolve, reject) => {
      const req = request(
        {
          host: '127.0.0.1',
          port: new URL(conn.server).port,
          ca: conn.ca,
          cert: conn.cert,
          key: conn.key,
          path: `/api/v1/namespaces/sel/configmaps?watch=true&resourceVersion=${list.metadata.resourceVersion}&timeoutSeconds=5`,
        },
        (res) => {
          let buffer = '';
          res.on('data', (chunk: Buffer) => {
            buffer += chunk.toString();
            for (let i = buffer.indexOf('\n'); i >= 0; i = buffer.indexOf('\n')) {
              lines.push(JSON.parse(buffer.slice(0, i)));
              buffer = buffer.slice(i + 1);
              if (lines.length === 3) {
                req.destroy();
                resolve();
              }
            }
          });
        },
      );
      req.on('error', (e) => (lines.length === 3 ? resolve() : reject(e)));
      req.end();
    });
    await new Promise((r) => setTimeout(r, 100));
    await c.kube.create('/api/v1/namespaces/sel/configmaps', { metadata: { name: 'w' } });
    await c.kube.patch('/api/v1/namespaces/sel/configmaps/w', { data: { a: '1' } });
    await c.kube.del('/api/v1/namespaces/sel/configmaps/w');
    await done;
    expect(lines.map((l) => `${l.type} ${l.object.metadata.name}`)).toEqual(['ADDED w', 'MODIFIED w', 'DELETED w']);
  });
});

describe('discovery and kubectl', () => {
  it('advertises pods/eviction in policy/v1 as kubectl drain expects', async () => {
    const core = await c.kube.get('/api/v1');
    expect(core.resources.find((r: any) => r.name === 'pods/eviction')).toMatchObject({ group: 'policy', version: 'v1', kind: 'Eviction' });
    const groups = await c.kube.get('/apis');
    expect(groups.groups.map((g: any) => g.name)).toEqual(expect.arrayContaining(['apps', 'policy', 'coordination.k8s.io', 'batch']));
    expect((await c.kube.get('/apis/apps/v1')).resources.map((r: any) => r.name)).toContain('daemonsets');
  });

  it('kubectl get nodes prints NAME STATUS ROLES AGE VERSION with SchedulingDisabled', async () => {
    await c.kube.patch('/api/v1/nodes/api-worker-00001', { spec: { unschedulable: true } }, 'strategic');
    const { stdout } = await run('kubectl', ['--kubeconfig', c.server.kubeconfigPath, 'get', 'nodes']);
    const lines = stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^NAME\s+STATUS\s+ROLES\s+AGE\s+VERSION$/);
    expect(lines[1]).toMatch(/^api-worker-00001\s+Ready,SchedulingDisabled\s+<none>\s+\d+s\s+v1\.30\.5$/);
    expect(lines[2]).toMatch(/^api-worker-00002\s+Ready\s+<none>\s+\d+s\s+v1\.30\.5$/);
  });

  it('kubectl get pods -A prints namespaces, readiness and status', async () => {
    const { stdout } = await run('kubectl', ['--kubeconfig', c.server.kubeconfigPath, 'get', 'pods', '-A']);
    const lines = stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^NAMESPACE\s+NAME\s+READY\s+STATUS\s+RESTARTS\s+AGE$/);
    expect(lines.find((l) => l.includes('app-00001-00000'))).toMatch(/^sim-bulk\s+app-00001-00000\s+1\/1\s+Running\s+0\s+\d+s$/);
    expect(lines.find((l) => /\sp1\s/.test(l))).toMatch(/^sel\s+p1\s+0\/1\s+Pending\s+0\s+\d+s$/);
  });
});
