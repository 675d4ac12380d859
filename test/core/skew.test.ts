import { describe, expect, it } from 'vitest';
import type { ClusterState } from '../../src/core/cluster-state.ts';
import { kubeadmKubeletSkew, skewVerdicts } from '../../src/core/skew.ts';
import { currentControlPlaneVersion } from '../../src/core/target.ts';
import { parseVersion } from '../../src/core/versions.ts';
import { cluster } from './fixtures.ts';

function verdicts(state: ClusterState, target: string, opts: { force?: boolean; multiHop?: boolean } = {}) {
  return skewVerdicts({
    state,
    current: currentControlPlaneVersion(state),
    target: parseVersion(target)!,
    multiHop: opts.multiHop ?? false,
    force: opts.force ?? false,
  });
}
const find = (list: ReturnType<typeof verdicts>, id: string) => list.filter((v) => v.id === id && v.severity !== 'ok');

describe('kubeadm policy (policy.go)', () => {
  it.each([
    ['1.30.5', '1.31.4', 'skip-minor', 'ok'],
    ['1.29.9', '1.31.4', 'skip-minor', 'mandatory'],
    ['1.29.9', '1.31.0-rc.1', 'skip-minor', 'forceable'],
    ['1.31.4', '1.29.0', 'downgrade-more-than-one-minor', 'mandatory'],
    ['1.31.4', '1.29.0-rc.1', 'downgrade-more-than-one-minor', 'forceable'],
    ['1.31.4', '1.30.9', 'downgrade', 'mandatory'],
    ['1.31.4', '1.31.2', 'downgrade', 'mandatory'],
    ['1.23.4', '1.23.5', 'target-below-minimum', 'mandatory'],
    ['1.31.4', '1.32.0-rc.1', 'pre-release', 'forceable'],
  ])('cluster %s → %s: %s is %s', (from, to, id, severity) => {
    const list = verdicts(cluster({ version: from }), to);
    expect(list.find((v) => v.id === id)?.severity).toBe(severity);
  });

  it('a multi-minor request reports skipping as a warning: the hops carry the blocker', () => {
    expect(find(verdicts(cluster({ version: '1.29.9' }), '1.31.4', { multiHop: true }), 'skip-minor')[0]?.severity).toBe('warning');
  });

  it('cannot read the cluster version: mandatory', () => {
    const state = cluster();
    state.controlPlanePods = [];
    state.serverVersion = '';
    expect(find(verdicts(state, '1.31.4'), 'cluster-version-unreadable')[0]?.severity).toBe('mandatory');
  });

  it('kubelet skew is 1 minor before 1.29 and 3 since', () => {
    expect([kubeadmKubeletSkew(28), kubeadmKubeletSkew(29)]).toEqual([1, 3]);
    const old = cluster({ version: '1.31.4', workerVersion: '1.27.9' });
    const tooOld = find(verdicts(old, '1.31.5'), 'kubelet-too-old')[0]!;
    expect(tooOld).toMatchObject({ severity: 'forceable', nodes: ['worker-1', 'worker-2'], nodeCount: 2 });
    expect(find(verdicts(cluster({ version: '1.31.4', workerVersion: '1.28.9' }), '1.31.5'), 'kubelet-too-old')).toEqual([]);
    expect(find(verdicts(cluster({ version: '1.28.4', workerVersion: '1.26.9' }), '1.28.5'), 'kubelet-too-old')).toHaveLength(1);
  });

  it('force accepts forceable verdicts and never mandatory ones', () => {
    const state = cluster({ version: '1.31.4', workerVersion: '1.27.9' });
    expect(find(verdicts(state, '1.31.5', { force: true }), 'kubelet-too-old')[0]!.forced).toBe(true);
    expect(find(verdicts(state, '1.31.5'), 'kubelet-too-old')[0]!.forced).toBeUndefined();
    expect(find(verdicts(cluster({ version: '1.29.9' }), '1.31.4', { force: true }), 'skip-minor')[0]).toMatchObject({
      severity: 'mandatory',
    });
    expect(find(verdicts(cluster({ version: '1.29.9' }), '1.31.4', { force: true }), 'skip-minor')[0]!.forced).toBeUndefined();
  });

  it('unreadable kubelet versions are forceable', () => {
    const state = cluster();
    state.nodes[1]!.kubeletVersion = '';
    expect(find(verdicts(state, '1.31.4'), 'kubelet-version-unreadable')[0]).toMatchObject({ severity: 'forceable', nodes: ['worker-1'] });
  });

  it('the installed kubeadm never blocks: the run installs the target kubeadm first', () => {
    const state = cluster();
    const ok = verdicts(state, '1.31.4').find((v) => v.id === 'kubeadm-version')!;
    expect(ok).toMatchObject({
      severity: 'ok',
      message: expect.stringMatching(/installs kubeadm 1\.31\.4 before.*installed now: 1\.30\.5/),
    });
    state.nodeReports[0]!.kubeadmVersion = '1.32.1';
    expect(find(verdicts(state, '1.31.4'), 'kubeadm-newer-than-target')[0]).toMatchObject({ severity: 'warning', nodes: ['cp-1'] });
  });
});

describe('upstream version-skew policy', () => {
  it('a kubelet newer than the target apiserver is mandatory', () => {
    const state = cluster({ version: '1.30.5', workerVersion: '1.32.0' });
    expect(find(verdicts(state, '1.31.4'), 'upstream-kubelet-newer')[0]).toMatchObject({
      severity: 'mandatory',
      nodes: ['worker-1', 'worker-2'],
    });
  });

  it('kubelets at the oldest supported minor get a warning', () => {
    const state = cluster({ version: '1.31.4', workerVersion: '1.28.9' });
    expect(find(verdicts(state, '1.31.5'), 'upstream-kubelet-lag')[0]).toMatchObject({ severity: 'warning', nodeCount: 2 });
  });

  it('HA apiservers more than one minor apart are mandatory; one apart is a warning', () => {
    const state = cluster({ controlPlanes: 3, version: '1.30.5' });
    const api = (node: string) => state.controlPlanePods.find((p) => p.node === node && p.component === 'kube-apiserver')!;
    api('cp-1').version = '1.31.4';
    expect(find(verdicts(state, '1.31.4'), 'upstream-apiserver-ha')[0]?.severity).toBe('warning');
    api('cp-1').version = '1.32.1';
    expect(find(verdicts(state, '1.31.4'), 'upstream-apiserver-ha')[0]?.severity).toBe('mandatory');
  });

  it('controller-manager or scheduler more than one minor behind or ahead is mandatory', () => {
    const state = cluster({ version: '1.30.5' });
    state.controlPlanePods.find((p) => p.component === 'kube-scheduler')!.version = '1.29.3';
    expect(find(verdicts(state, '1.31.4'), 'upstream-kube-scheduler')[0]).toMatchObject({ severity: 'mandatory', nodes: ['cp-1'] });
    state.controlPlanePods.find((p) => p.component === 'kube-controller-manager')!.version = '1.32.0';
    expect(find(verdicts(state, '1.31.4'), 'upstream-kube-controller-manager')[0]?.message).toMatch(/newer than the target/);
  });

  it('kubectl more than one minor away is a warning', () => {
    const state = cluster();
    state.nodeReports[1]!.kubectlVersion = '1.28.0';
    expect(find(verdicts(state, '1.31.4'), 'upstream-kubectl')[0]).toMatchObject({ severity: 'warning', nodes: ['worker-1'] });
  });

  it('kube-proxy newer than the target is mandatory', () => {
    const state = cluster();
    state.addons.kubeProxyImage = 'registry.k8s.io/kube-proxy:v1.32.0';
    expect(find(verdicts(state, '1.31.4'), 'upstream-kube-proxy')[0]?.severity).toBe('mandatory');
  });
});
