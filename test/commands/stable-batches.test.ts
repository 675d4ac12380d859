// Worker batches are a function of the inventory: the worker-matrix of a plan made before the upgrade, of one
// made after batch 0 finished, and the batches `command: workers` numbers all agree, so a matrix leg's index
// always names the same nodes. Runs the real `workers` command over fake adapters.
import { describe, expect, it } from 'vitest';
import type { NodeProgress } from '../../src/adapters/cluster/progress.ts';
import type { CommandDeps, PreparedPlan } from '../../src/commands/deps.ts';
import { workersCommand } from '../../src/commands/workers.ts';
import type { ClusterState } from '../../src/core/cluster-state.ts';
import { buildPlan } from '../../src/core/plan.ts';
import { planOutputs } from '../../src/report/plan-report.ts';
import { cluster, controlPlanePods, inventoryOf, settingsFrom } from '../core/fixtures.ts';
import { FakeCluster, Recorder, TARGET, fakeClock, nodeWorld } from '../upgrade/fakes.ts';

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
const INPUTS = { 'max-unavailable': '2', 'batch-by-label': 'zone' };
const APT_LIST = { '/etc/apt/sources.list.d/kubernetes.list': 'deb https://pkgs.k8s.io/core:/stable:/v1.30/deb/ /\n' };

/** 1 control plane + 5 workers in two zones, worker-5 pinned to a batch of its own. */
function freshCluster(): ClusterState {
  const state = cluster({ controlPlanes: 1, workers: 5 });
  ['a', 'b', 'a', 'b', 'a'].forEach((zone, i) => {
    state.nodes[i + 1]!.labels.zone = zone;
  });
  // as the probe reports them: the exact package version of each listed version
  for (const r of state.nodeReports) r.publishedPackageVersions = Object.fromEntries(r.publishedInTargetMinor!.map((v) => [v, `${v}-1.1`]));
  return state;
}
const inventory = (state: ClusterState) => inventoryOf(state, (n) => (n.name === 'worker-5' ? { batch: 0 } : {}));
const planOf = (state: ClusterState) => buildPlan(state, settingsFrom(INPUTS), inventory(state));

/** The cluster once the control plane and the given workers run the target. */
function upgraded(workers: string[]): ClusterState {
  const state = freshCluster();
  state.controlPlanePods = controlPlanePods('cp-1', TARGET.version);
  for (const n of state.nodes.filter((n) => n.role === 'control-plane' || workers.includes(n.name))) n.kubeletVersion = TARGET.version;
  return state;
}

function workersDeps(state: ClusterState, batch: number, fake: FakeCluster, recorder: Recorder) {
  const summaries: string[] = [];
  const prepared: PreparedPlan = { plan: planOf(state), state, inventory: inventory(state) };
  const settings = settingsFrom({ ...INPUTS, command: 'workers', batch: String(batch) });
  const options = settings.upgrade;
  // The fields the workers command uses; the rest of CommandDeps (verify, artifacts) is not reached by it.
  const deps = {
    settings,
    options,
    cluster: fake,
    clock: fakeClock(),
    openShell: recorder.open,
    preparePlan: async () => prepared,
    lock: {
      acquire: async () => ({ acquired: true as const, identity: 'octo/repo run 1 attempt 1' }),
      startRenewal: () => ({ stop: async () => {} }),
      release: async () => ({ released: true as const, deleted: true, remainingJobs: [] }),
    },
    reporter: {
      info: () => {},
      warning: () => {},
      group: () => {},
      setOutputs: () => {},
      saveState: () => {},
      writeSummary: async (markdown: string) => void summaries.push(markdown),
      prComment: async () => undefined,
    },
    identity: { repository: 'octo/repo', runId: '1', attempt: 1, job: 'workers' },
    cancelled: () => undefined,
  } as unknown as CommandDeps;
  return { deps, summaries };
}

function progressFor(nodes: string[]): FakeCluster {
  const fake = new FakeCluster();
  for (const node of nodes) fake.progress.set(node, { target: TARGET.version, doneStages: DONE_ALL } satisfies NodeProgress);
  return fake;
}

describe('stable worker batches', () => {
  const before = planOf(freshCluster());
  const matrix = (state: ClusterState) => JSON.parse(planOutputs(planOf(state))['worker-matrix']!);

  it('numbers batches over every inventory worker, pins first, one label value per batch', () => {
    expect(matrix(freshCluster()).include).toEqual([
      { batch: 0, nodes: 'worker-5' },
      { batch: 1, nodes: 'worker-1,worker-3' },
      { batch: 2, nodes: 'worker-2,worker-4' },
    ]);
  });

  it("a plan made after batch 0 finished has the same worker-matrix, with batch 0's node skipped in its batch", () => {
    const after = planOf(upgraded(['worker-5']));
    expect(matrix(upgraded(['worker-5']))).toEqual(matrix(freshCluster()));
    expect(after.order.workerBatches).toEqual(before.order.workerBatches);
    expect(after.nodes.find((n) => n.name === 'worker-5')).toMatchObject({ batch: 0, skipped: 'kubelet already runs 1.31.4' });
    expect(after.nodes.find((n) => n.name === 'worker-2')).toMatchObject({ batch: 2 });
    // only what is left is forecast and counted
    expect(after.forecast.batches.filter((b) => b.stage === 'workers').map((b) => b.index)).toEqual([1, 2]);
    expect(after.verdictReason).toMatch(/4 workers in 2 batches \(of 3; the others are done\)/);
  });

  it('a plan made half-way through a batch keeps that batch whole', () => {
    expect(matrix(upgraded(['worker-5', 'worker-3']))).toEqual(matrix(freshCluster()));
  });

  it('workers with batch 0 after batch 0 finished does nothing, touches no node, and says so', async () => {
    const recorder = new Recorder();
    const fake = progressFor(['cp-1', 'worker-5']);
    const { deps, summaries } = workersDeps(upgraded(['worker-5']), 0, fake, recorder);
    const result = await workersCommand(deps);
    expect(result.exitCode).toBe(0);
    expect(result.record.outcome).toBe('nothing-to-do');
    expect(result.record.reason).toMatch(/Every node of this workers run is already at 1\.31\.4/);
    expect(result.record.nodes.map((n) => [n.name, n.status, n.batch])).toEqual([['worker-5', 'skipped', 0]]);
    expect(recorder.opened).toEqual([]);
    expect(fake.log.some((l) => !l.startsWith('cp-1') && !l.startsWith('worker-5'))).toBe(false);
    expect(summaries.join('\n')).toMatch(/nothing to do/);
  });

  it('workers with batch 2 upgrades exactly the nodes worker-matrix entry 2 named before the upgrade', async () => {
    const recorder = new Recorder();
    recorder.responders.push(nodeWorld(TARGET.version, APT_LIST));
    const fake = progressFor(['cp-1', 'worker-5']);
    recorder.responders.push(
      (node, argv) => void (argv.join(' ') === 'systemctl restart kubelet' && fake.kubelet.set(node, TARGET.version)),
    );
    const { deps } = workersDeps(upgraded(['worker-5']), 2, fake, recorder);
    const result = await workersCommand(deps);
    expect(result.exitCode, JSON.stringify(result.record.nodes)).toBe(0);
    // the plan's exact revision is installed; the node's repository is not listed again
    expect(
      recorder.calls
        .filter((c) => c.argv.join(' ').includes('apt-get install'))
        .map((c) => c.argv.filter((a) => /^kube[a-z]+=/.test(a)).join(' '))
        .sort(),
    ).toEqual([
      'kubeadm=1.31.4-1.1',
      'kubeadm=1.31.4-1.1',
      'kubelet=1.31.4-1.1 kubectl=1.31.4-1.1',
      'kubelet=1.31.4-1.1 kubectl=1.31.4-1.1',
    ]);
    expect(recorder.calls.some((c) => c.argv[0] === 'apt-cache')).toBe(false);
    const entry2 = before.order.workerBatches.find((b) => b.index === 2)!.nodes;
    expect([...new Set(recorder.opened)].sort()).toEqual([...entry2].sort());
    expect(result.record.nodes.filter((n) => n.status === 'upgraded').map((n) => [n.name, n.batch])).toEqual(entry2.map((n) => [n, 2]));
  });
});
