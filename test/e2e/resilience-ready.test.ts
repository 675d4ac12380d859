// A node that never returns Ready after its kubelet restart, through the bundle on a simulated 1 + 2 cluster:
// with node-ready-timeout 20s the wait-ready stage of worker-1 times out with a message naming the node and the
// last condition it reported; nothing after it runs (worker-1 stays cordoned, worker-2 is never started). Once the
// node is healthy again, a re-run resumes worker-1 at wait-ready and completes. The re-plan must count worker-1,
// cordoned by the failed run, as room for worker-2's pods: the only other worker is that one.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { setTimeout as sleep } from 'node:timers/promises';
import { startCluster, type SimCluster } from '../../sim/index.ts';
import { buildBundle, runAction, type ActionResult } from '../support/action-runner.ts';
import { changingCommands, nodeLog, upgradeInputs } from './upgrade-helpers.ts';

let cluster: SimCluster;
let timedOut: ActionResult;
let rerun: ActionResult;
let afterTimeout: { cordoned: Record<string, boolean | null>; laterChanges: string[] };

interface RecordNode {
  name: string;
  status: string;
  stages: { name: string; status: string; message?: string }[];
}
const nodesOf = (result: ActionResult) => (JSON.parse(result.outputs.result!) as { nodes: RecordNode[] }).nodes;

beforeAll(async () => {
  let bundle: string;
  [bundle, cluster] = await Promise.all([buildBundle(), startCluster({ controlPlanes: 1, workers: 2, version: '1.30.5', os: 'debian' })]);
  cluster.setFaults([{ type: 'never-ready', node: 'worker-1' }]);
  const inputs = upgradeInputs(cluster, { 'max-unavailable': '1', 'drain-timeout': '30s', 'node-ready-timeout': '20s' });
  timedOut = await runAction(inputs, { bundle, env: { GITHUB_RUN_ID: '8001' }, timeoutMs: 300_000 });
  afterTimeout = {
    cordoned: Object.fromEntries((await cluster.status()).nodes.map((n) => [n.name, n.cordoned])),
    laterChanges: ['worker-2'].flatMap((n) => changingCommands(nodeLog(cluster, n))),
  };
  cluster.setFaults([]);
  // the re-run comes once the node reports Ready again (its next heartbeat); a plan before that blocks on it
  for (let i = 0; i < 150 && (await cluster.status()).nodes.find((n) => n.name === 'worker-1')?.ready !== true; i++) await sleep(200);
  rerun = await runAction(inputs, { bundle, env: { GITHUB_RUN_ID: '8002' }, timeoutMs: 300_000 });
}, 900_000);

afterAll(async () => {
  await cluster?.stop();
});

describe('a node that never returns Ready', () => {
  it('times out in wait-ready, naming the node and the last condition it reported', () => {
    expect(timedOut.exitCode).toBe(1);
    expect(timedOut.outputs.outcome).toBe('failed');
    const worker1 = nodesOf(timedOut).find((n) => n.name === 'worker-1')!;
    const failed = worker1.stages.find((s) => s.status === 'failed')!;
    expect(failed.name).toBe('wait-ready');
    expect(failed.message).toMatch(/^worker-1 was not Ready with kubelet v1\.31\.\d+ within 20 s \(last seen: NotReady/);
    expect(failed.message).toMatch(/KubeletNotReady: container runtime network not ready/);
    expect(timedOut.summary).toMatch(/- \*\*worker-1\*\* failed at \*\*wait-ready\*\*: worker-1 was not Ready/);
  });

  it('schedules nothing after it: worker-1 stays cordoned and is not uncordoned, the later worker is never started', () => {
    const worker1 = nodesOf(timedOut).find((n) => n.name === 'worker-1')!;
    expect(worker1.stages.map((s) => s.name)).not.toContain('uncordon');
    expect(afterTimeout.cordoned).toEqual({ 'cp-1': false, 'worker-1': true, 'worker-2': false });
    expect(
      nodesOf(timedOut)
        .filter((n) => n.status === 'not-started')
        .map((n) => n.name),
    ).toEqual(['worker-2']);
    expect(afterTimeout.laterChanges).toEqual([]);
    expect(timedOut.summary).toMatch(
      /\*\*worker-1\*\* failed at \*\*wait-ready\*\*: .*; cordoned \(.*\)\. A re-run resumes it at \*\*wait-ready\*\*\./,
    );
    expect(timedOut.summary).toContain('Cordoned now: worker-1.');
  });

  it('a re-run once the node is healthy resumes at wait-ready and completes', async () => {
    expect(rerun.exitCode, rerun.stdout.slice(-3000)).toBe(0);
    expect(JSON.parse(rerun.outputs['upgraded-nodes']!)).toEqual(['worker-1', 'worker-2']);
    expect(rerun.summary).toMatch(
      /worker-1: resumed; done by an earlier run: repo-switch, kubeadm-install, kubeadm-upgrade, drain, kubelet-install, kubelet-restart/,
    );
    for (const node of (await cluster.status()).nodes) expect(node.cordoned, node.name).toBe(false);
  });
});
