// The one retry policy for API calls: refused and reset connections are waited out (bounded), answers are
// not retried, and the clients from makeClusterApis survive a real kube-apiserver restart of the simulator.
import { KubeConfig } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStandaloneApiServer, type StandaloneApiServer } from '../../../sim/apiserver/standalone.ts';
import { apiRetrier, connectionFailure, retryingClient, type ApiRetryPolicy } from '../../../src/adapters/cluster/api-retry.ts';
import { makeClusterApis, readProgress, recordStage } from '../../../src/adapters/cluster/progress.ts';
import { createReadyNode } from './fixtures.ts';

const refused = () =>
  new TypeError('fetch failed', { cause: Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:6443'), { code: 'ECONNREFUSED' }) });
const reset = () => new TypeError('fetch failed', { cause: Object.assign(new Error('other side closed'), { code: 'UND_ERR_SOCKET' }) });
const policy: ApiRetryPolicy = { budgetMs: 10_000, firstDelayMs: 1000, maxDelayMs: 4000 };

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
    const retry = apiRetrier({ policy, now: c.now, sleep: c.sleep, onWait: (l) => lines.push(l) });
    let calls = 0;
    const result = await retry('patchNode cp-1', async () => {
      calls += 1;
      if (calls <= 3) throw calls === 2 ? reset() : refused();
      return 'patched';
    });
    expect(result).toBe('patched');
    expect(c.slept).toEqual([1000, 2000, 4000]);
    expect(lines).toEqual([
      'the API server did not take patchNode cp-1 (connection refused): it may be restarting; waiting for the API server (up to 10s)',
      'the API server answers again (it was away 7s)',
    ]);
  });

  it('gives up after its budget, naming the call, how long and what to check', async () => {
    const c = clock();
    const retry = apiRetrier({ policy, now: c.now, sleep: c.sleep });
    const error = await retry('readNode cp-1', () => Promise.reject(refused())).catch((e: Error) => e);
    expect((error as Error).message).toBe(
      'the API server did not answer readNode cp-1 for 10s (connection refused); check that it is running and reachable from this runner',
    );
    expect(c.slept.reduce((a, b) => a + b, 0)).toBe(10_000);
  });

  it('does not retry an answer, even an error status', async () => {
    const c = clock();
    const retry = apiRetrier({ policy, now: c.now, sleep: c.sleep });
    let calls = 0;
    const answer = Object.assign(new Error('HTTP-Code: 503'), { code: 503 });
    await expect(
      retry('readNode', async () => {
        calls += 1;
        throw answer;
      }),
    ).rejects.toBe(answer);
    expect(calls).toBe(1);
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
