// PodDisruptionBudget status as the disruption controller computes it: what the drain forecast reads to
// predict blocked evictions before it cordons anything.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { V1PodDisruptionBudget } from '@kubernetes/client-node';
import { closeScope, openScope, type ContractScope } from './fixture.ts';
import { createPdb, waitForPdbStatus } from './pdb.ts';

let scope: ContractScope;
let node: string;

beforeAll(async () => {
  scope = await openScope(1);
  node = scope.nodes[0]!;
});
afterAll(async () => {
  await closeScope(scope);
});

function disruptionAllowedCondition(pdb: V1PodDisruptionBudget) {
  const condition = pdb.status?.conditions?.find((c) => c.type === 'DisruptionAllowed');
  return { status: condition?.status, reason: condition?.reason };
}

describe('PodDisruptionBudget status', () => {
  it('with room: currentHealthy, desiredHealthy, disruptionsAllowed, expectedPods and DisruptionAllowed True/SufficientPods', async () => {
    const app = scope.unique('roomy');
    await scope.createRunningPods(app, 3, node);
    await createPdb(scope, app, app, 2);
    const pdb = await waitForPdbStatus(scope, app, { expectedPods: 3, currentHealthy: 3 });
    expect(pdb.status).toMatchObject({ currentHealthy: 3, desiredHealthy: 2, disruptionsAllowed: 1, expectedPods: 3 });
    expect(pdb.status?.observedGeneration).toBe(pdb.metadata?.generation);
    expect(disruptionAllowedCondition(pdb)).toEqual({ status: 'True', reason: 'SufficientPods' });
  });

  it('without room: disruptionsAllowed 0 and DisruptionAllowed False/InsufficientPods', async () => {
    const app = scope.unique('tight');
    await scope.createRunningPods(app, 2, node);
    await createPdb(scope, app, app, 2);
    const pdb = await waitForPdbStatus(scope, app, { expectedPods: 2, currentHealthy: 2 });
    expect(pdb.status).toMatchObject({ currentHealthy: 2, desiredHealthy: 2, disruptionsAllowed: 0, expectedPods: 2 });
    expect(disruptionAllowedCondition(pdb)).toEqual({ status: 'False', reason: 'InsufficientPods' });
  });

  it('expectedPods counts an unbound Pending pod; currentHealthy does not', async () => {
    const app = scope.unique('mixed');
    await scope.createRunningPods(app, 2, node);
    await scope.createPod({ name: `${app}-pending`, labels: { app }, nodeSelector: { 'contract.test/nowhere': 'true' } });
    await createPdb(scope, app, app, 1);
    const pdb = await waitForPdbStatus(scope, app, { expectedPods: 3, currentHealthy: 2 });
    expect(pdb.status).toMatchObject({ desiredHealthy: 1, disruptionsAllowed: 1 });
  });
});
