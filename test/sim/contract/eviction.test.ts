// The Eviction API as the drain uses it: 201 when the budget allows, 429 when it does not (with the exact
// Status a real server sends), and the edge cases a drain meets: missing pod, name mismatch, two budgets,
// Pending, terminating and not-Ready pods.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closeScope, openScope, readyCondition, mergePatch, type ContractScope } from './fixture.ts';
import { describeResponse } from './raw.ts';
import { apiFailure } from './wait.ts';
import { PDB_VIOLATION_MESSAGE, budgetMessage, createPdb, evict, evictRaw, waitForPdbStatus } from './pdb.ts';

let scope: ContractScope;
let node: string;

beforeAll(async () => {
  scope = await openScope(1);
  node = scope.nodes[0]!;
});
afterAll(async () => {
  await closeScope(scope);
});

const readPod = (name: string) => scope.core.readNamespacedPod({ name, namespace: scope.namespace });

function expectBudgetRefusal(body: any, pdbName: string, causeMessage: RegExp | string): void {
  expect(body).toMatchObject({ kind: 'Status', status: 'Failure', reason: 'TooManyRequests', code: 429, message: PDB_VIOLATION_MESSAGE });
  const cause = body.details?.causes?.[0];
  expect(cause?.reason).toBe('DisruptionBudget');
  if (typeof causeMessage === 'string') expect(cause?.message).toBe(causeMessage);
  else expect(cause?.message).toMatch(causeMessage);
  expect(cause?.message.startsWith(`The disruption budget ${pdbName} `)).toBe(true);
}

describe('eviction under a PodDisruptionBudget', () => {
  it('201 while the budget allows, decremented at once, so the next eviction gets 429 TooManyRequests', async () => {
    const app = scope.unique('web');
    await scope.createRunningPods(app, 3, node);
    await createPdb(scope, app, app, 2);
    await waitForPdbStatus(scope, app, { expectedPods: 3, currentHealthy: 3 });

    const allowed = await evictRaw(scope, `${app}-1`);
    expect(allowed.status, describeResponse(allowed)).toBe(201);
    expect(allowed.json).toMatchObject({ kind: 'Status', status: 'Success', code: 201 });
    const evicted = await readPod(`${app}-1`).catch(() => undefined);
    if (evicted) expect(evicted.metadata?.deletionTimestamp, 'an evicted bound pod is Terminating').toBeDefined();

    const pdb = await scope.policy.readNamespacedPodDisruptionBudget({ name: app, namespace: scope.namespace });
    expect(pdb.status?.disruptionsAllowed).toBe(0);

    const refused = await apiFailure(evict(scope, `${app}-2`));
    expect(refused.code).toBe(429);
    // currentHealthy is 3 until the controller notices the evicted pod is terminating, 2 after.
    expectBudgetRefusal(refused.status, app, new RegExp(`^${budgetMessage(app, 2, '[23]')}$`));
    expect((await readPod(`${app}-2`)).metadata?.deletionTimestamp).toBeUndefined();
  });

  it('429 with the exact message when the budget has no room, the same with dryRun=All', async () => {
    const app = scope.unique('tight');
    await scope.createRunningPods(app, 2, node);
    await createPdb(scope, app, app, 2);
    await waitForPdbStatus(scope, app, { expectedPods: 2, currentHealthy: 2 });

    const refused = await evictRaw(scope, `${app}-1`);
    expect(refused.status, describeResponse(refused)).toBe(429);
    expectBudgetRefusal(refused.json, app, budgetMessage(app, 2, 2));
    const dryRun = await evictRaw(scope, `${app}-1`, { dryRun: true });
    expect(dryRun.status, describeResponse(dryRun)).toBe(429);
    expectBudgetRefusal(dryRun.json, app, budgetMessage(app, 2, 2));
    expect((await readPod(`${app}-1`)).metadata?.deletionTimestamp).toBeUndefined();
  });

  it('a terminating pod is evicted (201) even when the budget has no room; deleteOptions grace 0 removes it', async () => {
    const app = scope.unique('leaving');
    await scope.createRunningPods(app, 2, node);
    await createPdb(scope, app, app, 2);
    await waitForPdbStatus(scope, app, { expectedPods: 2, currentHealthy: 2 });
    await scope.core.deleteNamespacedPod({ name: `${app}-1`, namespace: scope.namespace });

    const response = await evictRaw(scope, `${app}-1`);
    expect(response.status, describeResponse(response)).toBe(201);
    expect((await readPod(`${app}-1`)).metadata?.deletionTimestamp, 'still Terminating within its grace period').toBeDefined();
    const immediate = await evictRaw(scope, `${app}-1`, { deleteOptions: { gracePeriodSeconds: 0 } });
    expect(immediate.status, describeResponse(immediate)).toBe(201);
    expect((await apiFailure(readPod(`${app}-1`))).code).toBe(404);
  });

  it('a Pending pod bypasses the budget: 201 with disruptionsAllowed 0', async () => {
    const app = scope.unique('pending');
    await scope.createPod({ name: `${app}-1`, labels: { app }, nodeSelector: { 'contract.test/nowhere': 'true' } });
    await createPdb(scope, app, app, 1);
    const pdb = await waitForPdbStatus(scope, app, { expectedPods: 1, currentHealthy: 0 });
    expect(pdb.status?.disruptionsAllowed).toBe(0);

    const response = await evictRaw(scope, `${app}-1`);
    expect(response.status, describeResponse(response)).toBe(201);
    // An unbound pod has no kubelet to wait for: it is deleted at once.
    expect((await apiFailure(readPod(`${app}-1`))).code).toBe(404);
  });

  it('a Running pod that is not Ready is blocked (429, has 0 currently)', async () => {
    const app = scope.unique('unready');
    // On a NotReady node, so nothing playing a kubelet marks the pod Ready behind the test's back.
    const sickNode = (await scope.createReadyNode()).metadata!.name!;
    scope.forgetHeartbeat(sickNode);
    await scope.core.patchNodeStatus({ name: sickNode, body: { status: { conditions: [readyCondition('False')] } } }, mergePatch);
    await scope.createPod({ name: `${app}-1`, labels: { app }, nodeName: sickNode });
    await scope.markPodRunning(`${app}-1`, false);
    await createPdb(scope, app, app, 1);
    await waitForPdbStatus(scope, app, { expectedPods: 1, currentHealthy: 0 });

    const refused = await apiFailure(evict(scope, `${app}-1`));
    expect(refused.code).toBe(429);
    expectBudgetRefusal(refused.status, app, budgetMessage(app, 1, 0));
  });
});

describe('eviction errors', () => {
  it('404 for a missing pod, raw and through client-node', async () => {
    const response = await evictRaw(scope, 'nope');
    expect(response.status, describeResponse(response)).toBe(404);
    expect(response.json).toMatchObject({
      kind: 'Status',
      reason: 'NotFound',
      code: 404,
      message: 'pods "nope" not found',
      details: { name: 'nope', kind: 'pods' },
    });
    expect((await apiFailure(evict(scope, 'nope'))).code).toBe(404);
  });

  it('400 when the Eviction body names another pod than the URL', async () => {
    const name = scope.unique('mismatch');
    await scope.createPod({ name, nodeName: node });
    const response = await evictRaw(scope, name, { bodyName: `${name}-other` });
    expect(response.status, describeResponse(response)).toBe(400);
    expect(response.json).toMatchObject({
      kind: 'Status',
      reason: 'BadRequest',
      code: 400,
      message: 'name in URL does not match name in Eviction object',
    });
    expect((await readPod(name)).metadata?.deletionTimestamp).toBeUndefined();
  });

  it('500 for a pod covered by two PodDisruptionBudgets, whatever they allow', async () => {
    const app = scope.unique('double');
    await scope.createRunningPods(app, 2, node);
    await createPdb(scope, `${app}-a`, app, 0);
    await createPdb(scope, `${app}-b`, app, 0);
    const response = await evictRaw(scope, `${app}-1`);
    expect(response.status, describeResponse(response)).toBe(500);
    expect(response.json).toMatchObject({
      kind: 'Status',
      status: 'Failure',
      code: 500,
      message: 'This pod has more than one PodDisruptionBudget, which the eviction subresource does not support.',
    });
    // The real server returns a bare Status (no reason, no details), not an InternalError.
    expect(response.json.reason).toBeUndefined();
    expect((await readPod(`${app}-1`)).metadata?.deletionTimestamp).toBeUndefined();
  });
});
