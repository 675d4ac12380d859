// The simulated pkgs.k8s.io as the real tools see it: signatures that gpgv and rpm accept with the keys the
// install guide installs, the versions and dependencies pkgs.k8s.io uses, and executables that name their package.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureMinorRepo, ensureSigningKey, type MinorRepo, type SigningKey } from '../../../sim/pkgs/build.ts';
import { parseExecutable } from '../../../sim/pkgs/catalog.ts';

let cache: string;
let key: SigningKey;
let repo: MinorRepo;

const run = (file: string, args: string[]) => execFileSync(file, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });

beforeAll(async () => {
  cache = mkdtempSync(join(tmpdir(), 'sim-pkgs-'));
  key = await ensureSigningKey(cache);
  repo = await ensureMinorRepo(cache, key, '1.31', ['1.31.12', '1.31.13']);
}, 120_000);

afterAll(() => rmSync(cache, { recursive: true, force: true }));

describe('the apt repository of a minor', () => {
  it('has an InRelease and a Release.gpg that gpgv accepts with the keyring the install guide installs', () => {
    const deb = join(repo.dir, 'deb');
    expect(() => run('gpgv', ['--keyring', key.aptKeyring, join(deb, 'InRelease')])).not.toThrow();
    expect(() => run('gpgv', ['--keyring', key.aptKeyring, join(deb, 'Release.gpg'), join(deb, 'Release')])).not.toThrow();
    // a key that is not the release key does not verify it
    const stranger = mkdtempSync(join(tmpdir(), 'sim-gpg-'));
    try {
      run('gpg', ['--batch', '--homedir', stranger, '--passphrase', '', '--quick-gen-key', 'stranger', 'ed25519', 'sign', 'never']);
      const keyring = join(stranger, 'stranger.gpg');
      execFileSync('sh', ['-c', `gpg --batch --homedir "$1" --export > "$2"; gpgconf --homedir "$1" --kill all`, 'sh', stranger, keyring]);
      expect(() => run('gpgv', ['--keyring', keyring, join(deb, 'InRelease')])).toThrow();
    } finally {
      rmSync(stranger, { recursive: true, force: true });
    }
  });

  it('lists every published patch with its pkgs.k8s.io revision, and the dependencies pkgs.k8s.io declares', () => {
    const packages = readFileSync(join(repo.dir, 'deb', 'Packages'), 'utf8')
      .split('\n\n')
      .filter(Boolean);
    const entry = (name: string, version: string) =>
      packages.find((p) => p.includes(`Package: ${name}\n`) && p.includes(`Version: ${version}\n`));
    expect(entry('kubeadm', '1.31.13-1.1')).toMatch(/Depends: cri-tools \(>= 1\.30\.0\)/);
    expect(entry('kubelet', '1.31.12-1.1')).toMatch(/Depends: kubernetes-cni \(>= 1\.1\.1\)/);
    expect(entry('kubectl', '1.31.13-1.1')).toBeDefined();
    expect(entry('cri-tools', '1.31.0-1.1')).toBeDefined();
    expect(entry('kubernetes-cni', '1.4.0-1.1')).toBeDefined();
    expect(entry('kubeadm', '1.31.11-1.1')).toBeUndefined();
  });

  it("ships the kubelet's environment file as a conffile, and executables that name their package", () => {
    const deb = join(repo.dir, 'deb', 'kubelet_1.31.13-1.1_amd64.deb');
    expect(run('dpkg-deb', ['--info', deb, 'conffiles']).trim()).toBe('/etc/default/kubelet');
    const executable = run('dpkg-deb', ['--fsys-tarfile', deb]);
    expect(executable).toContain('# sim-package: kubelet 1.31.13');
    expect(parseExecutable('#!/bin/sh\n# sim-package: kubelet 1.31.13\nexec x\n')).toEqual({ name: 'kubelet', version: '1.31.13' });
  });
});

describe('pre-releases', () => {
  it('are published as pkgs.k8s.io spells them (1.32.0~rc.1), sorting before their release in dpkg and rpm', async () => {
    const next = await ensureMinorRepo(cache, key, '1.32', ['1.32.0-rc.1', '1.32.0']);
    const packages = readFileSync(join(next.dir, 'deb', 'Packages'), 'utf8');
    const stanzas = packages.split('\n\n');
    expect(stanzas.some((p) => p.includes('Package: kubeadm\n') && p.includes('Version: 1.32.0~rc.1-1.1\n'))).toBe(true);
    expect(() => run('dpkg', ['--compare-versions', '1.32.0~rc.1-1.1', 'lt', '1.32.0-1.1'])).not.toThrow();
    const rpm = join(next.dir, 'rpm', 'kubeadm-1.32.0~rc.1-150500.1.1.x86_64.rpm');
    expect(run('rpm', ['-qp', '--qf', '%{VERSION}-%{RELEASE}', rpm])).toBe('1.32.0~rc.1-150500.1.1');
    // the executable says the version as Kubernetes tags it
    expect(run('dpkg-deb', ['--fsys-tarfile', join(next.dir, 'deb', 'kubeadm_1.32.0~rc.1-1.1_amd64.deb')])).toContain(
      '# sim-package: kubeadm 1.32.0-rc.1',
    );
  }, 60_000);
});

describe('the dnf repository of a minor', () => {
  it('has a repomd.xml signed by the key served beside it, and signed packages', () => {
    const rpm = join(repo.dir, 'rpm');
    const home = mkdtempSync(join(tmpdir(), 'sim-gpg-'));
    try {
      run('gpg', ['--batch', '--homedir', home, '--import', join(rpm, 'repodata', 'repomd.xml.key')]);
      expect(() =>
        run('gpg', [
          '--batch',
          '--homedir',
          home,
          '--verify',
          join(rpm, 'repodata', 'repomd.xml.asc'),
          join(rpm, 'repodata', 'repomd.xml'),
        ]),
      ).not.toThrow();
      const db = join(home, 'rpmdb');
      run('rpm', ['--dbpath', db, '--initdb']);
      run('rpm', ['--dbpath', db, '--import', join(rpm, 'repodata', 'repomd.xml.key')]);
      const files = readdirSync(rpm).filter((f) => f.endsWith('.rpm'));
      expect(files.sort()).toEqual([
        'cri-tools-1.31.0-150500.1.1.x86_64.rpm',
        'kubeadm-1.31.12-150500.1.1.x86_64.rpm',
        'kubeadm-1.31.13-150500.1.1.x86_64.rpm',
        'kubectl-1.31.12-150500.1.1.x86_64.rpm',
        'kubectl-1.31.13-150500.1.1.x86_64.rpm',
        'kubelet-1.31.12-150500.1.1.x86_64.rpm',
        'kubelet-1.31.13-150500.1.1.x86_64.rpm',
        'kubernetes-cni-1.4.0-150500.1.1.x86_64.rpm',
      ]);
      for (const file of files) expect(run('rpm', ['--dbpath', db, '-K', join(rpm, file)]), file).toMatch(/signatures OK/);
      expect(run('rpm', ['-qp', '--requires', join(rpm, 'kubeadm-1.31.13-150500.1.1.x86_64.rpm')])).toContain('cri-tools >= 1.30.0');
      expect(run('rpm', ['-qp', '--configfiles', join(rpm, 'kubelet-1.31.13-150500.1.1.x86_64.rpm')]).trim()).toBe(
        '/etc/sysconfig/kubelet',
      );
    } finally {
      execFileSync('gpgconf', ['--homedir', home, '--kill', 'all']);
      rmSync(home, { recursive: true, force: true });
    }
  });
});
