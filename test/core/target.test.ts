import { describe, expect, it } from 'vitest';
import type { ClusterState } from '../../src/core/cluster-state.ts';
import { currentControlPlaneVersion, planHops, resolveTarget } from '../../src/core/target.ts';
import { parseTargetSpec, type TargetSpec } from '../../src/core/versions.ts';
import { cluster, inventoryOf } from './fixtures.ts';

const spec = (raw: string) => parseTargetSpec(raw) as TargetSpec;
const resolve = (raw: string, state: ClusterState) => resolveTarget(spec(raw), state, inventoryOf(state));

describe('resolveTarget', () => {
  it.each([
    ['1.31', '1.31.4', true],
    ['v1.31.2', '1.31.2', true],
    ['1.31.2', '1.31.2', true],
  ])('%s → %s', (raw, version, verified) => {
    expect(resolve(raw, cluster())).toMatchObject({ version, verified, newestPublished: '1.31.4' });
  });

  it('refuses an exact version that is not published, naming the nodes and the newest one', () => {
    const t = resolve('1.31.9', cluster());
    expect(t.version).toBeUndefined();
    expect(t.reason).toMatch(/1\.31\.9 is not published for cp-1, worker-1, worker-2 \(newest published for every node: 1\.31\.4\)/);
  });

  it('takes the newest patch published for every node OS (intersection)', () => {
    const state = cluster();
    state.nodeReports[2]!.publishedInTargetMinor = ['1.31.0', '1.31.1', '1.31.2'];
    expect(resolve('1.31', state)).toMatchObject({ version: '1.31.2', verified: true });
    expect(resolve('1.31.3', state).reason).toMatch(/not published for worker-2/);
  });

  it('skips pre-releases for "1.32" but accepts them when asked exactly', () => {
    const state = cluster({ version: '1.31.4', published: ['1.32.0-rc.1', '1.32.0-rc.2'] });
    expect(resolve('1.32', state).version).toBeUndefined();
    expect(resolve('1.32.0-rc.2', state)).toMatchObject({ version: '1.32.0-rc.2', verified: true });
  });

  it('uses the configured repository when it is already at the target minor', () => {
    const state = cluster({ version: '1.31.1' });
    for (const r of state.nodeReports) {
      delete r.publishedInTargetMinor;
      r.publishedInRepo = ['1.31.0', '1.31.1', '1.31.3'];
    }
    expect(resolve('1.31', state)).toMatchObject({ version: '1.31.3', verified: true });
  });

  it('without readable lists: blocks "1.31" asking for an exact version, uses an exact one unverified', () => {
    const state = cluster();
    for (const r of state.nodeReports) delete r.publishedInTargetMinor;
    const minorOnly = resolve('1.31', state);
    expect(minorOnly.version).toBeUndefined();
    expect(minorOnly.reason).toMatch(/give an exact version such as 1\.31\.0/);
    expect(resolve('1.31.4', state)).toMatchObject({
      version: '1.31.4',
      verified: false,
      reason: expect.stringMatching(/not verified as published/),
    });
  });

  it('marks nodes it could not read, and does not call the version verified', () => {
    const state = cluster();
    state.nodeReports[1]!.reachable = false;
    expect(resolve('1.31', state)).toMatchObject({ version: '1.31.4', verified: false, unreadable: { nodes: ['worker-1'], nodeCount: 1 } });
  });

  it('keeps the exact package revision when the repository lists it', () => {
    const state = cluster({ published: ['1.31.3-1.1', '1.31.4-1.1'] });
    expect(resolve('1.31', state)).toMatchObject({ version: '1.31.4', packageVersions: { apt: '1.31.4-1.1' } });
  });

  it("resolves the exact revision per package manager from what each node's repository lists", () => {
    const state = cluster({ workers: 3 });
    const pms = ['apt', 'apt', 'yum', 'dnf'] as const;
    state.nodeReports.forEach((r, i) => {
      r.packageManager = pms[i];
      const rev = r.packageManager === 'apt' ? '1.1' : '150500.1.1';
      r.publishedPackageVersions = Object.fromEntries(r.publishedInTargetMinor!.map((v) => [v, `${v}-${rev}`]));
    });
    expect(resolve('1.31', state).packageVersions).toEqual({ apt: '1.31.4-1.1', yum: '1.31.4-150500.1.1', dnf: '1.31.4-150500.1.1' });
    expect(resolve('1.31.2', state).packageVersions).toEqual({ apt: '1.31.2-1.1', yum: '1.31.2-150500.1.1', dnf: '1.31.2-150500.1.1' });
  });

  it('leaves a package manager out when its nodes disagree on the revision, so each node reads its own', () => {
    const state = cluster({ workers: 2 });
    for (const r of state.nodeReports) r.publishedPackageVersions = { '1.31.4': '1.31.4-1.1' };
    state.nodeReports[2]!.publishedPackageVersions = { '1.31.4': '1.31.4-1.2' };
    expect(resolve('1.31', state)).toMatchObject({ version: '1.31.4', verified: true, packageVersions: {} });
    delete state.nodeReports[2]!.publishedPackageVersions;
    expect(resolve('1.31', state).packageVersions).toEqual({});
  });
});

describe('planHops', () => {
  it('lists one hop per minor, with the newest known patch or "latest"', () => {
    const state = cluster({ version: '1.29.10' });
    const target = resolve('1.31', state);
    expect(planHops(currentControlPlaneVersion(state), spec('1.31'), target, state)).toEqual([
      { fromMinor: '1.29', to: '1.30.latest', resolved: false },
      { fromMinor: '1.30', to: '1.31.4', resolved: true },
    ]);
  });

  it('one hop for the next minor, none for a patch upgrade', () => {
    const state = cluster({ version: '1.30.5' });
    expect(planHops(currentControlPlaneVersion(state), spec('1.31'), resolve('1.31', state), state)).toHaveLength(1);
    const same = cluster({ version: '1.31.1' });
    expect(planHops(currentControlPlaneVersion(same), spec('1.31'), resolve('1.31', same), same)).toEqual([]);
  });

  it('the current version is the lowest kube-apiserver', () => {
    const state = cluster({ controlPlanes: 2, version: '1.31.4' });
    state.controlPlanePods.find((p) => p.node === 'cp-2' && p.component === 'kube-apiserver')!.version = '1.30.5';
    expect(currentControlPlaneVersion(state)?.text).toBe('1.30.5');
  });
});
