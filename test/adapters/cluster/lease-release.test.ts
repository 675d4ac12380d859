// The lock's release when the API is away at the end of a run: tried again with backoff within a bound (an
// injected clock: nothing here waits), and when it stays away, a sentence saying when the Lease expires.
import { describe, expect, it } from 'vitest';
import type { V1Lease } from '@kubernetes/client-node';
import { lockExpiry, releaseClusterLockWithin, type LockHolder } from '../../../src/adapters/cluster/lease.ts';
import type { ClusterApis } from '../../../src/adapters/cluster/progress.ts';
import { lockLeftMessage } from '../../../src/commands/lock-state.ts';

const holder: LockHolder = { repository: 'owner/repo', runId: '77', attempt: 1, job: 'upgrade' };
const lease: V1Lease = {
  metadata: {
    name: 'kubeadm-upgrade-action',
    namespace: 'kube-system',
    resourceVersion: '9',
    annotations: {
      'upgrade.kubeadm-upgrade-action.io/run': 'owner/repo#77',
      'upgrade.kubeadm-upgrade-action.io/attempt': '1',
      'upgrade.kubeadm-upgrade-action.io/jobs': '["upgrade"]',
    },
  },
  spec: { holderIdentity: 'owner/repo run 77 attempt 1' },
};

/** A Lease API that fails its first `failures` reads (as a timed-out or given-up call does), then answers. */
function leaseApi(failures: number) {
  let reads = 0;
  const deleted: string[] = [];
  const api = {
    coordination: {
      async readNamespacedLease() {
        reads += 1;
        if (reads <= failures) throw new Error(`the API server did not answer readNamespacedLease (attempt ${reads})`);
        return lease;
      },
      async deleteNamespacedLease(p: { name: string }) {
        deleted.push(p.name);
        return {};
      },
    },
  } as unknown as Pick<ClusterApis, 'coordination'>;
  return { api, deleted, reads: () => reads };
}

function clock() {
  let t = 0;
  const slept: number[] = [];
  const sleep = async (ms: number) => {
    slept.push(ms);
    t += ms;
  };
  return { now: () => t, sleep, slept };
}

describe('releaseClusterLockWithin', () => {
  it('tries again with growing, jittered pauses until the API answers, then releases', async () => {
    const c = clock();
    const { api, deleted } = leaseApi(3);
    const lines: string[] = [];
    const outcome = await releaseClusterLockWithin(api, 'kubeadm-upgrade-action', holder, {
      boundMs: 60_000,
      now: c.now,
      sleep: c.sleep,
      random: () => 0.5,
      onRetry: (l) => lines.push(l),
    });
    expect(outcome).toEqual({ released: true, deleted: true, remainingJobs: [] });
    expect(deleted).toEqual(['kubeadm-upgrade-action']);
    expect(c.slept).toEqual([750, 1500, 3000]);
    expect(lines[0]).toBe(
      'releasing the cluster lock failed (cannot read Lease kube-system/kubeadm-upgrade-action: the API server did not answer readNamespacedLease (attempt 1)); trying again in 1s',
    );
  });

  it('gives up at its bound with the last error, never sleeping past it', async () => {
    const c = clock();
    const { api, deleted, reads } = leaseApi(1000);
    const error = await releaseClusterLockWithin(api, 'kubeadm-upgrade-action', holder, {
      boundMs: 10_000,
      now: c.now,
      sleep: c.sleep,
      random: () => 1,
    }).catch((e: Error) => e);
    expect((error as Error).message).toMatch(/^cannot read Lease kube-system\/kubeadm-upgrade-action: .*\(attempt \d+\)$/);
    expect(c.slept.reduce((a, b) => a + b, 0)).toBe(10_000);
    expect(reads()).toBe(c.slept.length + 1);
    expect(deleted).toEqual([]);
  });
});

describe('a Lease left to expire', () => {
  it('says when: its last renewal plus lock-ttl, in UTC to the second, and how to free it sooner', () => {
    const renewedAt = Date.parse('2026-12-03T16:20:05.678Z');
    expect(lockExpiry(renewedAt, 30 * 60_000)).toBe('2026-12-03T16:50:05Z');
    expect(lockLeftMessage('kubeadm-upgrade-action', { renewedAt, ttlMs: 60_000 }, 'the API server did not answer')).toBe(
      'The cluster lock (Lease kube-system/kubeadm-upgrade-action) was not released: the API server did not answer. It is left to expire at 2026-12-03T16:21:05Z (its last renewal + lock-ttl); until then a new run is refused, unless you delete it: kubectl -n kube-system delete lease kubeadm-upgrade-action',
    );
  });
});
