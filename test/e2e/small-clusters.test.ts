// Small kubeadm clusters (labs, edge sites, dev clusters) upgrade end to end through the bundle: a single node,
// whose pods wait Pending through its own upgrade by default, and 1 control plane + 1 worker, where pods with
// nowhere else to go block the plan until the operator accepts it with allow-pending-pods.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import type { Plan } from '../../src/core/plan-types.ts';
import { startCluster, type SimCluster } from '../../sim/index.ts';
import { buildBundle, runAction, type ActionResult } from '../support/action-runner.ts';
import { upgradeInputs } from './upgrade-helpers.ts';

const tail = (stdout: string) =>
  stdout
    .split('\n')
    .filter((l) => !l.startsWith('::add-mask::'))
    .join('\n')
    .slice(-3000);
const kubectl = (cluster: SimCluster, ...args: string[]) =>
  execFileSync('/usr/bin/kubectl', ['--kubeconfig', cluster.kubeconfigPath, ...args], { encoding: 'utf8' });

let bundle: string;
beforeAll(async () => {
  bundle = await buildBundle();
}, 120_000);

describe('a single-node cluster', () => {
  let cluster: SimCluster;
  let planned: ActionResult;
  let upgraded: ActionResult;
  beforeAll(async () => {
    cluster = await startCluster({ controlPlanes: 1, workers: 0, version: '1.30.5', workload: 'none', os: 'debian' });
    const inputs = upgradeInputs(cluster, { 'max-unavailable': '1' });
    planned = await runAction({ ...inputs, command: 'plan' }, { bundle, timeoutMs: 300_000 });
    upgraded = await runAction(inputs, { bundle, timeoutMs: 600_000 });
  }, 900_000);
  afterAll(async () => {
    await cluster?.stop();
  });

  it('the plan is ready and says the CoreDNS pods wait Pending while the node is upgraded', () => {
    expect(planned.exitCode, tail(planned.stdout)).toBe(0);
    const plan = JSON.parse(planned.outputs.plan!) as Plan;
    expect(plan.verdict, plan.verdictReason).toBe('ready');
    expect(plan.preflight.find((v) => v.id === 'pending-pods')?.message).toMatch(
      /single-node cluster has nowhere else to put them.*control plane cp-1: 2 pod\(s\)/,
    );
  });

  it('upgrades the node, uncordons it, and CoreDNS runs again', async () => {
    expect(upgraded.exitCode, tail(upgraded.stdout)).toBe(0);
    expect(JSON.parse(upgraded.outputs['upgraded-nodes']!)).toEqual(['cp-1']);
    const [node] = (await cluster.status()).nodes;
    expect(node).toMatchObject({ name: 'cp-1', cordoned: false });
    expect(node!.kubeletVersion).toMatch(/^v1\.31\./);
    const phases = kubectl(
      cluster,
      'get',
      'pods',
      '-n',
      'kube-system',
      '-l',
      'k8s-app=kube-dns',
      '-o',
      'jsonpath={.items[*].status.phase}',
    );
    expect(phases.split(' ').filter(Boolean)).toEqual(['Running', 'Running']);
  });
});

describe('1 control plane + 1 worker', () => {
  let cluster: SimCluster;
  let refused: ActionResult;
  let upgraded: ActionResult;
  beforeAll(async () => {
    cluster = await startCluster({ controlPlanes: 1, workers: 1, version: '1.30.5', workload: 'none', os: 'debian' });
    // a workload that may only run on the worker (no control-plane toleration), without a budget
    kubectl(cluster, 'create', 'deployment', 'web', '--image=registry.k8s.io/pause:3.10', '--replicas=2');
    for (
      let i = 0;
      i < 100 && kubectl(cluster, 'get', 'pods', '-l', 'app=web', '-o', 'jsonpath={.items[*].status.phase}').trim() !== 'Running Running';
      i++
    )
      await new Promise((r) => setTimeout(r, 200));
    const inputs = upgradeInputs(cluster, { 'max-unavailable': '1' });
    refused = await runAction(inputs, { bundle, timeoutMs: 300_000 });
    upgraded = await runAction({ ...inputs, 'allow-pending-pods': 'true' }, { bundle, timeoutMs: 600_000 });
  }, 900_000);
  afterAll(async () => {
    await cluster?.stop();
  });

  it('without allow-pending-pods the upgrade is refused before any node is touched, naming the input', async () => {
    expect(refused.exitCode).toBe(1);
    expect(refused.outputs.outcome).toBe('refused');
    expect(refused.summary).toMatch(/no room for the evicted pods while draining worker batch 0.*set allow-pending-pods: true/);
  });

  it('with allow-pending-pods the cluster is upgraded and the workload runs again on the worker', async () => {
    expect(upgraded.exitCode, tail(upgraded.stdout)).toBe(0);
    expect(JSON.parse(upgraded.outputs['upgraded-nodes']!).sort()).toEqual(['cp-1', 'worker-1']);
    for (const node of (await cluster.status()).nodes) {
      expect(node.kubeletVersion, node.name).toMatch(/^v1\.31\./);
      expect(node.cordoned, node.name).toBe(false);
    }
    // the pods that waited Pending are scheduled again once the worker is uncordoned
    const phases = () =>
      kubectl(cluster, 'get', 'pods', '-l', 'app=web', '-o', 'jsonpath={.items[*].status.phase}').split(' ').filter(Boolean);
    for (let i = 0; i < 300 && phases().join() !== 'Running,Running'; i++) await new Promise((r) => setTimeout(r, 200));
    expect(phases()).toEqual(['Running', 'Running']);
  }, 120_000);
});
