import { describe, expect, it } from 'vitest';
import type { ClusterState } from '../../src/core/cluster-state.ts';
import { buildPlan } from '../../src/core/plan.ts';
import { cluster, inventoryOf, pod, settingsFrom } from './fixtures.ts';

const plan = (state: ClusterState, inputs: Record<string, string> = {}) => buildPlan(state, settingsFrom(inputs), inventoryOf(state));

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
    expect(p.procedures['apply/apt/same-minor']!.map((s) => s.id)).toEqual(['kubeadm-install', 'kubeadm-upgrade', 'drain', 'kubelet-install', 'kubelet-restart', 'wait-ready', 'uncordon']);
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
    expect(forced.procedures['apply/apt/same-minor']!.find((s) => s.id === 'kubeadm-upgrade')!.command).toBe('kubeadm upgrade apply v1.31.4 --yes --force');
  });

  it('forecast blockers: unmanaged pods and a PDB allowing nothing', () => {
    const state = cluster({ workers: 2, podsPerWorker: 1 });
    state.pods.push(pod('bare', 'worker-1', { controllerKind: undefined }));
    state.budgets = [{ namespace: 'default', name: 'all', selector: { matchLabels: { app: 'x' } }, disruptionsAllowed: 0, currentHealthy: 1, desiredHealthy: 1, expectedPods: 1 }];
    state.pods[0]!.labels = { app: 'x' };
    const p = plan(state);
    expect(p.blockers.map((b) => b.id)).toEqual(['unmanaged-pods', 'pdb-blocks']);
    expect(p.blockers[0]!.message).toMatch(/default\/bare/);
  });
});

describe('per-node steps', () => {
  it('apt: repository switch, exact revision when listed, kubeadm apply on the first control plane only', () => {
    const state = cluster({ controlPlanes: 2, published: ['1.31.4-1.1'] });
    const p = plan(state);
    expect(p.nodes.map((n) => [n.name, n.procedure])).toEqual([
      ['cp-1', 'apply/apt/minor-change'], ['cp-2', 'node/apt/minor-change'], ['worker-1', 'node/apt/minor-change'], ['worker-2', 'node/apt/minor-change'],
    ]);
    const steps = p.procedures['apply/apt/minor-change']!;
    expect(steps.map((s) => s.id)).toEqual(['repo-switch', 'kubeadm-install', 'kubeadm-upgrade', 'drain', 'kubelet-install', 'kubelet-restart', 'wait-ready', 'uncordon']);
    expect(steps[0]!.command).toContain('https://pkgs.k8s.io/core:/stable:/v1.31/deb/');
    expect(steps[1]!.command).toBe("apt-mark unhold kubeadm && apt-get update && apt-get install -y --allow-downgrades kubeadm='1.31.4-1.1' && apt-mark hold kubeadm");
    expect(p.procedures['node/apt/minor-change']!.find((s) => s.id === 'kubeadm-upgrade')!.command).toBe('kubeadm upgrade node');
  });

  it('yum/dnf: --disableexcludes and the rpm repository', () => {
    const p = plan(cluster({ packageManager: 'dnf' }));
    const steps = p.procedures['apply/dnf/minor-change']!;
    expect(steps[0]!.command).toContain('/etc/yum.repos.d/kubernetes.repo');
    expect(steps.find((s) => s.id === 'kubelet-install')!.command).toBe("dnf install -y kubelet-1.31.4-* kubectl-1.31.4-* --disableexcludes=kubernetes");
  });

  it('estimate: batches in sequence, nodes of a batch in parallel', () => {
    const one = plan(cluster({ workers: 4 }), { 'max-unavailable': '1' }).estimate;
    const four = plan(cluster({ workers: 4 }), { 'max-unavailable': '4' }).estimate;
    expect(one.controlPlaneMinutes).toBe(four.controlPlaneMinutes);
    expect(one.workerMinutes).toBeCloseTo(4 * four.workerMinutes);
  });
});
