// A drain blocked by a PodDisruptionBudget, through the bundle on a simulated 1 + 2 cluster with the demo
// workload: the `pdb-blocks` fault makes every eviction of web-pdb's pods answer 429 although the budget's status
// allows one (so the plan does not see it coming). With drain-timeout 20s the drain of worker-1 gives up: the
// node is uncordoned, the run fails naming the budget and its pods, worker-2 is never started; with the fault
// removed, a re-run resumes worker-1 at its drain and completes.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { startCluster, type SimCluster } from '../../sim/index.ts';
import { buildBundle, runAction, type ActionResult } from '../support/action-runner.ts';
import { changingCommands, nodeLog, upgradeInputs } from './upgrade-helpers.ts';

let cluster: SimCluster;
let blocked: ActionResult;
let rerun: ActionResult;
let cordonedAfterFailure: Record<string, boolean | null>;
let webPodsOnWorker1: string[];
let worker2ChangesAfterFailure: string[];

function webPods(node: string): string[] {
  const out = execFileSync(
    '/usr/bin/kubectl',
    [
      '--kubeconfig',
      cluster.kubeconfigPath,
      'get',
      'pods',
      '-n',
      'demo',
      '-l',
      'app=web',
      '--field-selector',
      `spec.nodeName=${node}`,
      '-o',
      'name',
    ],
    { encoding: 'utf8' },
  );
  return out
    .split('\n')
    .filter(Boolean)
    .map((n) => `demo/${n.replace(/^pod\//, '')}`);
}

interface RecordNode {
  name: string;
  status: string;
  cordoned: boolean;
  stages: { name: string; status: string; message?: string }[];
}
const nodesOf = (result: ActionResult) => (JSON.parse(result.outputs.result!) as { nodes: RecordNode[] }).nodes;

beforeAll(async () => {
  let bundle: string;
  [bundle, cluster] = await Promise.all([
    buildBundle(),
    startCluster({ controlPlanes: 1, workers: 2, version: '1.30.5', os: 'debian', workload: 'demo' }),
  ]);
  cluster.setFaults([{ type: 'pdb-blocks', namespace: 'demo', name: 'web-pdb' }]);
  webPodsOnWorker1 = webPods('worker-1');
  const inputs = upgradeInputs(cluster, { 'max-unavailable': '1', 'drain-timeout': '20s', 'node-ready-timeout': '60s' });
  blocked = await runAction(inputs, { bundle, env: { GITHUB_RUN_ID: '7001' }, timeoutMs: 300_000 });
  cordonedAfterFailure = Object.fromEntries((await cluster.status()).nodes.map((n) => [n.name, n.cordoned]));
  worker2ChangesAfterFailure = changingCommands(nodeLog(cluster, 'worker-2'));
  cluster.setFaults([]);
  rerun = await runAction(inputs, { bundle, env: { GITHUB_RUN_ID: '7002' }, timeoutMs: 300_000 });
}, 900_000);

afterAll(async () => {
  await cluster?.stop();
});

describe('a drain blocked by a PodDisruptionBudget', () => {
  it("fails the run at worker-1's drain, naming the budget and the pods it holds back", () => {
    expect(webPodsOnWorker1.length).toBeGreaterThan(0);
    expect(blocked.exitCode).toBe(1);
    expect(blocked.outputs.outcome).toBe('failed');
    const worker1 = nodesOf(blocked).find((n) => n.name === 'worker-1')!;
    const failed = worker1.stages.find((s) => s.status === 'failed')!;
    expect(failed.name).toBe('drain');
    expect(failed.message).toMatch(
      /drain of node worker-1 did not finish within drain-timeout 20s: PodDisruptionBudget demo\/web-pdb \(needs \d+ healthy pods and has \d+ currently\) blocks /,
    );
    for (const pod of webPodsOnWorker1) {
      expect(failed.message).toContain(pod);
      expect(blocked.summary).toContain(pod);
    }
    expect(blocked.summary).toMatch(/- \*\*worker-1\*\* failed at \*\*drain\*\*: .*PodDisruptionBudget demo\/web-pdb/);
  });

  it('uncordons worker-1 again and leaves no node cordoned', () => {
    expect(cordonedAfterFailure).toEqual({ 'cp-1': false, 'worker-1': false, 'worker-2': false });
    expect(blocked.summary).toMatch(/\*\*worker-1\*\* failed at \*\*drain\*\*: .*; schedulable\. A re-run resumes it at \*\*drain\*\*\./);
    expect(blocked.summary).toContain('No node is left cordoned by this run.');
    expect(webPods('worker-1').length).toBeGreaterThan(0);
  });

  it('never starts worker-2', () => {
    expect(nodesOf(blocked).find((n) => n.name === 'worker-2')!.status).toBe('not-started');
    expect(blocked.summary).toMatch(/- \*\*worker-2\*\* was not started; schedulable\. A re-run resumes it at \*\*repo-switch\*\*\./);
    expect(JSON.parse(blocked.outputs['upgraded-nodes']!)).toEqual(['cp-1']);
    expect(worker2ChangesAfterFailure).toEqual([]);
  });

  it('a re-run without the fault resumes worker-1 at its drain and completes', async () => {
    expect(rerun.exitCode, rerun.stdout.slice(-3000)).toBe(0);
    expect(JSON.parse(rerun.outputs['upgraded-nodes']!)).toEqual(['worker-1', 'worker-2']);
    // (its repository already points at the target minor, so the re-plan has no repo-switch for it)
    expect(rerun.summary).toMatch(/worker-1: resumed; done by an earlier run: kubeadm-install, kubeadm-upgrade\n/);
    const target = (JSON.parse(rerun.outputs.result!) as { target: string }).target;
    for (const node of (await cluster.status()).nodes) {
      expect(node.kubeletVersion, node.name).toBe(`v${target}`);
      expect(node.cordoned, node.name).toBe(false);
    }
    // worker-2's first changing command came in the re-run
    expect(changingCommands(nodeLog(cluster, 'worker-2')).length).toBeGreaterThan(0);
  });
});
