// The eviction subresource against PodDisruptionBudgets, and the API faults.
import * as k8s from '@kubernetes/client-node';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deploymentBody, eventually, nodeBody, startTestCluster, type TestCluster } from './helpers.ts';

let c: TestCluster;
let faultsFile: string;
let faultsDir: string;
const ns = '/api/v1/namespaces/ev';
const pdbs = '/apis/policy/v1/namespaces/ev/poddisruptionbudgets';

function eviction(name: string, extra: object = {}, apiVersion = 'policy/v1'): object {
  return { apiVersion, kind: 'Eviction', metadata: { name, namespace: 'ev' }, ...extra };
}

async function readyPods(app: string, count: number): Promise<any[]> {
  return eventually(async () => {
    const list = await c.kube.list(`${ns}/pods`, { labelSelector: `app=${app}` });
    const ready = list.items.filter(
      (p: any) => !p.metadata.deletionTimestamp && p.status.conditions?.some((x: any) => x.type === 'Ready' && x.status === 'True'),
    );
    return ready.length === count ? ready : undefined;
  }, `${count} ready ${app} pods`);
}

async function pdbSettled(name: string, healthy: number): Promise<any> {
  return eventually(async () => {
    const pdb = await c.kube.get(`${pdbs}/${name}`);
    return pdb.status?.currentHealthy === healthy ? pdb : undefined;
  }, `pdb ${name} with ${healthy} healthy`);
}

beforeAll(async () => {
  faultsDir = mkdtempSync(join(tmpdir(), 'sim-faults-'));
  faultsFile = join(faultsDir, 'faults.json');
  c = await startTestCluster({ faultsFile });
  await c.kube.create('/api/v1/nodes', nodeBody('node-a'));
  await c.kube.create('/api/v1/nodes', nodeBody('node-b'));
  await c.kube.create('/api/v1/namespaces', { metadata: { name: 'ev' } });
});
afterAll(async () => {
  await c.close();
  rmSync(faultsDir, { recursive: true, force: true });
});

describe('eviction', () => {
  it('blocks with 429 and the DisruptionBudget cause when the budget allows nothing', async () => {
    await c.kube.create('/apis/apps/v1/namespaces/ev/deployments', deploymentBody('web', 2));
    await c.kube.create(pdbs, { metadata: { name: 'web-pdb' }, spec: { minAvailable: 2, selector: { matchLabels: { app: 'web' } } } });
    const [pod] = await readyPods('web', 2);
    const pdb = await pdbSettled('web-pdb', 2);
    expect(pdb.status).toMatchObject({
      currentHealthy: 2,
      desiredHealthy: 2,
      disruptionsAllowed: 0,
      expectedPods: 2,
      observedGeneration: 1,
    });
    expect(pdb.status.conditions[0]).toMatchObject({ type: 'DisruptionAllowed', status: 'False', reason: 'InsufficientPods' });
    for (const version of ['policy/v1', 'policy/v1beta1']) {
      const res = await c.kube.request('POST', `${ns}/pods/${pod.metadata.name}/eviction`, eviction(pod.metadata.name, {}, version));
      expect(res.status).toBe(429);
      expect(res.body).toMatchObject({
        kind: 'Status',
        status: 'Failure',
        reason: 'TooManyRequests',
        code: 429,
        message: "Cannot evict pod as it would violate the pod's disruption budget.",
        details: {
          causes: [{ reason: 'DisruptionBudget', message: 'The disruption budget web-pdb needs 2 healthy pods and has 2 currently' }],
        },
      });
    }
  });

  it('allows one eviction (201), decrements at once, and the next gets 429', async () => {
    await c.kube.patch(`${pdbs}/web-pdb`, { spec: { minAvailable: 1 } });
    await eventually(async () => (await c.kube.get(`${pdbs}/web-pdb`)).status.disruptionsAllowed === 1, 'one disruption allowed');
    const [a, b] = await readyPods('web', 2);
    const first = await c.kube.request('POST', `${ns}/pods/${a.metadata.name}/eviction`, eviction(a.metadata.name));
    expect(first.status).toBe(201);
    expect(first.body).toEqual({ kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', code: 201 });
    expect((await c.kube.get(`${ns}/pods/${a.metadata.name}`)).metadata.deletionTimestamp).toBeTruthy();
    const second = await c.kube.request('POST', `${ns}/pods/${b.metadata.name}/eviction`, eviction(b.metadata.name));
    expect(second.status).toBe(429);
    expect(second.body.details.causes[0].message).toBe('The disruption budget web-pdb needs 1 healthy pods and has 1 currently');
  });

  it('answers 404 for a missing pod and 400 for a name mismatch', async () => {
    const missing = await c.kube.request('POST', `${ns}/pods/nope/eviction`, eviction('nope'));
    expect(missing.status).toBe(404);
    expect(missing.body.message).toBe('pods "nope" not found');
    const [pod] = await readyPods('web', 2);
    const mismatch = await c.kube.request('POST', `${ns}/pods/${pod.metadata.name}/eviction`, eviction('other'));
    expect(mismatch.status).toBe(400);
    expect(mismatch.body.message).toBe('name in URL does not match name in Eviction object');
  });

  it('lets Pending and terminating pods through, blocks a Running pod that is not Ready', async () => {
    await c.kube.create(pdbs, { metadata: { name: 'solo-pdb' }, spec: { minAvailable: 1, selector: { matchLabels: { app: 'solo' } } } });
    const spec = { schedulerName: 'none', containers: [{ name: 'a', image: 'a:1' }] };
    await c.kube.create(`${ns}/pods`, { metadata: { name: 'pending', labels: { app: 'solo' } }, spec });
    await pdbSettled('solo-pdb', 0);
    expect((await c.kube.request('POST', `${ns}/pods/pending/eviction`, eviction('pending'))).status).toBe(201);
    await c.kube.create(`${ns}/pods`, { metadata: { name: 'unready', labels: { app: 'solo' } }, spec });
    await c.kube.patch(
      `${ns}/pods/unready/status`,
      { status: { phase: 'Running', conditions: [{ type: 'Ready', status: 'False' }] } },
      'strategic',
    );
    const blocked = await c.kube.request('POST', `${ns}/pods/unready/eviction`, eviction('unready'));
    expect(blocked.status).toBe(429);
    expect(blocked.body.details.causes[0].message).toBe('The disruption budget solo-pdb needs 1 healthy pods and has 0 currently');
  });

  it('answers 500 for a pod under two budgets and honours deleteOptions.gracePeriodSeconds', async () => {
    await c.kube.create(`${ns}/pods`, {
      metadata: { name: 'double', labels: { app: 'solo', extra: 'x' } },
      spec: { nodeName: 'node-a', containers: [{ name: 'a', image: 'a:1' }] },
    });
    await c.kube.create(pdbs, { metadata: { name: 'extra-pdb' }, spec: { maxUnavailable: 1, selector: { matchLabels: { extra: 'x' } } } });
    await eventually(async () => (await c.kube.get(`${ns}/pods/double`)).status.phase === 'Running', 'double running');
    const res = await c.kube.request('POST', `${ns}/pods/double/eviction`, eviction('double'));
    expect(res.status).toBe(500);
    expect(res.body.message).toContain('This pod has more than one PodDisruptionBudget, which the eviction subresource does not support.');
    await c.kube.del(`${pdbs}/extra-pdb`);
    await c.kube.del(`${pdbs}/solo-pdb`);
    const gone = await c.kube.request(
      'POST',
      `${ns}/pods/double/eviction`,
      eviction('double', { deleteOptions: { gracePeriodSeconds: 0 } }),
    );
    expect(gone.status).toBe(201);
    expect((await c.kube.request('GET', `${ns}/pods/double`)).status).toBe(404);
  });

  it('surfaces as ApiException code 429 in @kubernetes/client-node', async () => {
    const kc = new k8s.KubeConfig();
    kc.loadFromString(c.server.kubeconfigText);
    const core = kc.makeApiClient(k8s.CoreV1Api);
    await c.kube.patch(`${pdbs}/web-pdb`, { spec: { minAvailable: 2 } });
    const [pod] = await readyPods('web', 2);
    await eventually(
      async () =>
        (await c.kube.get(`${pdbs}/web-pdb`)).status.disruptionsAllowed === 0 &&
        (await c.kube.get(`${pdbs}/web-pdb`)).status.desiredHealthy === 2,
      'budget at 0',
    );
    const error = await core
      .createNamespacedPodEviction({
        name: pod.metadata.name,
        namespace: 'ev',
        body: { metadata: { name: pod.metadata.name, namespace: 'ev' } },
      })
      .then(
        () => undefined,
        (e: unknown) => e as k8s.ApiException<string>,
      );
    expect(error).toBeInstanceOf(k8s.ApiException);
    expect(error!.code).toBe(429);
  });
});

describe('faults', () => {
  it('pdb-blocks answers 429 although the budget has room', async () => {
    await c.kube.patch(`${pdbs}/web-pdb`, { spec: { minAvailable: 0 } });
    await eventually(async () => (await c.kube.get(`${pdbs}/web-pdb`)).status.disruptionsAllowed === 2, 'budget with room');
    writeFileSync(faultsFile, JSON.stringify([{ type: 'pdb-blocks', namespace: 'ev', name: 'web-pdb' }]));
    const [pod] = await readyPods('web', 2);
    const res = await c.kube.request('POST', `${ns}/pods/${pod.metadata.name}/eviction`, eviction(pod.metadata.name));
    expect(res.status).toBe(429);
    rmSync(faultsFile);
    expect((await c.kube.request('POST', `${ns}/pods/${pod.metadata.name}/eviction`, eviction(pod.metadata.name))).status).toBe(201);
  });

  it('api-unavailable answers 503 inside its window only, and /sim/status keeps answering', async () => {
    writeFileSync(faultsFile, JSON.stringify([{ type: 'api-unavailable', durationMs: 700 }]));
    const res = await c.kube.request('GET', '/api/v1/nodes');
    expect(res.status).toBe(503);
    expect(res.body).toMatchObject({ kind: 'Status', reason: 'ServiceUnavailable', code: 503 });
    expect((await c.kube.request('GET', '/sim/status')).status).toBe(200);
    await eventually(async () => (await c.kube.request('GET', '/api/v1/nodes')).status === 200, 'the window to end', 5000);
    writeFileSync(faultsFile, JSON.stringify([{ type: 'api-unavailable', startAfterMs: 60_000, durationMs: 1000 }]));
    expect((await c.kube.request('GET', '/api/v1/nodes')).status).toBe(200);
    rmSync(faultsFile);
  });

  it('api-error answers its status to the requests it matches (method, path, body), Retry-After and times included', async () => {
    writeFileSync(
      faultsFile,
      JSON.stringify([
        { type: 'api-error', status: 429, method: 'GET', path: '/api/v1/nodes', retryAfterSeconds: 3, times: 1 },
        { type: 'api-error', status: 403, method: 'PATCH', path: '/api/v1/nodes/', body: '"unschedulable":null' },
        { type: 'api-error', status: 502, path: '/api/v1/namespaces/kube-system/configmaps' },
      ]),
    );
    const throttled = await c.kube.request('GET', '/api/v1/nodes');
    expect(throttled.status).toBe(429);
    expect(throttled.headers['retry-after']).toBe('3');
    expect(throttled.body).toMatchObject({ kind: 'Status', reason: 'TooManyRequests', code: 429, details: { retryAfterSeconds: 3 } });
    expect((await c.kube.request('GET', '/api/v1/nodes')).status).toBe(200); // times: 1
    const node = (await c.kube.request('GET', '/api/v1/nodes')).body.items[0].metadata.name;
    const patch = (body: object) => c.kube.request('PATCH', `/api/v1/nodes/${node}`, body, { contentType: 'application/merge-patch+json' });
    expect((await patch({ metadata: { annotations: { 'sim-test': 'x' } } })).status).toBe(200);
    const refused = await patch({ spec: { unschedulable: null } });
    expect(refused.status).toBe(403);
    expect(refused.body).toMatchObject({ reason: 'Forbidden', code: 403 });
    const gateway = await c.kube.request('GET', '/api/v1/namespaces/kube-system/configmaps');
    expect([gateway.status, gateway.body]).toEqual([502, '502 Bad Gateway\n']);
    rmSync(faultsFile);
  });

  it('api-reset cuts the connection of the requests it matches, unanswered', async () => {
    writeFileSync(faultsFile, JSON.stringify([{ type: 'api-reset', path: '/api/v1/nodes', times: 1 }]));
    await expect(c.kube.request('GET', '/api/v1/nodes')).rejects.toMatchObject({ code: 'ECONNRESET' });
    expect((await c.kube.request('GET', '/api/v1/nodes')).status).toBe(200);
    rmSync(faultsFile);
  });
});
