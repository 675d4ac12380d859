// PodDisruptionBudgets and evictions for the contract tests.
import type { V1PodDisruptionBudget } from '@kubernetes/client-node';
import type { ContractScope } from './fixture.ts';
import { rawRequest, type RawResponse } from './raw.ts';
import { waitFor } from './wait.ts';

export const PDB_VIOLATION_MESSAGE = "Cannot evict pod as it would violate the pod's disruption budget.";

export async function createPdb(scope: ContractScope, name: string, app: string, minAvailable: number): Promise<V1PodDisruptionBudget> {
  return scope.policy.createNamespacedPodDisruptionBudget({
    namespace: scope.namespace,
    body: {
      apiVersion: 'policy/v1',
      kind: 'PodDisruptionBudget',
      metadata: { name },
      spec: { minAvailable, selector: { matchLabels: { app } } },
    },
  });
}

export interface ExpectedPdbCounts {
  expectedPods: number;
  currentHealthy: number;
}

/**
 * Waits until the disruption controller has computed the PDB's status for its current generation and
 * counted the pods the test made; a real cluster does this asynchronously.
 */
export async function waitForPdbStatus(scope: ContractScope, name: string, counts: ExpectedPdbCounts): Promise<V1PodDisruptionBudget> {
  return waitFor(`PDB ${name} status to count ${JSON.stringify(counts)}`, async () => {
    const pdb = await scope.policy.readNamespacedPodDisruptionBudget({ name, namespace: scope.namespace });
    const status = pdb.status;
    const done =
      status !== undefined &&
      status.observedGeneration === pdb.metadata?.generation &&
      status.expectedPods === counts.expectedPods &&
      status.currentHealthy === counts.currentHealthy;
    return done ? { done: true, value: pdb } : { done: false, seen: status };
  });
}

/** POST pods/NAME/eviction with a policy/v1 Eviction body, raw, so the exact status and body can be checked. */
export interface EvictOptions {
  /** the name in the Eviction body, when it should differ from the URL's */
  bodyName?: string;
  dryRun?: boolean;
  deleteOptions?: { gracePeriodSeconds?: number };
}

export async function evictRaw(scope: ContractScope, podName: string, options: EvictOptions = {}): Promise<RawResponse> {
  const query = options.dryRun ? '?dryRun=All' : '';
  const metadata = { name: options.bodyName ?? podName, namespace: scope.namespace };
  return rawRequest(scope.kubeconfig, {
    method: 'POST',
    path: `/api/v1/namespaces/${scope.namespace}/pods/${podName}/eviction${query}`,
    body: { apiVersion: 'policy/v1', kind: 'Eviction', metadata, deleteOptions: options.deleteOptions },
  });
}

/** Evicts through client-node, the way the Action does. */
export async function evict(scope: ContractScope, podName: string): Promise<unknown> {
  return scope.core.createNamespacedPodEviction({
    name: podName,
    namespace: scope.namespace,
    body: { apiVersion: 'policy/v1', kind: 'Eviction', metadata: { name: podName, namespace: scope.namespace } },
  });
}

export function budgetMessage(pdbName: string, desiredHealthy: number, currentHealthy: number | string): string {
  return `The disruption budget ${pdbName} needs ${desiredHealthy} healthy pods and has ${currentHealthy} currently`;
}
