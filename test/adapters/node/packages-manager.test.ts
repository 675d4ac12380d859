// The package-manager seam: choosing a node's manager once (from the tools on PATH and the pkgs.k8s.io
// repository files), the detection script run by a real sh, and what apt and rpm nodes share.
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { parseFactSections } from '../../../src/adapters/node/probe-parse.ts';
import {
  DETECTION_SCRIPT,
  allRepoSearchPaths,
  choosePackageManager,
  detectionArgs,
  packageManagerNamed,
  parseDetection,
  parseRepoMinor,
  planRevision,
  repoMinorsIn,
  repoTextFor,
  switchRepoMinor,
  type RepoLine,
} from '../../../src/adapters/node/packages/manager.ts';

const APT_REPO: RepoLine = {
  path: '/etc/apt/sources.list.d/kubernetes.list',
  line: 'deb [signed-by=/etc/apt/keyrings/k.gpg] https://pkgs.k8s.io/core:/stable:/v1.30/deb/ /',
};
const YUM_REPO: RepoLine = { path: '/etc/yum.repos.d/kubernetes.repo', line: 'baseurl=https://pkgs.k8s.io/core:/stable:/v1.30/rpm/' };

describe("choosing a node's package manager", () => {
  it('takes the manager whose repository names pkgs.k8s.io, among those on PATH', () => {
    // EL 8/9: dnf and yum both exist (and a Debian-built apt-get may too): the configured repository decides
    expect(choosePackageManager(['apt-get', 'dnf', 'yum'], [YUM_REPO])?.name).toBe('dnf');
    expect(choosePackageManager(['yum'], [YUM_REPO])?.name).toBe('yum');
    expect(choosePackageManager(['apt-get', 'dnf'], [APT_REPO])?.name).toBe('apt');
    // a repository whose tool is missing does not count
    expect(choosePackageManager(['apt-get'], [YUM_REPO])?.name).toBe('apt');
  });

  it('falls back to the tools when no repository is configured, and to none without a tool', () => {
    expect(choosePackageManager(['dnf', 'yum'], [])?.name).toBe('dnf');
    expect(choosePackageManager(['apt-get', 'yum'], [])?.name).toBe('apt');
    expect(choosePackageManager([], [APT_REPO, YUM_REPO])).toBeUndefined();
    // a commented-out line configures nothing
    expect(
      choosePackageManager(['apt-get', 'yum'], [{ ...YUM_REPO, line: '#baseurl=https://pkgs.k8s.io/core:/stable:/v1.30/rpm/' }])?.name,
    ).toBe('apt');
  });

  it('keeps each manager to its own repository files', () => {
    const dnf = packageManagerNamed('dnf')!;
    expect(repoTextFor(dnf, [APT_REPO, YUM_REPO])).toBe(YUM_REPO.line);
    expect(repoTextFor(packageManagerNamed('apt')!, [APT_REPO, YUM_REPO, { path: '/etc/apt/sources.list', line: 'deb x' }])).toBe(
      `${APT_REPO.line}\ndeb x`,
    );
    expect(packageManagerNamed('zypper')).toBeUndefined();
    expect(allRepoSearchPaths()).toEqual(['/etc/apt/sources.list.d', '/etc/apt/sources.list', '/etc/yum.repos.d']);
  });

  it('gives a dnf node the rpm revision the plan resolved for yum, never the apt one', () => {
    expect(planRevision(packageManagerNamed('dnf')!, { yum: '1.31.4-150500.1.1', apt: '1.31.4-1.1' })).toBe('1.31.4-150500.1.1');
    expect(planRevision(packageManagerNamed('yum')!, { dnf: '1.31.4-150500.1.1' })).toBe('1.31.4-150500.1.1');
    expect(planRevision(packageManagerNamed('dnf')!, { apt: '1.31.4-1.1' })).toBeUndefined();
    expect(planRevision(packageManagerNamed('apt')!, { apt: '1.31.4-1.1', yum: 'x' })).toBe('1.31.4-1.1');
  });
});

describe('the detection script', () => {
  let dir: string | undefined;
  afterEach(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
    dir = undefined;
  });

  it('run by sh, reports the tools found on PATH and the pkgs.k8s.io lines of the repository files it is given', () => {
    dir = mkdtempSync(join(tmpdir(), 'pm-detect-'));
    const bin = join(dir, 'bin');
    const repos = join(dir, 'yum.repos.d');
    mkdirSync(bin);
    mkdirSync(repos);
    for (const tool of ['dnf', 'yum']) {
      writeFileSync(join(bin, tool), '#!/bin/sh\nexit 0\n');
      chmodSync(join(bin, tool), 0o755);
    }
    // grep from the host; apt-get is left out of PATH
    symlinkSync(execFileSync('/bin/sh', ['-c', 'command -v grep'], { encoding: 'utf8' }).trim(), join(bin, 'grep'));
    writeFileSync(join(repos, 'kubernetes.repo'), '[kubernetes]\nbaseurl=https://pkgs.k8s.io/core:/stable:/v1.30/rpm/\n');
    writeFileSync(join(repos, 'other.repo'), '[other]\nbaseurl=https://example.com/\n');
    // the real argument list, with the repository paths pointed into the temporary directory
    const [tools] = [detectionArgs().slice(0, detectionArgs().indexOf('--'))];
    expect(tools).toEqual(['apt-get', 'dnf', 'yum']);
    const out = execFileSync('/bin/sh', ['-c', DETECTION_SCRIPT, 'sh', ...tools, '--', repos, join(dir, 'missing')], {
      encoding: 'utf8',
      env: { PATH: bin },
    });
    const found = parseDetection(parseFactSections(out));
    expect(found).toEqual({
      tools: ['dnf', 'yum'],
      repos: [{ path: join(repos, 'kubernetes.repo'), line: 'baseurl=https://pkgs.k8s.io/core:/stable:/v1.30/rpm/' }],
    });
    // the paths and tools are arguments, never part of the script
    expect(DETECTION_SCRIPT).not.toContain('/etc/');
    expect(DETECTION_SCRIPT).not.toContain('dnf');
  });
});

describe('the pkgs.k8s.io repository', () => {
  it('reads and rewrites the minor, keeping the keyring, gpgkey and exclude=', () => {
    const repo =
      '[kubernetes]\nbaseurl=https://pkgs.k8s.io/core:/stable:/v1.30/rpm/\ngpgkey=https://pkgs.k8s.io/core:/stable:/v1.30/rpm/repodata/repomd.xml.key\nexclude=kubelet kubeadm kubectl\n';
    expect(repoMinorsIn(repo)).toEqual(['1.30']);
    expect(switchRepoMinor(repo, '1.31')).toBe(repo.replaceAll('/v1.30/', '/v1.31/'));
    expect(
      parseRepoMinor(
        '# deb https://pkgs.k8s.io/core:/stable:/v1.28/deb/ /\ndeb [signed-by=/etc/apt/keyrings/k.gpg] https://pkgs.k8s.io/core:/stable:/v1.30/deb/ /',
      ),
    ).toBe('1.30');
    expect(parseRepoMinor('deb http://deb.debian.org/debian bookworm main')).toBeUndefined();
  });
});
