// Transient API faults in the middle of a run, through the bundle on a simulated 1 + 1 cluster: when the log
// announces worker-1's drain, the API server answers every request 503 for 25 s (the `api-unavailable` fault);
// when it announces worker-1's wait for Ready, it cuts every request's connection for 12 s, then answers 429 with
// Retry-After for 12 s more. Each call waits them out (api-retry.ts) and the run finishes; the log says when the
// API server stopped answering and when it answered again.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCluster, type SimCluster } from '../../sim/index.ts';
import type { FaultSpec } from '../../sim/cluster/faults.ts';
import { buildBundle, runAction, type ActionResult } from '../support/action-runner.ts';
import { onLogLine, upgradeInputs } from './upgrade-helpers.ts';

/** The end of a step's log for an assertion message, without its ::add-mask:: lines (they hold the inputs). */
const tail = (stdout: string, chars: number) =>
  stdout
    .split('\n')
    .filter((l) => !l.startsWith('::add-mask::'))
    .join('\n')
    .slice(-chars);

let cluster: SimCluster;
let result: ActionResult;
const written: string[] = [];

beforeAll(async () => {
  let bundle: string;
  [bundle, cluster] = await Promise.all([buildBundle(), startCluster({ controlPlanes: 1, workers: 1, version: '1.30.5', os: 'debian' })]);
  const set = (name: string, faults: FaultSpec[]) => {
    cluster.setFaults(faults);
    written.push(name);
  };
  const inputs = upgradeInputs(cluster, { 'max-unavailable': '1', 'allow-pending-pods': 'true', 'node-ready-timeout': '90s' });
  result = await runAction(inputs, {
    bundle,
    env: { GITHUB_RUN_ID: '9401' },
    timeoutMs: 600_000,
    onStdout: onLogLine([
      { line: '▶ worker-1: drain', act: () => set('drain', [{ type: 'api-unavailable', durationMs: 25_000 }]) },
      {
        line: '▶ worker-1: wait-ready',
        act: () =>
          set('wait-ready', [
            { type: 'api-reset', durationMs: 12_000 },
            { type: 'api-error', status: 429, retryAfterSeconds: 2, startAfterMs: 12_000, durationMs: 12_000 },
          ]),
      },
    ]),
  });
}, 900_000);

afterAll(async () => {
  await cluster?.stop();
});

describe('the API server away for 25 s during a drain and during the wait for Ready', () => {
  it('both outages met the run', () => {
    expect(written).toEqual(['drain', 'wait-ready']);
    expect(result.stdout).toMatch(/the API server answered \S+.* with HTTP 503 ServiceUnavailable: .*: retrying with backoff/);
    expect(result.stdout).toMatch(/the API server did not take \S+.* \(connection (reset|closed by the server)\): it may be restarting/);
    expect(result.stdout).toMatch(/the API server answered \S+.* with HTTP 429 TooManyRequests: .*: retrying with backoff/);
    expect(result.stdout).toMatch(/the API server answers again \(it was away \d+s\)/);
  });

  it('the run waited them out and finished: every node upgraded and schedulable', async () => {
    expect(result.exitCode, tail(result.stdout, 3000)).toBe(0);
    expect(result.outputs.outcome).toBe('succeeded');
    expect(JSON.parse(result.outputs['upgraded-nodes']!)).toEqual(['cp-1', 'worker-1']);
    const target = (JSON.parse(result.outputs.result!) as { target: string }).target;
    for (const node of (await cluster.status()).nodes) {
      expect(node.kubeletVersion, node.name).toBe(`v${target}`);
      expect(node.cordoned, node.name).toBe(false);
    }
    expect(result.summary).not.toMatch(/HTTP-Code|Headers/);
  });
});
