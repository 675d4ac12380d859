import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { makeCluster, type SimFixture } from './fixture.ts';
import { snapshot } from './snapshot.ts';

let fx: SimFixture;
const LIST = 'etc/apt/sources.list.d/kubernetes.list';

beforeEach(async () => {
  fx = await makeCluster({ nodes: [{ name: 'w1' }, { name: 'r1', os: 'rhel' }] });
});
afterEach(async () => fx.cleanup());

function switchRepo(minor: string): void {
  writeFileSync(
    join(fx.root('w1'), LIST),
    `deb [signed-by=/etc/apt/keyrings/kubernetes-apt-keyring.gpg] https://pkgs.k8s.io/core:/stable:/v${minor}/deb/ /\n`,
  );
}

describe('apt-cache', () => {
  it('madison lists only the fetched minor, newest first, in apt format', async () => {
    const r = await fx.run('w1', 'apt-cache', ['madison', 'kubeadm']);
    expect(r.code).toBe(0);
    expect(r.out).toBe(
      [
        '   kubeadm | 1.30.6-1.1 | https://pkgs.k8s.io/core:/stable:/v1.30/deb  Packages',
        '   kubeadm | 1.30.5-1.1 | https://pkgs.k8s.io/core:/stable:/v1.30/deb  Packages',
        '   kubeadm | 1.30.0-1.1 | https://pkgs.k8s.io/core:/stable:/v1.30/deb  Packages',
        '',
      ].join('\n'),
    );
  });

  it('policy shows the installed version and the candidate', async () => {
    const r = await fx.run('w1', 'apt-cache', ['policy', 'kubelet']);
    expect(r.out).toContain('kubelet:\n  Installed: 1.30.5-1.1\n  Candidate: 1.30.6-1.1\n');
    expect(r.out).toContain(' *** 1.30.5-1.1 500');
  });
});

describe('apt-get install', () => {
  it('refuses another minor until the repository file is switched and apt-get update ran', async () => {
    const args = ['install', '-y', '--allow-change-held-packages', 'kubeadm=1.31.2-1.1'];
    let r = await fx.run('w1', 'apt-get', args);
    expect(r.code).toBe(100);
    expect(r.err).toBe("E: Version '1.31.2-1.1' for 'kubeadm' was not found\n");

    switchRepo('1.31');
    r = await fx.run('w1', 'apt-get', args);
    expect(r.code).toBe(100); // the lists are still the old minor's
    expect(fx.state('w1').packages.kubeadm).toBe('1.30.5');

    r = await fx.run('w1', 'apt-get', ['update']);
    expect(r.code).toBe(0);
    expect(r.out).toContain('Get:1 https://pkgs.k8s.io/core:/stable:/v1.31/deb  InRelease');
    r = await fx.run('w1', 'apt-get', args);
    expect(r.code).toBe(0);
    expect(r.out).toContain('The following held packages will be changed:\n  kubeadm\n');
    expect(r.out).toContain('Unpacking kubeadm (1.31.2-1.1) over (1.30.5-1.1) ...');
    expect(fx.state('w1').packages).toEqual({ kubeadm: '1.31.2', kubelet: '1.30.5', kubectl: '1.30.5' });
    expect(fx.state('w1').holds).toContain('kubeadm');
  });

  it('apt-get update drops the previous minor from the lists and answers Hit when nothing changed', async () => {
    switchRepo('1.31');
    await fx.run('w1', 'apt-get', ['update']);
    const madison = await fx.run('w1', 'apt-cache', ['madison', 'kubelet']);
    expect(madison.out).not.toContain('v1.30');
    expect(madison.out.split('\n')[0]).toBe('   kubelet | 1.31.2-1.1 | https://pkgs.k8s.io/core:/stable:/v1.31/deb  Packages');
    const again = await fx.run('w1', 'apt-get', ['update']);
    expect(again.out).toBe('Hit:1 https://pkgs.k8s.io/core:/stable:/v1.31/deb  InRelease\nReading package lists...\n');
  });

  it('refuses a held package without --allow-change-held-packages', async () => {
    const r = await fx.run('w1', 'apt-get', ['install', '-y', 'kubelet=1.30.6-1.1']);
    expect(r.code).toBe(100);
    expect(r.err).toBe('E: Held packages were changed and -y was used without --allow-change-held-packages.\n');
    expect(fx.state('w1').packages.kubelet).toBe('1.30.5');
  });

  it('resolves a version glob and says which version it selected', async () => {
    await fx.run('w1', 'apt-mark', ['unhold', 'kubectl']);
    const r = await fx.run('w1', 'apt-get', ['install', '-y', 'kubectl=1.30.6-*']);
    expect(r.code).toBe(0);
    expect(r.out).toContain("Selected version '1.30.6-1.1' (isv:kubernetes:core:stable:v1.30:pkgs.k8s.io [amd64]) for 'kubectl'");
    expect(fx.state('w1').packages.kubectl).toBe('1.30.6');
  });

  it('needs --allow-downgrades to go back', async () => {
    const args = ['install', '-y', '--allow-change-held-packages', 'kubeadm=1.30.0-1.1'];
    const refused = await fx.run('w1', 'apt-get', args);
    expect(refused.code).toBe(100);
    expect(refused.err).toBe('E: Packages were downgraded and -y was used without --allow-downgrades.\n');
    const done = await fx.run('w1', 'apt-get', [...args, '--allow-downgrades']);
    expect(done.code).toBe(0);
    expect(fx.state('w1').packages.kubeadm).toBe('1.30.0');
  });

  it('reports an already installed version without changing anything', async () => {
    const r = await fx.run('w1', 'apt-get', ['install', '-y', 'kubeadm=1.30.5-1.1']);
    expect(r.code).toBe(0);
    expect(r.out).toContain('kubeadm is already the newest version (1.30.5-1.1).');
  });

  it('fails apt-get update for a minor pkgs.k8s.io does not publish', async () => {
    switchRepo('1.40');
    const r = await fx.run('w1', 'apt-get', ['update']);
    expect(r.code).toBe(100);
    expect(r.err).toContain("E: The repository 'https://pkgs.k8s.io/core:/stable:/v1.40/deb  InRelease' does not have a Release file.");
  });
});

describe('reading another minor without changing the node', () => {
  it('-o Dir::Etc::sourcelist / sourceparts=- / Dir::State::Lists leave the node byte-identical', async () => {
    const before = snapshot(fx.root('w1'), (p) => p.startsWith('tmp'));
    const stateBefore = fx.state('w1');
    mkdirSync(join(fx.root('w1'), 'tmp/probe/lists'), { recursive: true });
    writeFileSync(join(fx.root('w1'), 'tmp/probe/sources.list'), 'deb https://pkgs.k8s.io/core:/stable:/v1.31/deb/ /\n');
    const options = [
      '-o',
      'Dir::Etc::sourcelist=/tmp/probe/sources.list',
      '-o',
      'Dir::Etc::sourceparts=-',
      '-o',
      'Dir::State::Lists=/tmp/probe/lists',
    ];
    expect((await fx.run('w1', 'apt-get', ['-qq', ...options, 'update'])).code).toBe(0);
    const other = await fx.run('w1', 'apt-cache', [...options, 'madison', 'kubeadm']);
    expect(other.out.split('\n').filter(Boolean)).toEqual([
      '   kubeadm | 1.31.2-1.1 | https://pkgs.k8s.io/core:/stable:/v1.31/deb  Packages',
      '   kubeadm | 1.31.0-1.1 | https://pkgs.k8s.io/core:/stable:/v1.31/deb  Packages',
    ]);
    expect(snapshot(fx.root('w1'), (p) => p.startsWith('tmp'))).toEqual(before);
    expect(fx.state('w1')).toEqual(stateBefore);
    expect((await fx.run('w1', 'apt-cache', ['madison', 'kubeadm'])).out).toContain('v1.30/deb');
  });
});

describe('apt-mark and dpkg', () => {
  it('holds and unholds with apt-mark wording', async () => {
    expect((await fx.run('w1', 'apt-mark', ['unhold', 'kubeadm'])).out).toBe('Canceled hold on kubeadm.\n');
    expect((await fx.run('w1', 'apt-mark', ['unhold', 'kubeadm'])).out).toBe('kubeadm was already not on hold.\n');
    expect((await fx.run('w1', 'apt-mark', ['showhold'])).out).toBe('kubectl\nkubelet\n');
    expect((await fx.run('w1', 'apt-mark', ['hold', 'kubeadm', 'kubelet'])).out).toBe(
      'kubeadm set on hold.\nkubelet was already set on hold.\n',
    );
  });

  it('dpkg-query prints installed versions and fails for unknown packages', async () => {
    expect((await fx.run('w1', 'dpkg-query', ['-W', '-f=${Version}', 'kubeadm'])).out).toBe('1.30.5-1.1');
    expect((await fx.run('w1', 'dpkg-query', ['-W', 'kubelet'])).out).toBe('kubelet\t1.30.5-1.1\n');
    const missing = await fx.run('w1', 'dpkg-query', ['-W', 'containerd']);
    expect(missing.code).toBe(1);
    expect(missing.err).toBe('dpkg-query: no packages found matching containerd\n');
    expect((await fx.run('w1', 'dpkg', ['-l', 'kubeadm'])).out).toMatch(/^hi {2}kubeadm +1\.30\.5-1\.1 +amd64/m);
  });

  it('apt tools do not exist on a rhel node', async () => {
    const r = await fx.run('r1', 'apt-get', ['update']);
    expect(r.code).toBe(127);
  });
});
