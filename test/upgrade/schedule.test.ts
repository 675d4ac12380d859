// Resume and scheduling: which nodes a run works on, from which stage, and that a failure stops the schedule.
import { describe, expect, it } from 'vitest';
import type { NodeProgress } from '../../src/adapters/cluster/progress.ts';
import { buildPlan } from '../../src/core/plan.ts';
import { foldRun, resumeStage } from '../../src/core/run-record.ts';
import { runSchedule } from '../../src/upgrade/runner.ts';
import { buildSchedule } from '../../src/upgrade/schedule.ts';
import { cluster, controlPlanePods, inventoryOf, settingsFrom } from '../core/fixtures.ts';
import { FakeCluster, Recorder, TARGET, nodeWorld, runnerDeps } from './fakes.ts';

const DONE_ALL = [
  'repo-switch',
  'kubeadm-install',
  'kubeadm-upgrade',
  'drain',
  'kubelet-install',
  'kubelet-restart',
  'wait-ready',
  'uncordon',
];
const progress = (doneStages: string[], target = '1.31.4'): NodeProgress => ({ target, doneStages });

function planFor(mutate: (state: ReturnType<typeof cluster>) => void = () => {}) {
  const state = cluster({ controlPlanes: 3, workers: 6 });
  mutate(state);
  return { plan: buildPlan(state, settingsFrom({ 'max-unavailable': '2' }), inventoryOf(state)), state };
}

describe('buildSchedule', () => {
  it('follows the plan: first control plane applies, the others run node, workers in batches of max-unavailable', () => {
    const { plan } = planFor();
    const schedule = buildSchedule(plan, new Map());
    expect(schedule.controlPlanes.map((c) => [c.job.name, c.job.kubeadmAction])).toEqual([
      ['cp-1', 'apply'],
      ['cp-2', 'node'],
      ['cp-3', 'node'],
    ]);
    expect(schedule.workerBatches.map((b) => b.nodes.map((n) => n.job.name))).toEqual([
      ['worker-1', 'worker-2'],
      ['worker-3', 'worker-4'],
      ['worker-5', 'worker-6'],
    ]);
    expect(schedule.controlPlanes[0]!.stages).toEqual(DONE_ALL);
  });

  it('skips nodes finished by an earlier run and resumes a node from its first stage not done', () => {
    const { plan } = planFor();
    const recorded = new Map([
      ['cp-1', progress(DONE_ALL)],
      ['worker-1', progress(['repo-switch', 'kubeadm-install', 'kubeadm-upgrade'])],
      ['worker-2', progress(DONE_ALL, '1.30.9')],
    ]);
    const schedule = buildSchedule(plan, recorded);
    expect(schedule.skipped.map((s) => s.name)).toContain('cp-1');
    const w1 = schedule.workerBatches[0]!.nodes.find((n) => n.job.name === 'worker-1')!;
    expect(w1.doneBefore).toEqual(['repo-switch', 'kubeadm-install', 'kubeadm-upgrade']);
    // progress for another target says nothing about this one
    const w2 = schedule.workerBatches[0]!.nodes.find((n) => n.job.name === 'worker-2')!;
    expect(w2.doneBefore).toEqual([]);
  });

  it('resumes a node the plan counts as upgraded when stages after its kubelet restart are not done, in its own batch', () => {
    const { plan } = planFor((state) => {
      state.nodes.find((n) => n.name === 'worker-5')!.kubeletVersion = '1.31.4';
    });
    expect(plan.nodes.find((n) => n.name === 'worker-5')).toMatchObject({ batch: 2, skipped: expect.any(String) });
    const schedule = buildSchedule(
      plan,
      new Map([
        ['worker-5', progress(['repo-switch', 'kubeadm-install', 'kubeadm-upgrade', 'drain', 'kubelet-install', 'kubelet-restart'])],
      ]),
    );
    expect(schedule.workerBatches.map((b) => [b.index, b.nodes.map((n) => n.job.name)])).toEqual([
      [0, ['worker-1', 'worker-2']],
      [1, ['worker-3', 'worker-4']],
      [2, ['worker-5', 'worker-6']],
    ]);
    const resumed = schedule.workerBatches[2]!.nodes[0]!;
    expect(resumed.job.batch).toBe(2);
    expect(resumed.stages.filter((s) => !resumed.doneBefore.includes(s))).toEqual(['wait-ready', 'uncordon']);
  });

  it('keeps batch indexes when earlier batches are done: their nodes are skipped inside their batch', () => {
    const { plan } = planFor((state) => {
      for (const n of state.nodes.filter((n) => ['worker-1', 'worker-2', 'worker-4'].includes(n.name))) n.kubeletVersion = '1.31.4';
    });
    const schedule = buildSchedule(
      plan,
      new Map([
        ['worker-1', progress(DONE_ALL)],
        ['worker-2', progress(DONE_ALL)],
        ['worker-4', progress(DONE_ALL)],
      ]),
    );
    expect(schedule.workerBatches.map((b) => [b.index, b.nodes.map((n) => n.job.name)])).toEqual([
      [1, ['worker-3']],
      [2, ['worker-5', 'worker-6']],
    ]);
    expect(schedule.skipped.filter((s) => s.role === 'worker').map((s) => [s.name, s.batch])).toEqual([
      ['worker-1', 0],
      ['worker-2', 0],
      ['worker-4', 1],
    ]);
  });

  it('runs kubeadm upgrade apply again when an earlier apply did not reach kubeadm-config: the plan says so, the run does it', () => {
    const cutShort = planFor((state) => {
      state.controlPlanePods = state.controlPlanePods.filter((p) => p.node !== 'cp-1').concat(controlPlanePods('cp-1', '1.31.4'));
    }).plan;
    expect(cutShort.nodes.find((n) => n.name === 'cp-1')!.kubeadmAction).toBe('apply');
    expect(cutShort.order.firstControlPlane?.reason).toMatch(/kubeadm-config still says 1\.30\.5/);
    const schedule = buildSchedule(cutShort, new Map([['cp-1', progress(['repo-switch', 'kubeadm-install'])]]));
    expect(schedule.controlPlanes[0]!.job).toMatchObject({ name: 'cp-1', kubeadmAction: 'apply' });
    const finished = planFor((state) => {
      state.controlPlanePods = state.controlPlanePods.filter((p) => p.node !== 'cp-1').concat(controlPlanePods('cp-1', '1.31.4'));
      state.kubeadmConfig = { ...state.kubeadmConfig!, kubernetesVersion: 'v1.31.4' };
    }).plan;
    expect(buildSchedule(finished, new Map()).controlPlanes.every((c) => c.job.kubeadmAction === 'node')).toBe(true);
  });
});

describe('runSchedule', () => {
  it('stops scheduling after a failure: the running batch finishes, later batches never start, and the record says where each node stands', async () => {
    const { plan } = planFor();
    const schedule = buildSchedule(plan, new Map());
    const recorder = new Recorder();
    recorder.responders.push((node, argv) =>
      node === 'worker-3' && argv.join(' ') === 'kubeadm upgrade node' ? { code: 1, stderr: 'kubeadm: error\n' } : undefined,
    );
    recorder.responders.push(
      nodeWorld(TARGET.version, { '/etc/apt/sources.list.d/kubernetes.list': 'deb https://pkgs.k8s.io/core:/stable:/v1.30/deb/ /\n' }),
    );
    const fake = new FakeCluster();
    const deps = runnerDeps(recorder, fake);
    for (const node of [...schedule.controlPlanes, ...schedule.workerBatches.flatMap((b) => b.nodes)]) {
      deps.events.push({
        type: 'node-scheduled',
        at: 0,
        node: node.job.name,
        role: node.job.role,
        stages: node.stages,
        doneBefore: node.doneBefore,
      });
    }
    const result = await runSchedule(schedule, deps, { controlPlanes: true, workers: true });
    expect(result).toEqual({ ok: false, stoppedBecause: 'worker-3 failed' });
    // control planes one at a time, in order
    expect([...new Set(recorder.calls.map((c) => c.node))].slice(0, 3)).toEqual(['cp-1', 'cp-2', 'cp-3']);
    expect(recorder.opened).not.toContain('worker-5');
    expect(recorder.opened).not.toContain('worker-6');
    const record = foldRun(deps.events);
    const byName = Object.fromEntries(record.nodes.map((n) => [n.name, n]));
    expect(byName['worker-4']!.status).toBe('upgraded');
    expect(byName['worker-3']!.status).toBe('failed');
    expect(resumeStage(byName['worker-3']!)).toBe('kubeadm-upgrade');
    expect(byName['worker-5']!.status).toBe('not-started');
    expect(resumeStage(byName['worker-5']!)).toBe('repo-switch');
    // addons were checked after the last control plane
    expect(record.notes.some((n) => n.text.startsWith('kube-proxy runs'))).toBe(true);
  });

  it('starts no new node once a stop is requested (cancellation)', async () => {
    const { plan } = planFor();
    const schedule = buildSchedule(
      plan,
      new Map([
        ['cp-1', progress(DONE_ALL)],
        ['cp-2', progress(DONE_ALL)],
        ['cp-3', progress(DONE_ALL)],
      ]),
    );
    const recorder = new Recorder();
    recorder.responders.push(
      nodeWorld(TARGET.version, { '/etc/apt/sources.list.d/kubernetes.list': 'deb https://pkgs.k8s.io/core:/stable:/v1.30/deb/ /\n' }),
    );
    let batchesStarted = 0;
    const deps = runnerDeps(recorder, new FakeCluster(), {
      stopRequested: () => (batchesStarted++ >= 1 ? 'the run was cancelled (SIGTERM)' : undefined),
    });
    const result = await runSchedule(schedule, deps, { controlPlanes: false, workers: true });
    expect(result).toEqual({ ok: false, stoppedBecause: 'the run was cancelled (SIGTERM)' });
    expect([...new Set(recorder.opened)].sort()).toEqual(['worker-1', 'worker-2']);
  });
});
