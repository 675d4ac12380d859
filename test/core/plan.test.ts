import { describe, expect, it } from 'vitest';
import type { ClusterState } from '../../src/core/cluster-state.ts';
import { buildPlan, type Plan, type Step } from '../../src/core/plan.ts';
import { procedureDescriber } from '../../src/upgrade/procedure.ts';
import { cluster, inventoryOf, pod, settingsFrom } from './fixtures.ts';

const plan = (state: ClusterState, inputs: Record<string, string> = {}) => {
  const settings = settingsFrom(inputs);
  return buildPlan(state, settings, inventoryOf(state), procedureDescriber(state, settings));
};
const stepsOf = (p: Plan, node: string): Step[] => p.procedures[p.nodes.find((n) => n.name === node)!.procedure!]!;
const lines = (steps: Step[], id: string): string[] => steps.find((s) => s.id === id)!.actions.map((a) => a.text);

describe('buildPlan verdicts', () => {
  it('ready: 1.30.5 → newest 1.31 patch', () => {
    const p = plan(cluster({ controlPlanes: 3, workers: 4 }));
    expect(p).toMatchObject({ verdict: 'ready', currentVersion: '1.30.5', target: { version: '1.31.4', verified: true }, blockers: [] });
    expect(p.verdictReason).toMatch(/^upgrade 1\.30\.5 → 1\.31\.4: 3 control planes, 4 workers in 4 batches, about \d+ min$/);
  });

  it('up to date: same version everywhere, nothing to do', () => {
    const p = plan(cluster({ version: '1.31.4' }), { 'target-version': '1.31.4' });
    expect(p).toMatchObject({ verdict: 'up-to-date', blockers: [] });
    expect(p.nodes.every((n) => n.skipped)).toBe(true);
  });

  it('a same-minor patch upgrade needs no repository switch', () => {
    const p = plan(cluster({ version: '1.31.1' }));
    expect(p.verdict).toBe('ready');
    expect(stepsOf(p, 'cp-1').map((s) => s.id)).toEqual([
      'kubeadm-install',
      'kubeadm-upgrade',
      'drain',
      'kubelet-install',
      'kubelet-restart',
      'wait-ready',
      'uncordon',
    ]);
  });

  it('downgrade: blocked', () => {
    const p = plan(cluster({ version: '1.31.4' }), { 'target-version': '1.31.2' });
    expect(p.verdict).toBe('blocked');
    expect(p.blockers[0]).toMatchObject({ source: 'skew', id: 'downgrade' });
  });

  it('two minors: lists the hops and blocks with "upgrade hop by hop: first target 1.30"', () => {
    const p = plan(cluster({ version: '1.29.10' }));
    expect(p.hops.map((h) => h.to)).toEqual(['1.30.latest', '1.31.4']);
    expect(p.verdict).toBe('blocked');
    expect(p.blockers.map((b) => b.id)).toEqual(['hop-by-hop']);
    expect(p.verdictReason).toMatch(/^upgrade hop by hop: first target 1\.30/);
  });

  it('unresolvable target: blocked, and says to give an exact version', () => {
    const state = cluster();
    for (const r of state.nodeReports) delete r.publishedInTargetMinor;
    const p = plan(state);
    expect(p.verdict).toBe('blocked');
    expect(p.blockers[0]).toMatchObject({ id: 'target-unresolved', message: expect.stringMatching(/exact version/) });
    const exact = plan(state, { 'target-version': '1.31.4' });
    expect(exact).toMatchObject({ verdict: 'ready', target: { version: '1.31.4', verified: false } });
  });

  it('forceable skew blocks without force and passes with it (and kubeadm gets --force)', () => {
    const state = cluster({ version: '1.31.1', workerVersion: '1.27.9' });
    expect(plan(state).blockers.map((b) => b.id)).toEqual(['kubelet-too-old']);
    const forced = plan(state, { force: 'true' });
    expect(forced.verdict).toBe('ready');
    expect(lines(stepsOf(forced, 'cp-1'), 'kubeadm-upgrade')[1]).toBe(
      'kubeadm upgrade apply v1.31.4 --yes --certificate-renewal=true --etcd-upgrade=true --force',
    );
  });

  it('forecast blockers: unmanaged pods and a PDB allowing nothing', () => {
    const state = cluster({ workers: 2, podsPerWorker: 1 });
    state.pods.push(pod('bare', 'worker-1', { controllerKind: undefined }));
    state.budgets = [
      {
        namespace: 'default',
        name: 'all',
        selector: { matchLabels: { app: 'x' } },
        disruptionsAllowed: 0,
        currentHealthy: 1,
        desiredHealthy: 1,
        expectedPods: 1,
      },
    ];
    state.pods[0]!.labels = { app: 'x' };
    const p = plan(state);
    expect(p.blockers.map((b) => b.id)).toEqual(['unmanaged-pods', 'pdb-blocks']);
    expect(p.blockers[0]!.message).toMatch(/default\/bare/);
  });
});

describe('per-node steps', () => {
  it('apt: repository switch, exact revision when listed, kubeadm apply on the first control plane only', () => {
    const state = cluster({ controlPlanes: 2, published: ['1.31.4-1.1'] });
    for (const r of state.nodeReports) r.publishedPackageVersions = { '1.31.4': '1.31.4-1.1' };
    const p = plan(state);
    const cp1 = stepsOf(p, 'cp-1');
    expect(stepsOf(p, 'worker-1')).toBe(stepsOf(p, 'worker-2'));
    expect(lines(stepsOf(p, 'cp-2'), 'kubeadm-upgrade')[0]).toBe('kubeadm upgrade node --certificate-renewal=true --etcd-upgrade=true');
    expect(cp1.map((s) => s.id)).toEqual([
      'repo-switch',
      'kubeadm-install',
      'kubeadm-upgrade',
      'drain',
      'kubelet-install',
      'kubelet-restart',
      'wait-ready',
      'uncordon',
    ]);
    expect(lines(cp1, 'repo-switch')[0]).toBe(
      "sed -i -E 's#(pkgs\\.k8s\\.io/core:/stable:/v)[0-9]+\\.[0-9]+/#\\11.31/#g' -- /etc/apt/sources.list.d/kubernetes.list",
    );
    expect(lines(cp1, 'kubeadm-install')).toEqual([
      'apt-mark unhold kubeadm',
      'env DEBIAN_FRONTEND=noninteractive apt-get update -o DPkg::Lock::Timeout=120 -o Dir::Etc::sourcelist=/etc/apt/sources.list.d/kubernetes.list -o Dir::Etc::sourceparts=- -o APT::Get::List-Cleanup=0',
      'env DEBIAN_FRONTEND=noninteractive apt-get install -y --allow-change-held-packages -o DPkg::Lock::Timeout=120 -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold kubeadm=1.31.4-1.1',
      'apt-mark hold kubeadm',
      'kubeadm version -o short',
    ]);
    expect(lines(cp1, 'kubeadm-upgrade').slice(0, 2)).toEqual([
      'kubeadm upgrade plan',
      'kubeadm upgrade apply v1.31.4 --yes --certificate-renewal=true --etcd-upgrade=true',
    ]);
    expect(lines(stepsOf(p, 'worker-1'), 'kubeadm-upgrade')).toEqual([
      'kubeadm upgrade node',
      expect.stringMatching(/^report the backup folders kubeadm left/),
    ]);
  });

  it('no exact revision in the plan: the install reads it on the node, and the plan says so', () => {
    const p = plan(cluster({ packageManager: 'dnf' }));
    const install = stepsOf(p, 'worker-1').find((s) => s.id === 'kubelet-install')!.actions;
    expect(install.map((a) => a.text)).toEqual([
      'dnf --setopt=skip_if_unavailable=True versionlock delete kubelet kubectl',
      'dnf list --showduplicates --setopt=skip_if_unavailable=True --disableexcludes=kubernetes kubelet',
      'dnf install -y --setopt=skip_if_unavailable=True kubelet-<the 1.31.4 revision the node lists> kubectl-<the 1.31.4 revision the node lists> --disableexcludes=kubernetes',
      'dnf --setopt=skip_if_unavailable=True versionlock add kubelet kubectl',
    ]);
    expect(install[2]).toMatchObject({ on: 'node', resolvedAtRunTime: true });
    expect(lines(stepsOf(p, 'worker-1'), 'repo-switch')[0]).toContain('-- /etc/yum.repos.d/kubernetes.repo');
  });

  it("the drain step shows the drain inputs, and an operator's cordon is kept", () => {
    const state = cluster({ workers: 2 });
    state.nodes.find((n) => n.name === 'worker-2')!.unschedulable = true;
    const p = plan(state, { 'delete-emptydir-data': 'false', 'drain-pod-selector': 'app!=db' });
    expect(lines(stepsOf(p, 'worker-1'), 'drain')[0]).toMatch(
      /only pods matching app!=db.*emptyDir are refused \(delete-emptydir-data: false\)/,
    );
    expect(lines(stepsOf(p, 'worker-1'), 'uncordon')).toEqual(['uncordon the node']);
    expect(lines(stepsOf(p, 'worker-2'), 'uncordon')[0]).toMatch(/^leave the node cordoned/);
  });

  it('estimate: batches in sequence, nodes of a batch in parallel', () => {
    const one = plan(cluster({ workers: 4 }), { 'max-unavailable': '1' }).estimate;
    const four = plan(cluster({ workers: 4 }), { 'max-unavailable': '4' }).estimate;
    expect(one.controlPlaneMinutes).toBe(four.controlPlaneMinutes);
    expect(one.workerMinutes).toBeCloseTo(4 * four.workerMinutes);
  });
});

describe('one pod policy: the plan blocks exactly what the drain would refuse', () => {
  const withBarePod = () => {
    const state = cluster({ workers: 2, podsPerWorker: 1 });
    state.pods.push(pod('bare', 'worker-1', { controllerKind: undefined, labels: { app: 'db' } }));
    return state;
  };

  it('a bare pod blocks; force-drain-unmanaged: true or a drain-pod-selector that leaves it out lets the upgrade go on', () => {
    expect(plan(withBarePod()).blockers.map((b) => b.id)).toEqual(['unmanaged-pods']);
    expect(plan(withBarePod(), { 'force-drain-unmanaged': 'true' }).verdict).toBe('ready');
    expect(plan(withBarePod(), { 'drain-pod-selector': 'app!=db' }).verdict).toBe('ready');
  });

  it('delete-emptydir-data: false blocks the plan before any node is touched, naming the input', () => {
    const state = cluster({ workers: 2, podsPerWorker: 1 });
    state.pods.push(pod('cache-1', 'worker-2', { emptyDir: true }));
    expect(plan(state).verdict).toBe('ready');
    const refused = plan(state, { 'delete-emptydir-data': 'false' });
    expect(refused.blockers).toEqual([
      expect.objectContaining({ id: 'emptydir-pods', message: expect.stringMatching(/default\/cache-1.*set delete-emptydir-data: true/) }),
    ]);
  });

  it('a pod whose DaemonSet is gone blocks unless force-drain-unmanaged, as kubectl drain refuses it', () => {
    const state = cluster({ workers: 2, podsPerWorker: 1 });
    state.pods.push(pod('agent-x', 'worker-1', { controllerKind: 'DaemonSet', controllerName: 'old-agent' }));
    state.daemonSets = ['default/agent'];
    expect(plan(state).blockers).toEqual([
      expect.objectContaining({ id: 'orphaned-daemonset-pods', message: expect.stringMatching(/DaemonSet no longer exists/) }),
    ]);
    expect(plan(state, { 'force-drain-unmanaged': 'true' }).verdict).toBe('ready');
  });

  it('a drain-pod-selector that is not a selector is an input error naming the input', () => {
    expect(() => plan(cluster(), { 'drain-pod-selector': 'app in (web' })).toThrow(/drain-pod-selector/);
  });
});

describe('small clusters', () => {
  const full = (state: ClusterState) => {
    for (const n of state.nodes) n.allocatable = { cpuMilli: 1000, memoryBytes: 1024 ** 3, pods: 110 };
    return state;
  };

  it('a single-node cluster: its pods wait Pending through its own upgrade, by default, and the plan says so', () => {
    const state = full(cluster({ controlPlanes: 1, workers: 0 }));
    state.pods.push(pod('coredns-1', 'cp-1'), pod('coredns-2', 'cp-1'));
    const p = plan(state);
    expect(p.verdict).toBe('ready');
    expect(p.preflight.find((v) => v.id === 'pending-pods')).toMatchObject({
      severity: 'warning',
      message: expect.stringMatching(/single-node cluster has nowhere else.*control plane cp-1: 2 pod\(s\) for about \d+ min/),
    });
  });

  it('1 control plane + 1 worker: blocked, naming allow-pending-pods; with it, ready and the pending pods are named', () => {
    const state = full(cluster({ controlPlanes: 1, workers: 1, podsPerWorker: 3 }));
    state.nodes.find((n) => n.name === 'cp-1')!.taints = [{ key: 'node-role.kubernetes.io/control-plane', effect: 'NoSchedule' }];
    const blocked = plan(state);
    expect(blocked.blockers).toEqual([
      expect.objectContaining({ id: 'capacity', message: expect.stringMatching(/set allow-pending-pods: true/) }),
    ]);
    const allowed = plan(state, { 'allow-pending-pods': 'true' });
    expect(allowed.verdict).toBe('ready');
    expect(allowed.preflight.find((v) => v.id === 'pending-pods')!.message).toMatch(/allow-pending-pods: true.*worker batch 0: 3 pod\(s\)/);
  });

  it('a PodDisruptionBudget that allows nothing still blocks a small cluster', () => {
    const state = full(cluster({ controlPlanes: 1, workers: 0 }));
    state.pods.push(pod('db-0', 'cp-1', { labels: { app: 'db' } }));
    state.budgets = [
      {
        namespace: 'default',
        name: 'db',
        selector: { matchLabels: { app: 'db' } },
        disruptionsAllowed: 0,
        currentHealthy: 1,
        desiredHealthy: 1,
        expectedPods: 1,
      },
    ];
    expect(plan(state).blockers.map((b) => b.id)).toEqual(['pdb-blocks']);
  });
});
