// What the rollback waits for through the Kubernetes API: the API server answering, then nodes Ready.
import { CoreV1Api, type KubeConfig } from '@kubernetes/client-node';
import { apiRetrier, retryingClient, retryPolicyOf } from '../adapters/cluster/api-retry.ts';
import { describeApiError } from '../adapters/cluster/read-cluster.ts';

import type { Permission } from '../core/permissions.ts';

/** The calls of waitForApi and waitNodesReady (after a rollback). */
export const API_WAIT_ACCESS: readonly Permission[] = [
  { verb: 'list', group: '', resource: 'namespaces', why: 'rollback: waiting for the API server to answer' },
  { verb: 'list', group: '', resource: 'nodes', why: 'rollback: waiting for the nodes to be Ready' },
];

const POLL_MS = 2000;

async function until<T>(what: string, timeoutMs: number, probe: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (error) {
      last = describeApiError(error);
    }
    if (Date.now() > deadline)
      throw new Error(`${what} did not happen within ${Math.round(timeoutMs / 1000)}s${last ? ` (last error: ${last})` : ''}`);
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
}

export function apiWaiters(
  kc: KubeConfig,
  timeoutMs = 600_000,
): { waitForApi: () => Promise<void>; waitNodesReady: (names: string[]) => Promise<void> } {
  // each probe is retried through transient faults like every call, and the probes go on until timeoutMs
  const core = retryingClient(kc.makeApiClient(CoreV1Api), apiRetrier({ policy: retryPolicyOf(kc) }));
  return {
    waitForApi: () =>
      until('the API server answering', timeoutMs, async () => ((await core.listNamespace({ limit: 1 })) ? true : undefined)).then(
        () => {},
      ),
    waitNodesReady: async (names) => {
      let notReady: string[] = names;
      await until(`nodes Ready (${names.join(', ')})`, timeoutMs, async () => {
        const nodes = (await core.listNode()).items;
        notReady = names.filter((name) => {
          const node = nodes.find((n) => n.metadata?.name === name);
          return node?.status?.conditions?.find((c) => c.type === 'Ready')?.status !== 'True';
        });
        return notReady.length === 0 ? true : undefined;
      }).catch((error: Error) => {
        throw new Error(`${error.message}; not Ready: ${notReady.join(', ')}`);
      });
    },
  };
}
