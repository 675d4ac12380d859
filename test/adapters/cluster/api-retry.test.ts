// The one retry policy for API calls: refused and reset connections and transient answers (5xx, 429 without a
// budget cause) are waited out with backoff, jitter and Retry-After within a budget (an injected clock: nothing
// here waits), other answers are not retried, every error is a sentence, and the clients from makeClusterApis
// survive a real kube-apiserver restart of the simulator.
import { ApiException, KubeConfig } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStandaloneApiServer, type StandaloneApiServer } from '../../../sim/apiserver/standalone.ts';
import {
  apiRetrier,
  ApiRetryError,
  connectionFailure,
  retryingClient,
  transientFault,
  type ApiRetryPolicy,
} from '../../../src/adapters/cluster/api-retry.ts';
import { makeClusterApis, readProgress, recordStage } from '../../../src/adapters/cluster/progress.ts';
import { createReadyNode } from './fixtures.ts';

const refused = () =>
  new TypeError('fetch failed', { cause: Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:6443'), { code: 'ECONNREFUSED' }) });
const reset = () => new TypeError('fetch failed', { cause: Object.assign(new Error('other side closed'), { code: 'UND_ERR_SOCKET' }) });
const policy: ApiRetryPolicy = { budgetMs: 10_000, firstDelayMs: 1000, maxDelayMs: 4000 };

/** An error answer as client-node 2 throws it: the body as text, the response headers. */
function status(
  code: number,
  body: object | string,
  headers: Record<string, string> = { 'audit-id': 'a1b2', 'content-type': 'application/json' },
) {
  const text = typeof body === 'string' ? body : JSON.stringify({ kind: 'Status', apiVersion: 'v1', status: 'Failure', code, ...body });
  return new ApiException<string>(code, `Unknown API Status Code!`, text, headers);
}

/** A fake clock: sleeping moves it on. */
function clock() {
  let t = 0;
  const slept: number[] = [];
  return {
    now: () => t,
    sleep: async (ms: number) => {
      slept.push(ms);
      t += ms;
    },
    slept,
  };
}

describe('connectionFailure', () => {
  it('names refused and reset connections and nothing else', () => {
    expect(connectionFailure(refused())).toBe('connection refused');
    expect(connectionFailure(reset())).toBe('connection closed by the server');
    expect(connectionFailure(Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' }))).toBe('connection reset');
    expect(connectionFailure(new Error('HTTP-Code: 503'))).toBeUndefined();
    expect(connectionFailure(new TypeError('fetch failed', { cause: new Error('certificate has expired') }))).toBeUndefined();
  });
});

describe('apiRetrier', () => {
  it('waits out refused connections with growing pauses, says so once, and says when the API server is back', async () => {
    const c = clock();
    const lines: string[] = [];
    const retry = apiRetrier({ policy, now: c.now, sleep: c.sleep, random: () => 1, onWait: (l) => lines.push(l) });
    let calls = 0;
    const result = await retry('patchNode cp-1', async () => {
      calls += 1;
      if (calls <= 3) throw calls === 2 ? reset() : refused();
      return 'patched';
    });
    expect(result).toBe('patched');
    expect(c.slept).toEqual([1000, 2000, 4000]);
    expect(lines).toEqual([
      'the API server did not take patchNode cp-1 (connection refused): it may be restarting; waiting for the API server (up to 10s, api-retry-budget)',
      'the API server answers again (it was away 7s)',
    ]);
  });

  it('gives up after its budget, naming the call, how long and what to check', async () => {
    const c = clock();
    const retry = apiRetrier({ policy, now: c.now, sleep: c.sleep });
    const error = await retry('readNode cp-1', () => Promise.reject(refused())).catch((e: Error) => e);
    expect((error as Error).message).toBe(
      'the API server did not answer readNode cp-1 for 10s (connection refused); check that it is running and reachable from this runner (kube-apiserver, its etcd, a load balancer in front of it), or raise api-retry-budget (10s) to wait longer',
    );
    expect(c.slept.reduce((a, b) => a + b, 0)).toBe(10_000);
  });

  it('does not retry an answer that is not a passing fault, and makes it a sentence without headers', async () => {
    const c = clock();
    const retry = apiRetrier({ policy, now: c.now, sleep: c.sleep });
    for (const code of [403, 404, 409, 422, 501]) {
      let calls = 0;
      const answer = status(code, { reason: 'Forbidden', message: 'nodes "w-1" is forbidden: User "ci" cannot patch resource "nodes"' });
      const error = await retry('patchNode w-1', async () => {
        calls += 1;
        throw answer;
      }).catch((e: unknown) => e);
      expect(error).toBe(answer);
      expect(calls).toBe(1);
      expect(answer.code).toBe(code);
      expect(answer.message).toBe(
        `the API server refused patchNode w-1: HTTP ${code} Forbidden: nodes "w-1" is forbidden: User "ci" cannot patch resource "nodes"`,
      );
      expect(answer.stack).not.toMatch(/Headers|audit-id|HTTP-Code/);
    }
    expect(c.slept).toEqual([]);
  });

  it('waits out 500, 502, 503, 504 and a 429 without a budget cause, with jittered backoff', async () => {
    for (const code of [500, 502, 503, 504, 429]) {
      const c = clock();
      const lines: string[] = [];
      const draws = [0, 0.5, 0.999];
      const retry = apiRetrier({ policy, now: c.now, sleep: c.sleep, random: () => draws.shift() ?? 0, onWait: (l) => lines.push(l) });
      let calls = 0;
      const result = await retry('createNamespacedPodEviction demo/web-1', async () => {
        calls += 1;
        if (calls <= 3) throw status(code, code === 502 ? '502 Bad Gateway\n' : { reason: 'ServiceUnavailable', message: 'not now' });
        return 'evicted';
      });
      expect(result).toBe('evicted');
      // half to all of 1 s, 2 s, 4 s
      expect(c.slept).toEqual([500, 1500, 3998]);
      expect(lines[0]).toMatch(new RegExp(`^the API server answered createNamespacedPodEviction demo/web-1 with HTTP ${code}`));
      expect(lines[0]).toContain('retrying with backoff (for up to 10s, api-retry-budget)');
      expect(lines[1]).toBe('the API server answers again (it was away 6s)');
    }
  });

  it('says so again when the kind of fault changes within one outage (reset, then throttled)', async () => {
    const c = clock();
    const lines: string[] = [];
    const retry = apiRetrier({ policy, now: c.now, sleep: c.sleep, random: () => 1, onWait: (l) => lines.push(l) });
    const faults = [reset(), reset(), status(429, { reason: 'TooManyRequests', message: 'slow down' }), status(429, { message: 'x' })];
    await retry('readNode worker-1', async () => {
      const next = faults.shift();
      if (next) throw next;
    });
    expect(lines).toEqual([
      'the API server did not take readNode worker-1 (connection closed by the server): it may be restarting; waiting for the API server (up to 10s, api-retry-budget)',
      'the API server answered readNode worker-1 with HTTP 429 TooManyRequests: slow down: retrying with backoff (for up to 10s, api-retry-budget)',
      'the API server answers again (it was away 10s)',
    ]);
  });

  it('never waits out an eviction refused by a PodDisruptionBudget, nor a pod under two budgets: the drain decides', () => {
    const budget = status(429, {
      reason: 'TooManyRequests',
      message: "Cannot evict pod as it would violate the pod's disruption budget.",
      details: {
        causes: [{ reason: 'DisruptionBudget', message: 'The disruption budget web-pdb needs 2 healthy pods and has 2 currently' }],
      },
    });
    const twoBudgets = status(500, {
      message: 'This pod has more than one PodDisruptionBudget, which the eviction subresource does not support.',
    });
    const throttled = status(429, { reason: 'TooManyRequests', message: 'Too many requests, please try again later.' });
    expect(transientFault(budget)).toBeUndefined();
    expect(transientFault(twoBudgets)).toBeUndefined();
    expect(transientFault(throttled)?.what).toBe('HTTP 429 TooManyRequests: Too many requests, please try again later.');
  });

  it('honours Retry-After (seconds or a date, or the Status details) as the least pause', async () => {
    const c = clock();
    const retry = apiRetrier({ policy: { ...policy, budgetMs: 60_000 }, now: c.now, sleep: c.sleep, random: () => 0 });
    const answers = [
      status(429, { reason: 'TooManyRequests', message: 'slow down' }, { 'retry-after': '3' }),
      status(503, { reason: 'ServiceUnavailable', message: 'x' }, { 'Retry-After': new Date(10_000).toUTCString() }),
      status(429, { reason: 'TooManyRequests', message: 'slow down', details: { retryAfterSeconds: 2 } }),
    ];
    await retry('listNode', async () => {
      const next = answers.shift();
      if (next) throw next;
      return 'ok';
    });
    // 3 s (over the 0.5 s backoff), until the date (10 s, 7 s after that answer at 3 s), 2 s (not under the 1 s backoff)
    expect(c.slept).toEqual([3000, 7000, 2000]);
  });

  it('beyond its budget fails naming the call, the last answer and the fix; never longer than the budget', async () => {
    const c = clock();
    const retry = apiRetrier({ policy, now: c.now, sleep: c.sleep, random: () => 1 });
    const error = await retry('patchNode worker-1', () =>
      Promise.reject(status(500, { reason: 'InternalError', message: 'Internal error occurred: etcdserver: request timed out' })),
    ).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ApiRetryError);
    expect((error as ApiRetryError).message).toBe(
      'the API server answered patchNode worker-1 with HTTP 500 InternalError: Internal error occurred: etcdserver: request timed out for 10s; check that it is running and reachable from this runner (kube-apiserver, its etcd, a load balancer in front of it), or raise api-retry-budget (10s) to wait longer',
    );
    expect((error as ApiRetryError).status?.code).toBe(500);
    expect(c.slept.reduce((a, b) => a + b, 0)).toBe(10_000);
    // a Retry-After past the budget is cut to it
    const d = clock();
    const slow = apiRetrier({ policy, now: d.now, sleep: d.sleep, random: () => 1 });
    await slow('listNode', () => Promise.reject(status(429, { message: 'x' }, { 'retry-after': '600' }))).catch(() => undefined);
    expect(d.slept).toEqual([10_000]);
  });

  it('fails fast on a refused connection where told to (a wrong server), still waiting out answers', async () => {
    const c = clock();
    const retry = apiRetrier({ policy, now: c.now, sleep: c.sleep, connections: false });
    const refusal = refused();
    await expect(retry('getCode', () => Promise.reject(refusal))).rejects.toBe(refusal);
    let calls = 0;
    await retry('getCode', async () => {
      calls += 1;
      if (calls === 1) throw status(503, { message: 'x' });
    });
    expect(calls).toBe(2);
  });

  it('wraps every method of a client, keeping its this', async () => {
    const c = clock();
    let calls = 0;
    const client = {
      prefix: 'node ',
      async readNode(p: { name: string }) {
        calls += 1;
        if (calls === 1) throw refused();
        return this.prefix + p.name;
      },
    };
    const lines: string[] = [];
    const wrapped = retryingClient(client, apiRetrier({ policy, now: c.now, sleep: c.sleep, onWait: (l) => lines.push(l) }));
    expect(await wrapped.readNode({ name: 'a' })).toBe('node a');
    expect(wrapped.prefix).toBe('node ');
    expect(lines[0]).toContain('readNode a (connection refused)');
  });
});

describe('makeClusterApis through a kube-apiserver restart', () => {
  let server: StandaloneApiServer;
  beforeAll(async () => {
    server = await startStandaloneApiServer({ controlPlanes: 1 });
  });
  afterAll(async () => {
    await server?.close();
  });

  it('records progress on a node while the API server refuses connections, once it is back', async () => {
    const kc = new KubeConfig();
    kc.loadFromFile(server.kubeconfigPath);
    const lines: string[] = [];
    const api = makeClusterApis(kc, { onWait: (l) => lines.push(l) });
    await createReadyNode(api, 'cp-1', { suite: 'restart', controlPlane: true });
    expect(await readProgress(api, 'cp-1')).toBeUndefined(); // a keep-alive connection is open now

    server.server.restartKubeApiServer(2000);
    await recordStage(api, 'cp-1', { target: '1.31.2', stage: 'kubeadm-upgrade', run: 'r', status: 'started' });

    expect((await readProgress(api, 'cp-1'))?.stage).toBe('kubeadm-upgrade');
    expect(lines[0]).toMatch(
      /^the API server did not take readNode cp-1 \(connection (refused|reset|closed by the server)\).*waiting for the API server/,
    );
    expect(lines[1]).toMatch(/^the API server answers again/);
  });
});
