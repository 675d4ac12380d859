// The cluster lock (a Lease in kube-system) against the simulator's API server.
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  acquireClusterLock,
  holderIdentity,
  LOCK_ACCESS,
  lockName,
  releaseClusterLock,
  startLockRenewal,
  type LockHolder,
} from '../../../src/adapters/cluster/lease.ts';
import type { ClusterApis } from '../../../src/adapters/cluster/progress.ts';
import { startTestCluster, suiteId, waitFor, type TestCluster } from './fixtures.ts';

let cluster: TestCluster;
let api: ClusterApis;
let action: ClusterApis;

beforeAll(async () => {
  cluster = await startTestCluster();
  api = cluster.api;
  // the lock runs as a user with exactly LOCK_ACCESS
  action = await cluster.actingAs(LOCK_ACCESS);
});
afterAll(async () => {
  await cluster?.close();
});

const TTL = 10 * 60_000;
const run = (runId: string, job = 'upgrade', attempt = 1): LockHolder => ({ repository: 'owner/repo', runId, attempt, job });

async function readLease(name: string) {
  return api.coordination.readNamespacedLease({ name, namespace: 'kube-system' });
}

describe('cluster lock', () => {
  it('is taken by the first run, with MicroTime stamps the API server accepts', async () => {
    const name = lockName(suiteId());
    const at = new Date('2026-12-03T16:00:00.123Z');
    const outcome = await acquireClusterLock(action, { name, holder: run('123'), ttlMs: TTL, now: () => at });
    expect(outcome).toEqual({ acquired: true, identity: 'owner/repo run 123 attempt 1', jobs: ['upgrade'], renewedAt: at.getTime() });
    const lease = await readLease(name);
    expect(new Date(String(lease.spec?.renewTime)).getTime()).toBe(at.getTime());
    expect(lease.spec?.holderIdentity).toBe('owner/repo run 123 attempt 1');
    expect(String(lease.spec?.renewTime)).toMatch(/\.\d{6}Z$/);
    expect(lease.spec?.leaseDurationSeconds).toBe(600);
  });

  it('refuses a second run, naming the holder and how long ago it renewed', async () => {
    const name = lockName(suiteId());
    await acquireClusterLock(action, { name, holder: run('123'), ttlMs: TTL });
    const later = () => new Date(Date.now() + 90_000);
    const outcome = await acquireClusterLock(action, { name, holder: run('124'), ttlMs: TTL, now: later });
    expect(outcome.acquired).toBe(false);
    if (outcome.acquired) return;
    expect(outcome.holder).toBe('owner/repo run 123 attempt 1');
    expect(outcome.ageMs).toBeGreaterThanOrEqual(90_000);
    expect(outcome.ageMs).toBeLessThan(120_000);
    expect((await readLease(name)).spec?.holderIdentity).toBe('owner/repo run 123 attempt 1');
  });

  it('lets exactly one of several runs racing for a free lock win', async () => {
    const name = lockName(suiteId());
    const outcomes = await Promise.all(
      ['1', '2', '3', '4', '5'].map((id) => acquireClusterLock(action, { name, holder: run(id), ttlMs: TTL })),
    );
    const winners = outcomes.filter((o) => o.acquired);
    expect(winners).toHaveLength(1);
    const winner = winners[0]!.acquired ? winners[0]!.identity : '';
    for (const loser of outcomes.filter((o) => !o.acquired)) expect(loser).toMatchObject({ holder: winner });
    expect((await readLease(name)).spec?.holderIdentity).toBe(winner);
  });

  it('takes over a lease not renewed for longer than lock-ttl, and reports whose it was', async () => {
    const name = lockName(suiteId());
    const longAgo = () => new Date(Date.now() - 20 * 60_000);
    await acquireClusterLock(action, { name, holder: run('100'), ttlMs: TTL, now: longAgo });
    const before = await readLease(name);

    const outcome = await acquireClusterLock(action, { name, holder: run('200'), ttlMs: TTL });
    expect(outcome).toMatchObject({
      acquired: true,
      identity: 'owner/repo run 200 attempt 1',
      takenOverFrom: { holder: 'owner/repo run 100 attempt 1' },
    });
    if (!outcome.acquired) return;
    expect(outcome.takenOverFrom!.ageMs).toBeGreaterThanOrEqual(20 * 60_000);
    const after = await readLease(name);
    expect(after.spec?.holderIdentity).toBe('owner/repo run 200 attempt 1');
    expect(after.spec?.leaseTransitions).toBe((before.spec?.leaseTransitions ?? 0) + 1);
  });

  it('is taken over by a re-run attempt of the same run', async () => {
    const name = lockName(suiteId());
    await acquireClusterLock(action, { name, holder: run('300', 'upgrade', 1), ttlMs: TTL });
    const outcome = await acquireClusterLock(action, { name, holder: run('300', 'upgrade', 2), ttlMs: TTL });
    expect(outcome).toMatchObject({ acquired: true, takenOverFrom: { holder: 'owner/repo run 300 attempt 1' } });
  });

  it('is shared by matrix jobs of the same run, and deleted when the last of them releases it', async () => {
    const name = lockName(suiteId());
    const first = run('400', 'upgrade (batch 1)');
    const second = run('400', 'upgrade (batch 2)');
    await acquireClusterLock(action, { name, holder: first, ttlMs: TTL });
    const shared = await acquireClusterLock(action, { name, holder: second, ttlMs: TTL });
    expect(shared).toEqual({
      acquired: true,
      identity: holderIdentity(second),
      shared: true,
      jobs: ['upgrade (batch 1)', 'upgrade (batch 2)'],
      renewedAt: expect.any(Number),
    });
    expect(JSON.parse((await readLease(name)).metadata?.annotations?.['upgrade.kubeadm-upgrade-action.io/jobs'] ?? '[]')).toEqual([
      'upgrade (batch 1)',
      'upgrade (batch 2)',
    ]);

    expect(await releaseClusterLock(action, name, first)).toEqual({ released: true, deleted: false, remainingJobs: ['upgrade (batch 2)'] });
    expect((await readLease(name)).spec?.holderIdentity).toBe(holderIdentity(second));
    expect(await releaseClusterLock(action, name, second)).toEqual({ released: true, deleted: true, remainingJobs: [] });
    await expect(readLease(name)).rejects.toMatchObject({ code: 404 });
  });

  it('is not released by a run that does not hold it', async () => {
    const name = lockName(suiteId());
    await acquireClusterLock(action, { name, holder: run('500'), ttlMs: TTL });
    const outcome = await releaseClusterLock(action, name, run('501'));
    expect(outcome).toEqual({
      released: false,
      reason: `Lease kube-system/${name} is held by owner/repo run 500 attempt 1, not owner/repo run 501 attempt 1`,
    });
    expect((await readLease(name)).spec?.holderIdentity).toBe('owner/repo run 500 attempt 1');
    expect(await releaseClusterLock(action, name, run('500'))).toMatchObject({ released: true, deleted: true });
  });

  it('is renewed while the run goes on, and no more once renewal stops', async () => {
    const name = lockName(suiteId());
    await acquireClusterLock(action, { name, holder: run('600'), ttlMs: TTL });
    const first = String((await readLease(name)).spec?.renewTime);
    const errors: Error[] = [];
    const renewal = startLockRenewal(action, { name, holder: run('600'), intervalMs: 50, onError: (e) => errors.push(e) });
    const renewed = await waitFor('a renewal', async () => {
      const now = String((await readLease(name)).spec?.renewTime);
      return now !== first ? now : undefined;
    });
    await renewal.stop();
    const atStop = String((await readLease(name)).spec?.renewTime);
    expect(Date.parse(renewed)).toBeGreaterThan(Date.parse(first));
    await sleep(200);
    expect(String((await readLease(name)).spec?.renewTime)).toBe(atStop);
    expect(errors).toEqual([]);
  });

  it('stops renewing and says so when another run has taken the lock', async () => {
    const name = lockName(suiteId());
    const longAgo = () => new Date(Date.now() - 20 * 60_000);
    await acquireClusterLock(action, { name, holder: run('700'), ttlMs: TTL, now: longAgo });
    await acquireClusterLock(action, { name, holder: run('701'), ttlMs: TTL });
    let lostTo: string | undefined;
    const renewal = startLockRenewal(action, { name, holder: run('700'), intervalMs: 50, onLost: (holder) => (lostTo = holder) });
    await waitFor('the loss to be noticed', async () => lostTo);
    await renewal.stop();
    expect(lostTo).toBe('owner/repo run 701 attempt 1');
    expect((await readLease(name)).spec?.holderIdentity).toBe('owner/repo run 701 attempt 1');
  });

  it('names the Lease after the product, or per cluster', () => {
    expect(lockName()).toBe('kubeadm-upgrade-action');
    expect(lockName('Prod EU_1')).toBe('kubeadm-upgrade-action-prod-eu-1');
  });
});
