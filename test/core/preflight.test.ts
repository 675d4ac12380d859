import { describe, expect, it } from 'vitest';
import type { ClusterState } from '../../src/core/cluster-state.ts';
import { preflightVerdicts } from '../../src/core/preflight.ts';
import { resolveTarget } from '../../src/core/target.ts';
import { parseTargetSpec, type TargetSpec } from '../../src/core/versions.ts';
import { cluster, inventoryOf } from './fixtures.ts';

function checks(state: ClusterState) {
  const inv = inventoryOf(state);
  const list = preflightVerdicts(state, inv, resolveTarget(parseTargetSpec('1.31') as TargetSpec, state, inv));
  return Object.fromEntries(list.map((v) => [v.id, v]));
}

describe('preflight', () => {
  it('passes on a healthy cluster', () => {
    const all = checks(cluster({ controlPlanes: 3 }));
    expect(Object.values(all).map((v) => [v.id, v.severity])).toEqual([
      ['api-reachable', 'ok'],
      ['readyz', 'ok'],
      ['nodes-ready', 'ok'],
      ['control-plane-healthy', 'ok'],
      ['nodes-reachable', 'ok'],
      ['swap-off', 'ok'],
      ['root-access', 'ok'],
      ['packages-published', 'ok'],
      ['disk-room', 'ok'],
    ]);
  });

  it.each<[string, (s: ClusterState) => void, string, RegExp]>([
    [
      'api-reachable',
      (s) => Object.assign(s, { apiReachable: false, apiError: 'connect ECONNREFUSED 10.0.0.1:6443' }),
      'mandatory',
      /not reachable.*ECONNREFUSED/,
    ],
    ['readyz', (s) => (s.readyz = false), 'mandatory', /readyz/],
    ['nodes-ready', (s) => (s.nodes[1]!.ready = false), 'mandatory', /1 node\(s\) not Ready: worker-1/],
    ['control-plane-healthy', (s) => (s.controlPlanePods.find((p) => p.component === 'etcd')!.ready = false), 'mandatory', /cp-1: etcd/],
    [
      'control-plane-healthy',
      (s) => (s.controlPlanePods = s.controlPlanePods.filter((p) => p.component !== 'kube-scheduler')),
      'mandatory',
      /kube-scheduler/,
    ],
    ['swap-off', (s) => (s.nodeReports[2]!.swapOn = true), 'mandatory', /swap is on on worker-2/],
    [
      'root-access',
      (s) => (s.nodeReports[1]!.login = { user: 'ops', root: false, sudoRefused: 'sudo: a password is required' }),
      'mandatory',
      /1 node\(s\) where the login user cannot run commands as root with `sudo -n`.*worker-1: ops \(sudo: a password is required\)\. Fix: give ops passwordless sudo.*\/etc\/sudoers\.d\/ops.*"ops ALL=\(ALL:ALL\) NOPASSWD: ALL".*"Defaults:ops !requiretty".*or log in as root/,
    ],
    [
      'nodes-reachable',
      (s) => Object.assign(s.nodeReports[1]!, { reachable: false, error: 'connection refused' }),
      'mandatory',
      /worker-1: connection refused/,
    ],
    [
      'packages-published',
      (s) => {
        for (const r of s.nodeReports) r.publishedInTargetMinor = ['1.31.0'];
        s.nodeReports[0]!.publishedInTargetMinor = [];
      },
      'mandatory',
      /no 1\.31 patch is published for every node/,
    ],
    ['disk-room', (s) => (s.nodeReports[0]!.freeBytes.etcd = 200 * 1024 ** 2), 'mandatory', /cp-1 \/var\/lib\/etcd 0\.2 GiB/],
    ['disk-room', (s) => (s.nodeReports[1]!.freeBytes = {}), 'warning', /unknown on worker-1/],
  ])('%s fails as it should', (id, breakIt, severity, message) => {
    const state = cluster();
    breakIt(state);
    expect(checks(state)[id]).toMatchObject({ severity, message: expect.stringMatching(message) });
  });

  it('external etcd: no etcd pod needed', () => {
    const state = cluster();
    state.kubeadmConfig = { kubernetesVersion: 'v1.30.5', etcdLocal: false };
    state.controlPlanePods = state.controlPlanePods.filter((p) => p.component !== 'etcd');
    expect(checks(state)['control-plane-healthy']!.severity).toBe('ok');
  });
});
