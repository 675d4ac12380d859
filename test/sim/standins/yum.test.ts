import { describe, expect, it, beforeEach, afterEach } from 'vitest';
import { makeCluster, type SimFixture } from './fixture.ts';
import { snapshot } from './snapshot.ts';

let fx: SimFixture;
beforeEach(async () => {
  fx = await makeCluster({ nodes: [{ name: 'r1', os: 'rhel' }, { name: 'w1' }] });
  await fx.run('r1', 'yum', ['versionlock', 'clear']);
});
afterEach(async () => fx.cleanup());

describe.each(['yum', 'dnf'])('%s', (tool) => {
  it('does not see excluded packages without --disableexcludes=kubernetes', async () => {
    const r = await fx.run('r1', tool, ['install', '-y', 'kubeadm-1.30.6-150500.1.1']);
    expect(r.code).toBe(1);
    expect(r.err).toBe(
      'All matches were filtered out by exclude filtering for argument: kubeadm-1.30.6-150500.1.1\n' +
        'Error: Unable to find a match: kubeadm-1.30.6-150500.1.1\n',
    );
    expect(fx.state('r1').packages.kubeadm).toBe('1.30.5');
  });

  it('installs an exact or globbed version of the configured minor with --disableexcludes=kubernetes', async () => {
    const exact = await fx.run('r1', tool, ['install', '-y', 'kubeadm-1.30.6-150500.1.1', '--disableexcludes=kubernetes']);
    expect(exact.code).toBe(0);
    expect(exact.out).toContain('Upgraded:\n  kubeadm-1.30.6-150500.1.1.x86_64\n\nComplete!');
    const glob = await fx.run('r1', tool, ['install', '-y', "kubelet-'1.30.6-*'", "kubectl-'1.30.6-*'", '--disableexcludes=kubernetes']);
    expect(glob.code).toBe(0);
    expect(fx.state('r1').packages).toEqual({ kubeadm: '1.30.6', kubelet: '1.30.6', kubectl: '1.30.6' });
  });

  it('has no package of another minor until the repo file names it', async () => {
    const r = await fx.run('r1', tool, ['install', '-y', 'kubeadm-1.31.2-150500.1.1', '--disableexcludes=kubernetes']);
    expect(r.code).toBe(1);
    expect(r.err).toContain('No match for argument: kubeadm-1.31.2-150500.1.1\nError: Unable to find a match: kubeadm-1.31.2-150500.1.1');
  });
});

describe('yum list and temporary repositories', () => {
  it('lists installed and available duplicates of the configured minor', async () => {
    const r = await fx.run('r1', 'yum', ['list', '--showduplicates', 'kubeadm', '--disableexcludes=kubernetes']);
    expect(r.code).toBe(0);
    const lines = r.out.split('\n');
    expect(lines).toContain('Installed Packages');
    expect(lines.filter((l) => l.startsWith('kubeadm.x86_64')).map((l) => l.split(/\s+/).slice(1).join(' '))).toEqual([
      '1.30.5-150500.1.1 @kubernetes',
      '1.30.0-150500.1.1 kubernetes',
      '1.30.5-150500.1.1 kubernetes',
      '1.30.6-150500.1.1 kubernetes',
    ]);
  });

  it('--repofrompath with --repo reads another minor and leaves the node byte-identical', async () => {
    const before = snapshot(fx.root('r1'));
    const state = fx.state('r1');
    const r = await fx.run('r1', 'dnf', [
      'list',
      '--showduplicates',
      'kubeadm',
      '--repofrompath=k8s-next,https://pkgs.k8s.io/core:/stable:/v1.31/rpm/',
      '--repo',
      'k8s-next',
    ]);
    expect(r.out).toContain('Added k8s-next repo from https://pkgs.k8s.io/core:/stable:/v1.31/rpm/');
    expect(
      r.out
        .split('\n')
        .filter((l) => l.endsWith(' k8s-next'))
        .map((l) => l.split(/\s+/)[1]),
    ).toEqual(['1.31.0-150500.1.1', '1.31.2-150500.1.1']);
    const other = await fx.run('r1', 'yum', [
      'list',
      '--showduplicates',
      'kubeadm',
      '--disablerepo=*',
      '--enablerepo=k8s-next',
      '--repofrompath=k8s-next,https://pkgs.k8s.io/core:/stable:/v1.31/rpm/',
    ]);
    expect(other.out).toContain('1.31.2-150500.1.1');
    expect(other.out).not.toMatch(/1\.30\.6-150500\.1\.1/);
    expect(snapshot(fx.root('r1'))).toEqual(before);
    expect(fx.state('r1')).toEqual(state);
  });
});

describe('versionlock and rpm', () => {
  it('a versionlock pins the installed version until it is deleted', async () => {
    expect((await fx.run('r1', 'yum', ['versionlock', 'add', 'kubeadm'])).out).toBe(
      'Adding versionlock on: kubeadm-0:1.30.5-150500.1.1.*\n',
    );
    expect((await fx.run('r1', 'yum', ['versionlock', 'list'])).out).toBe('kubeadm-0:1.30.5-150500.1.1.*\n');
    const locked = await fx.run('r1', 'yum', ['install', '-y', 'kubeadm-1.30.6-150500.1.1', '--disableexcludes=kubernetes']);
    expect(locked.code).toBe(1);
    expect(locked.err).toContain('Error: Unable to find a match: kubeadm-1.30.6-150500.1.1');
    expect((await fx.run('r1', 'yum', ['versionlock', 'delete', 'kubeadm'])).out).toBe(
      'Deleting versionlock for: kubeadm-0:1.30.5-150500.1.1.*\n',
    );
    expect((await fx.run('r1', 'yum', ['install', '-y', 'kubeadm-1.30.6-150500.1.1', '--disableexcludes=kubernetes'])).code).toBe(0);
  });

  it('a lock names the version it was added at: installing past it with the plugin off, or adding again, does not move it', async () => {
    await fx.run('r1', 'dnf', ['versionlock', 'add', 'kubeadm']);
    const past = await fx.run('r1', 'dnf', [
      'install',
      '-y',
      'kubeadm-1.30.6-150500.1.1',
      '--disableexcludes=kubernetes',
      '--disableplugin=versionlock',
    ]);
    expect(past.code).toBe(0);
    expect(fx.state('r1').packages.kubeadm).toBe('1.30.6');
    expect((await fx.run('r1', 'dnf', ['versionlock', 'add', 'kubeadm'])).out).toBe(
      'Package already locked in equivalent form: kubeadm-0:1.30.5-150500.1.1.*\n',
    );
    expect((await fx.run('r1', 'dnf', ['versionlock', 'list'])).out).toBe('kubeadm-0:1.30.5-150500.1.1.*\n');
    // the locked version is the one the repository still shows
    const listed = await fx.run('r1', 'dnf', ['list', '--showduplicates', '--disableexcludes=kubernetes', 'kubeadm']);
    expect(
      listed.out
        .split('\n')
        .filter((l) => l.endsWith(' kubernetes'))
        .map((l) => l.split(/\s+/)[1]),
    ).toEqual(['1.30.5-150500.1.1']);
  });

  it('downgrade needs the lock deleted first, takes an older version, and refuses one that is not older', async () => {
    await fx.run('r1', 'dnf', ['install', '-y', 'kubeadm-1.30.6-150500.1.1', '--disableexcludes=kubernetes']);
    await fx.run('r1', 'dnf', ['versionlock', 'add', 'kubeadm']);
    const locked = await fx.run('r1', 'dnf', ['downgrade', '-y', 'kubeadm-1.30.5-150500.1.1', '--disableexcludes=kubernetes']);
    expect(locked).toMatchObject({
      code: 1,
      err: expect.stringContaining('All matches were filtered out by exclude filtering for argument: kubeadm-1.30.5-150500.1.1'),
    });
    await fx.run('r1', 'dnf', ['versionlock', 'delete', 'kubeadm']);
    const down = await fx.run('r1', 'dnf', ['downgrade', '-y', 'kubeadm-1.30.5-150500.1.1', '--disableexcludes=kubernetes']);
    expect(down.code).toBe(0);
    expect(down.out).toContain('Downgraded:\n  kubeadm-1.30.5-150500.1.1.x86_64\n');
    expect(fx.state('r1').packages.kubeadm).toBe('1.30.5');
    const same = await fx.run('r1', 'dnf', ['downgrade', '-y', 'kubeadm-1.30.5-150500.1.1', '--disableexcludes=kubernetes']);
    expect(same).toMatchObject({ code: 1, err: 'Error: No packages marked for downgrade.\n' });
    expect(same.out).toContain('Package kubeadm of lowest version already installed, cannot downgrade it.');
  });

  it('rpm -q prints the installed version with the query format', async () => {
    expect((await fx.run('r1', 'rpm', ['-q', 'kubeadm', '--qf', '%{VERSION}-%{RELEASE}'])).out).toBe('1.30.5-150500.1.1');
    expect((await fx.run('r1', 'rpm', ['-q', 'kubelet'])).out).toBe('kubelet-1.30.5-150500.1.1.x86_64\n');
    const missing = await fx.run('r1', 'rpm', ['-q', 'containerd']);
    expect(missing).toMatchObject({ code: 1, out: 'package containerd is not installed\n' });
  });

  it('yum does not exist on a debian node', async () => {
    expect((await fx.run('w1', 'yum', ['list'])).code).toBe(127);
  });
});
