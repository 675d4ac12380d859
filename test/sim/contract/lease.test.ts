// Leases as the Action's run lock uses them: create-once (409 AlreadyExists), optimistic replace
// (409 Conflict on a stale resourceVersion), and MicroTime renewTime/acquireTime.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { V1MicroTime, type V1Lease } from '@kubernetes/client-node';
import { closeScope, mergePatch, openScope, type ContractScope } from './fixture.ts';
import { describeResponse, rawRequest } from './raw.ts';
import { apiFailure } from './wait.ts';

let scope: ContractScope;

beforeAll(async () => {
  scope = await openScope(0);
});
afterAll(async () => {
  await closeScope(scope);
});

const MICRO_TIME = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/;

function leaseBody(name: string, holder: string): V1Lease {
  const now = new V1MicroTime();
  return {
    apiVersion: 'coordination.k8s.io/v1',
    kind: 'Lease',
    metadata: { name },
    spec: { holderIdentity: holder, leaseDurationSeconds: 60, acquireTime: now, renewTime: now, leaseTransitions: 0 },
  };
}

const conflictMessage = (name: string) =>
  `Operation cannot be fulfilled on leases.coordination.k8s.io "${name}": the object has been modified; please apply your changes to the latest version and try again`;

describe('Lease lock', () => {
  it('create is 201; a second create is 409 AlreadyExists', async () => {
    const name = scope.unique('upgrade-lock');
    const created = await scope.coordination.createNamespacedLeaseWithHttpInfo({
      namespace: scope.namespace,
      body: leaseBody(name, 'run-1'),
    });
    expect(created.httpStatusCode).toBe(201);
    const again = await apiFailure(
      scope.coordination.createNamespacedLease({ namespace: scope.namespace, body: leaseBody(name, 'run-2') }),
    );
    expect(again.code).toBe(409);
    expect(again.status).toMatchObject({
      reason: 'AlreadyExists',
      message: `leases.coordination.k8s.io "${name}" already exists`,
      details: { name, group: 'coordination.k8s.io', kind: 'leases' },
    });
    const read = await scope.coordination.readNamespacedLease({ name, namespace: scope.namespace });
    expect(read.spec?.holderIdentity).toBe('run-1');
  });

  it('replace with a stale resourceVersion is 409 Conflict; with the current one 200', async () => {
    const name = scope.unique('upgrade-lock');
    const first = await scope.coordination.createNamespacedLease({ namespace: scope.namespace, body: leaseBody(name, 'run-1') });
    const renewed = await scope.coordination.replaceNamespacedLeaseWithHttpInfo({
      name,
      namespace: scope.namespace,
      body: { ...first, spec: { ...first.spec, renewTime: new V1MicroTime() } },
    });
    expect(renewed.httpStatusCode).toBe(200);
    expect(renewed.data.metadata?.resourceVersion).not.toBe(first.metadata?.resourceVersion);

    const stale = await apiFailure(
      scope.coordination.replaceNamespacedLease({
        name,
        namespace: scope.namespace,
        body: { ...first, spec: { ...first.spec, holderIdentity: 'thief' } },
      }),
    );
    expect(stale.code).toBe(409);
    expect(stale.status).toMatchObject({
      kind: 'Status',
      reason: 'Conflict',
      message: conflictMessage(name),
      details: { name, group: 'coordination.k8s.io', kind: 'leases' },
    });

    const stalePatch = await apiFailure(
      scope.coordination.patchNamespacedLease(
        {
          name,
          namespace: scope.namespace,
          body: { metadata: { resourceVersion: first.metadata!.resourceVersion }, spec: { holderIdentity: 'thief' } },
        },
        mergePatch,
      ),
    );
    expect(stalePatch.code).toBe(409);
    expect(stalePatch.status.reason).toBe('Conflict');
    expect((await scope.coordination.readNamespacedLease({ name, namespace: scope.namespace })).spec?.holderIdentity).toBe('run-1');
  });

  it('V1MicroTime round-trips: the server sends 6 fractional digits, read back as a string; that object can be replaced', async () => {
    const name = scope.unique('upgrade-lock');
    const sent = new V1MicroTime('2024-05-01T10:20:27.123Z');
    const body = leaseBody(name, 'run-1');
    body.spec!.renewTime = sent;
    body.spec!.acquireTime = sent;
    await scope.coordination.createNamespacedLease({ namespace: scope.namespace, body });

    const read = await scope.coordination.readNamespacedLease({ name, namespace: scope.namespace });
    const renewTime: unknown = read.spec?.renewTime;
    expect(typeof renewTime, 'client-node 2 leaves MicroTime as the string the server sent').toBe('string');
    expect(renewTime).toMatch(MICRO_TIME);
    expect(Date.parse(renewTime as string)).toBe(sent.getTime());
    expect(read.spec?.acquireTime as unknown).toBe('2024-05-01T10:20:27.123000Z');

    const replaced = await scope.coordination.replaceNamespacedLease({ name, namespace: scope.namespace, body: read });
    expect(replaced.spec?.holderIdentity).toBe('run-1');
  });

  it('a plain Date (3 fractional digits) is 400: raw, and through client-node', async () => {
    const name = scope.unique('upgrade-lock');
    const body = {
      apiVersion: 'coordination.k8s.io/v1',
      kind: 'Lease',
      metadata: { name },
      spec: { holderIdentity: 'run-1', leaseDurationSeconds: 60, renewTime: '2024-05-01T10:20:27.123Z' },
    };
    const path = `/apis/coordination.k8s.io/v1/namespaces/${scope.namespace}/leases`;
    const millis = await rawRequest(scope.kubeconfig, { method: 'POST', path, body });
    expect(millis.status, describeResponse(millis)).toBe(400);
    expect(millis.json).toMatchObject({ kind: 'Status', reason: 'BadRequest', code: 400 });
    expect(millis.json.message).toContain('cannot parse ".123Z" as ".000000"');

    const noFraction = await rawRequest(scope.kubeconfig, {
      method: 'POST',
      path,
      body: { ...body, spec: { ...body.spec, renewTime: '2024-05-01T10:20:27Z' } },
    });
    expect(noFraction.status, describeResponse(noFraction)).toBe(400);

    const created = await scope.coordination.createNamespacedLease({
      namespace: scope.namespace,
      body: leaseBody(`${name}-valid`, 'run-1'),
    });
    const patchMillis = await rawRequest(scope.kubeconfig, {
      method: 'PATCH',
      path: `${path}/${created.metadata!.name}`,
      contentType: 'application/merge-patch+json',
      body: { spec: { renewTime: '2024-05-01T10:20:28.456Z' } },
    });
    expect(patchMillis.status, `a merge patch with a 3-digit MicroTime: ${describeResponse(patchMillis)}`).toBe(422);

    const viaClient = leaseBody(name, 'run-1');
    viaClient.spec!.renewTime = new Date();
    expect((await apiFailure(scope.coordination.createNamespacedLease({ namespace: scope.namespace, body: viaClient }))).code).toBe(400);
    expect((await apiFailure(scope.coordination.readNamespacedLease({ name, namespace: scope.namespace }))).code).toBe(404);
  });
});
