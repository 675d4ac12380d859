// What a client sees from the basic verbs: status codes, Status reasons and messages worded like
// kube-apiserver's, resourceVersion conflicts, patch content types, the status subresource.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestCluster, type TestCluster } from './helpers.ts';

let c: TestCluster;
const cm = '/api/v1/namespaces/default/configmaps';
const leases = '/apis/coordination.k8s.io/v1/namespaces/kube-system/leases';

beforeAll(async () => {
  c = await startTestCluster();
});
afterAll(async () => {
  await c.close();
});

describe('create, get, update', () => {
  it('has the default namespaces a fresh cluster has', async () => {
    const list = await c.kube.list('/api/v1/namespaces');
    expect(list.items.map((n: any) => n.metadata.name).sort()).toEqual(['default', 'kube-node-lease', 'kube-public', 'kube-system']);
    expect(Number(list.metadata.resourceVersion)).toBeGreaterThan(0);
  });

  it('answers 201, then 409 AlreadyExists for the same name', async () => {
    const first = await c.kube.request('POST', cm, { metadata: { name: 'dup' }, data: { a: '1' } });
    expect(first.status).toBe(201);
    expect(first.body.metadata.uid).toBeTruthy();
    expect(first.body.metadata.resourceVersion).toMatch(/^\d+$/);
    const second = await c.kube.request('POST', cm, { metadata: { name: 'dup' } });
    expect(second.status).toBe(409);
    expect(second.body).toMatchObject({
      kind: 'Status',
      status: 'Failure',
      reason: 'AlreadyExists',
      message: 'configmaps "dup" already exists',
      code: 409,
    });
  });

  it('answers 404 NotFound worded like the real server', async () => {
    const res = await c.kube.request('GET', '/api/v1/namespaces/default/pods/nope');
    expect(res.status).toBe(404);
    expect(res.body).toMatchObject({ reason: 'NotFound', message: 'pods "nope" not found', details: { name: 'nope', kind: 'pods' } });
    const grouped = await c.kube.request('GET', '/apis/apps/v1/namespaces/default/deployments/nope');
    expect(grouped.body.message).toBe('deployments.apps "nope" not found');
  });

  it('refuses a create in a missing namespace with namespaces "x" not found', async () => {
    const res = await c.kube.request('POST', '/api/v1/namespaces/no-such-ns/configmaps', { metadata: { name: 'x' } });
    expect(res.status).toBe(404);
    expect(res.body.message).toBe('namespaces "no-such-ns" not found');
  });

  it('gives 409 Conflict on a PUT with a stale resourceVersion and 200 with the current one', async () => {
    const created = await c.kube.create(leases, { metadata: { name: 'my-lock' }, spec: { holderIdentity: 'a' } });
    const updated = await c.kube.replace(`${leases}/my-lock`, { ...created, spec: { holderIdentity: 'b' } });
    expect(updated.spec.holderIdentity).toBe('b');
    const stale = await c.kube.request('PUT', `${leases}/my-lock`, { ...created, spec: { holderIdentity: 'c' } });
    expect(stale.status).toBe(409);
    expect(stale.body.reason).toBe('Conflict');
    expect(stale.body.message).toBe(
      'Operation cannot be fulfilled on leases.coordination.k8s.io "my-lock": the object has been modified; please apply your changes to the latest version and try again',
    );
  });

  it('keeps the resourceVersion on an update that changes nothing', async () => {
    const created = await c.kube.create(cm, { metadata: { name: 'same' }, data: { a: '1' } });
    const again = await c.kube.replace(`${cm}/same`, created);
    expect(again.metadata.resourceVersion).toBe(created.metadata.resourceVersion);
  });
});

describe('Lease MicroTime', () => {
  it('refuses three fractional digits on create (400) and in a merge patch (422)', async () => {
    const bad = await c.kube.request('POST', leases, { metadata: { name: 'ms' }, spec: { renewTime: '2024-05-01T10:00:27.123Z' } });
    expect(bad.status).toBe(400);
    expect(bad.body.reason).toBe('BadRequest');
    expect(bad.body.message).toContain('cannot parse ".123Z" as ".000000"');
    const noFraction = await c.kube.request('POST', leases, { metadata: { name: 'ms' }, spec: { acquireTime: '2024-05-01T10:00:27Z' } });
    expect(noFraction.status).toBe(400);
    await c.kube.create(leases, { metadata: { name: 'ms' }, spec: { renewTime: '2024-05-01T10:00:27.123456Z' } });
    const patched = await c.kube.request(
      'PATCH',
      `${leases}/ms`,
      { spec: { renewTime: '2024-05-01T10:00:28.123Z' } },
      { contentType: 'application/merge-patch+json' },
    );
    expect(patched.status).toBe(422);
    const good = await c.kube.patch(`${leases}/ms`, { spec: { renewTime: '2024-05-01T10:00:28.123000Z' } });
    expect(good.spec.renewTime).toBe('2024-05-01T10:00:28.123000Z');
  });
});

describe('patch', () => {
  it('merge patch: null deletes a key; stale metadata.resourceVersion gives 409', async () => {
    const created = await c.kube.create(cm, { metadata: { name: 'mp' }, data: { keep: '1', drop: '2' } });
    const patched = await c.kube.patch(`${cm}/mp`, { data: { drop: null, added: '3' } }, 'merge');
    expect(patched.data).toEqual({ keep: '1', added: '3' });
    const stale = await c.kube.request(
      'PATCH',
      `${cm}/mp`,
      { metadata: { resourceVersion: created.metadata.resourceVersion }, data: { x: '1' } },
      { contentType: 'application/merge-patch+json' },
    );
    expect(stale.status).toBe(409);
    expect(stale.body.reason).toBe('Conflict');
  });

  it('answers 415 to PATCH with application/json and 404 on a missing object', async () => {
    const res = await c.kube.request('PATCH', `${cm}/mp`, { data: { a: '1' } }, { contentType: 'application/json' });
    expect(res.status).toBe(415);
    expect(res.body.reason).toBe('UnsupportedMediaType');
    const missing = await c.kube.request('PATCH', `${cm}/absent`, { data: {} }, { contentType: 'application/merge-patch+json' });
    expect(missing.status).toBe(404);
  });

  it('json patch: a failing test op gives 422 with empty details; replace adds a missing key; an object body gives 400', async () => {
    const obj = await c.kube.create(cm, { metadata: { name: 'jp' }, data: { a: '1' } });
    const failed = await c.kube.request(
      'PATCH',
      `${cm}/jp`,
      [
        { op: 'test', path: '/metadata/resourceVersion', value: '1' },
        { op: 'replace', path: '/data/a', value: '2' },
      ],
      { contentType: 'application/json-patch+json' },
    );
    expect(failed.status).toBe(422);
    expect(failed.body).toMatchObject({
      reason: 'Invalid',
      message: 'the server rejected our request due to an error in our request',
      details: {},
    });
    const ok = await c.kube.patch(
      `${cm}/jp`,
      [
        { op: 'test', path: '/metadata/resourceVersion', value: obj.metadata.resourceVersion },
        { op: 'replace', path: '/data/new', value: 'n' },
        { op: 'remove', path: '/data/missing' },
      ],
      'json',
    );
    expect(ok.data).toEqual({ a: '1', new: 'n' });
    const objectBody = await c.kube.request('PATCH', `${cm}/jp`, { data: {} }, { contentType: 'application/json-patch+json' });
    expect(objectBody.status).toBe(400);
    expect(objectBody.body.message).toBe('json: cannot unmarshal object into Go value of type jsonpatch.Patch');
  });

  it('strategic merge merges conditions by type and addresses by type; merge patch replaces the list', async () => {
    await c.kube.create('/api/v1/nodes', {
      metadata: { name: 'smp-node' },
      status: {
        conditions: [
          { type: 'Ready', status: 'True' },
          { type: 'DiskPressure', status: 'False' },
        ],
        addresses: [
          { type: 'InternalIP', address: '10.0.0.1' },
          { type: 'Hostname', address: 'smp-node' },
        ],
      },
    });
    const smp = await c.kube.patch(
      '/api/v1/nodes/smp-node/status',
      { status: { conditions: [{ type: 'Ready', status: 'False' }], addresses: [{ type: 'InternalIP', address: '10.0.0.2' }] } },
      'strategic',
    );
    expect(smp.status.conditions).toEqual([
      { type: 'Ready', status: 'False' },
      { type: 'DiskPressure', status: 'False' },
    ]);
    expect(smp.status.addresses).toEqual([
      { type: 'InternalIP', address: '10.0.0.2' },
      { type: 'Hostname', address: 'smp-node' },
    ]);
    const merge = await c.kube.patch(
      '/api/v1/nodes/smp-node/status',
      { status: { conditions: [{ type: 'Ready', status: 'True' }] } },
      'merge',
    );
    expect(merge.status.conditions).toEqual([{ type: 'Ready', status: 'True' }]);
  });

  it('strategic merge merges containers by name and honours $patch: delete', async () => {
    await c.kube.create('/apis/apps/v1/namespaces/default/deployments', {
      metadata: { name: 'smp-deploy' },
      spec: {
        replicas: 0,
        selector: { matchLabels: { app: 's' } },
        template: {
          metadata: { labels: { app: 's' } },
          spec: {
            containers: [
              { name: 'a', image: 'a:1' },
              { name: 'b', image: 'b:1' },
            ],
          },
        },
      },
    });
    const patched = await c.kube.patch(
      '/apis/apps/v1/namespaces/default/deployments/smp-deploy',
      {
        spec: {
          template: {
            spec: {
              containers: [
                { name: 'a', image: 'a:2' },
                { name: 'b', $patch: 'delete' },
              ],
            },
          },
        },
      },
      'strategic',
    );
    expect(patched.spec.template.spec.containers.map((x: any) => `${x.name}=${x.image}`)).toEqual(['a=a:2']);
    expect(patched.metadata.generation).toBe(2);
  });
});

describe('status subresource', () => {
  it('ignores status on the main resource and spec on /status', async () => {
    const pods = '/api/v1/namespaces/default/pods';
    await c.kube.create(pods, {
      metadata: { name: 'st' },
      spec: { schedulerName: 'none', containers: [{ name: 'a', image: 'a:1' }] },
      status: { phase: 'Running' },
    });
    const got = await c.kube.get(`${pods}/st`);
    expect(got.status.phase).toBe('Pending');
    const main = await c.kube.patch(`${pods}/st`, { metadata: { labels: { x: 'y' } }, status: { phase: 'Failed' } }, 'merge');
    expect(main.metadata.labels).toEqual({ x: 'y' });
    expect(main.status.phase).toBe('Pending');
    const status = await c.kube.patch(`${pods}/st/status`, { spec: { activeDeadlineSeconds: 5 }, status: { phase: 'Running' } }, 'merge');
    expect(status.status.phase).toBe('Running');
    expect(status.spec.activeDeadlineSeconds).toBeUndefined();
  });
});

describe('deletion', () => {
  it('deletes an unbound pod at once and answers 200 with the object; others answer a Success Status', async () => {
    const pods = '/api/v1/namespaces/default/pods';
    await c.kube.create(pods, {
      metadata: { name: 'unbound' },
      spec: { schedulerName: 'none', containers: [{ name: 'a', image: 'a:1' }] },
    });
    const res = await c.kube.request('DELETE', `${pods}/unbound`);
    expect(res.status).toBe(200);
    expect(res.body.kind).toBe('Pod');
    expect((await c.kube.request('GET', `${pods}/unbound`)).status).toBe(404);
    await c.kube.create(cm, { metadata: { name: 'gone' } });
    const del = await c.kube.request('DELETE', `${cm}/gone`);
    expect(del.body).toMatchObject({ kind: 'Status', status: 'Success', details: { name: 'gone', kind: 'configmaps' } });
  });

  it('gives a bound pod deletionTimestamp = now + grace, and removes it at once with gracePeriodSeconds 0', async () => {
    const pods = '/api/v1/namespaces/default/pods';
    await c.kube.create(pods, { metadata: { name: 'bound' }, spec: { nodeName: 'ghostless', containers: [{ name: 'a', image: 'a:1' }] } });
    const before = Date.now();
    const marked = await c.kube.del(`${pods}/bound`);
    expect(marked.metadata.deletionGracePeriodSeconds).toBe(30);
    const deadline = Date.parse(marked.metadata.deletionTimestamp);
    expect(deadline).toBeGreaterThanOrEqual(Math.floor(before / 1000) * 1000 + 29_000);
    expect((await c.kube.get(`${pods}/bound`)).metadata.deletionTimestamp).toBe(marked.metadata.deletionTimestamp);
    const final = await c.kube.request('DELETE', `${pods}/bound`, { gracePeriodSeconds: 0 });
    expect(final.status).toBe(200);
    expect(final.body.kind).toBe('Pod');
    expect((await c.kube.request('GET', `${pods}/bound`)).status).toBe(404);
  });
});

describe('authentication and fixed paths', () => {
  it('serves /version, /readyz, /livez, /healthz', async () => {
    expect((await c.kube.get('/version')).gitVersion).toBe('v1.30.5');
    for (const path of ['/readyz', '/livez', '/healthz']) {
      const res = await c.kube.request('GET', path);
      expect(res.status).toBe(200);
      expect(res.body).toBe('ok');
    }
  });

  it('treats a client without certificate or token as system:anonymous: public paths only, 403 elsewhere', async () => {
    const { createKubeClient } = await import('../../../sim/lib/kube-rest.ts');
    const anonymous = createKubeClient({ server: c.server.url, ca: Buffer.from(c.server.caPem) });
    const res = await anonymous.request('GET', '/api/v1/nodes');
    const readyz = await anonymous.request('GET', '/readyz');
    anonymous.close();
    expect(res.status).toBe(403);
    expect(res.body).toMatchObject({
      kind: 'Status',
      reason: 'Forbidden',
      code: 403,
      message: 'nodes is forbidden: User "system:anonymous" cannot list resource "nodes" in API group "" at the cluster scope',
    });
    expect(readyz.status).toBe(200);
  });
});
