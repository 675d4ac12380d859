// The apt implementation of the package-manager seam: the argument vectors it builds and what it reads from
// dpkg-query, apt-mark and apt-cache madison.
import { describe, expect, it } from 'vitest';
import { aptPackageManager as apt, aptSourceLineFor, parseAptSourceLine } from '../../../src/adapters/node/packages/apt.ts';

const MADISON = [
  '   kubeadm | 1.30.10-1.1 | https://pkgs.k8s.io/core:/stable:/v1.30/deb  Packages',
  '   kubeadm | 1.30.9-1.1 | https://pkgs.k8s.io/core:/stable:/v1.30/deb  Packages',
  '   kubeadm | 1.30.5-1.1 | https://pkgs.k8s.io/core:/stable:/v1.30/deb  Packages',
].join('\n');

describe('apt: reading', () => {
  it('lists published versions from apt-cache madison oldest first, with the revision each is published with', () => {
    expect(apt.parsePublished(MADISON)).toEqual([
      { version: '1.30.5', packageVersion: '1.30.5-1.1' },
      { version: '1.30.9', packageVersion: '1.30.9-1.1' },
      { version: '1.30.10', packageVersion: '1.30.10-1.1' },
    ]);
    expect(apt.parsePublished('N: Unable to locate package kubeadm')).toEqual([]);
    // a version published twice (a rebuilt package) is installed at its newest revision, whatever the listing order
    const rebuilt =
      '   kubeadm | 1.31.2-1.1 | https://pkgs.k8s.io/core:/stable:/v1.31/deb  Packages\n   kubeadm | 1.31.2-1.10 | https://pkgs.k8s.io/core:/stable:/v1.31/deb  Packages\n   kubeadm | 1.31.2-1.9 | x Packages\n';
    expect(apt.parsePublished(rebuilt)).toEqual([{ version: '1.31.2', packageVersion: '1.31.2-1.10' }]);
    // Debian's "~" pre-release is not mistaken for the release
    expect(apt.parsePublished('   kubeadm | 1.32.0~rc.1-1.1 | https://pkgs.k8s.io/core:/stable:/v1.32/deb  Packages\n')).toEqual([
      { version: '1.32.0-rc.1', packageVersion: '1.32.0~rc.1-1.1' },
    ]);
  });

  it('reads installed versions and holds', () => {
    expect(apt.installedCommand(['kubeadm', 'kubelet'])).toEqual(['dpkg-query', '-W', '-f=${Package}\t${Version}\n', 'kubeadm', 'kubelet']);
    expect(apt.parseInstalled('kubeadm\t1.30.5-1.1\nkubelet\t1.30.5-1.1\n')).toEqual({ kubeadm: '1.30.5-1.1', kubelet: '1.30.5-1.1' });
    expect(apt.holdsCommand()).toEqual(['apt-mark', 'showhold']);
    expect(apt.parseHolds('kubeadm\nkubectl\nkubelet\n')).toEqual(['kubeadm', 'kubectl', 'kubelet']);
  });

  it('reads another minor through a copy of the node\'s source line in a temporary directory, which goes in as "$1"', () => {
    const line = 'deb [signed-by=/etc/apt/keyrings/kubernetes-apt-keyring.gpg] https://pkgs.k8s.io/core:/stable:/v1.30/deb/ /';
    expect(parseAptSourceLine(`# old\n${line}\n`)).toBe(line);
    expect(aptSourceLineFor('1.31', line)).toBe(line.replace('v1.30', 'v1.31'));
    expect(aptSourceLineFor('1.31')).toContain('https://pkgs.k8s.io/core:/stable:/v1.31/deb/ /');
    const [prepare, update, list] = apt.targetMinorRead('1.31', '/tmp/tmp.X', line);
    expect(prepare).toEqual({
      argv: ['sh', '-c', expect.not.stringContaining('/tmp/tmp.X'), 'sh', '/tmp/tmp.X'],
      stdin: `${line.replace('v1.30', 'v1.31')}\n`,
    });
    expect(update?.argv.at(-1)).toBe('update');
    expect(update?.argv).toEqual(
      expect.arrayContaining([
        'Dir::Etc::sourcelist=/tmp/tmp.X/k.list',
        'Dir::Etc::sourceparts=-',
        'Dir::State::Lists=/tmp/tmp.X/lists',
        'Dir::Cache=/tmp/tmp.X/cache',
      ]),
    );
    expect(list?.argv.slice(-2)).toEqual(['madison', 'kubeadm']);
  });
});

describe('apt: the exact revision', () => {
  it('picks the newest revision of the target, spelling pre-releases the Debian way', () => {
    expect(apt.listRevisionsCommand('kubelet')).toEqual(['apt-cache', 'madison', 'kubelet']);
    const listing = ' kubelet | 1.31.4-1.1 | u Packages\n kubelet | 1.31.4-1.2 | u Packages\n kubelet | 1.31.40-1.1 | u Packages\n';
    expect(apt.pickRevision(listing, '1.31.4')).toBe('1.31.4-1.2');
    expect(apt.pickRevision(' kubeadm | 1.32.0~rc.1-1.1 | u Packages\n', '1.32.0-rc.1')).toBe('1.32.0~rc.1-1.1');
    expect(apt.pickRevision(listing, '1.31.5')).toBeUndefined();
    expect(apt.versionPattern('1.32.0-rc.1')).toBe('1.32.0~rc.1-*');
  });
});

describe('apt: changing packages', () => {
  const context = { repoFiles: ['/etc/apt/sources.list.d/kubernetes.list'], lockTimeoutSeconds: 120 };
  const lock = ['-o', 'DPkg::Lock::Timeout=120'];
  const keep = ['-o', 'Dpkg::Options::=--force-confdef', '-o', 'Dpkg::Options::=--force-confold'];
  const update = [
    'env',
    'DEBIAN_FRONTEND=noninteractive',
    'apt-get',
    'update',
    ...lock,
    '-o',
    'Dir::Etc::sourcelist=/etc/apt/sources.list.d/kubernetes.list',
    '-o',
    'Dir::Etc::sourceparts=-',
    '-o',
    'APT::Get::List-Cleanup=0',
  ];
  const argvs = (steps: { argv: string[] }[]) => steps.map((s) => s.argv);

  it('upgrade: unhold, update the Kubernetes repository only, install the exact version keeping changed conffiles, hold', () => {
    const steps = apt.installSteps(['kubelet', 'kubectl'], '1.31.4-1.1', context);
    expect(argvs(steps)).toEqual([
      ['apt-mark', 'unhold', 'kubelet', 'kubectl'],
      update,
      [
        'env',
        'DEBIAN_FRONTEND=noninteractive',
        'apt-get',
        'install',
        '-y',
        '--allow-change-held-packages',
        ...lock,
        ...keep,
        'kubelet=1.31.4-1.1',
        'kubectl=1.31.4-1.1',
      ],
      ['apt-mark', 'hold', 'kubelet', 'kubectl'],
    ]);
    expect(steps.map((s) => s.install === true)).toEqual([false, false, true, false]);
    expect(apt.refreshMetadataCommand()).toBeUndefined();
  });

  it('with several repository files (or none found), apt-get update refreshes every source', () => {
    const steps = apt.installSteps(['kubeadm'], '1.31.4-1.1', { repoFiles: ['/a.list', '/b.list'], lockTimeoutSeconds: 5 });
    expect(steps[1]?.argv).toEqual(['env', 'DEBIAN_FRONTEND=noninteractive', 'apt-get', 'update', '-o', 'DPkg::Lock::Timeout=5']);
  });

  it('runs apt-mark again while dpkg says another process holds its lock (dpkg --set-selections does not wait)', () => {
    const [unhold, , install, hold] = apt.installSteps(['kubeadm'], '1.31.4-1.1', context);
    for (const step of [unhold, hold]) {
      expect(step?.retryWhile?.forSeconds).toBe(120);
      expect(step?.retryWhile?.pattern.test('dpkg: error: dpkg frontend lock was locked by another process with pid 4711')).toBe(true);
      expect(step?.retryWhile?.pattern.test('E: Unable to locate package kubeadm')).toBe(false);
    }
    // apt-get waits itself (DPkg::Lock::Timeout)
    expect(install?.retryWhile).toBeUndefined();
    expect(hold?.explain?.('dpkg: error: dpkg frontend lock was locked by another process with pid 4711')).toMatch(
      /^\/var\/lib\/dpkg\/lock-frontend is held by process 4711 and was not released within 120s/,
    );
  });

  it("names the failing repository when the Kubernetes repository's update fails", () => {
    const [, update] = apt.installSteps(['kubeadm'], '1.31.4-1.1', context);
    expect(
      update?.explain?.("E: The repository 'https://pkgs.k8s.io/core:/stable:/v1.31/deb  Release' does not have a Release file.\n"),
    ).toBe(
      "apt-get update of the Kubernetes repository failed (E: The repository 'https://pkgs.k8s.io/core:/stable:/v1.31/deb  Release' does not have a Release file.): check the repository file, its signed-by keyring and that the node reaches pkgs.k8s.io",
    );
    expect(update?.explain?.('Hit:1 https://pkgs.k8s.io/core:/stable:/v1.31/deb  InRelease\n')).toBeUndefined();
  });

  it('names the process holding the dpkg lock and the fix', () => {
    const [, , install] = apt.installSteps(['kubeadm'], '1.31.4-1.1', context);
    const output =
      'E: Could not get lock /var/lib/dpkg/lock-frontend. It is held by process 4711 (unattended-upgr)\nE: Unable to acquire the dpkg frontend lock';
    expect(install?.explain?.(output)).toMatch(
      /^\/var\/lib\/dpkg\/lock-frontend is held by process 4711 \(unattended-upgr\) and was not released within 120s \(package-lock-timeout\): let it finish/,
    );
    expect(install?.explain?.('E: Unable to locate package kubeadm')).toBeUndefined();
  });

  it('rollback: unhold, update, install each recorded version allowing the downgrade, hold again', () => {
    const steps = apt.downgradeSteps(
      { kubeadm: '1.30.5-1.1', kubelet: '1.30.5-1.1' },
      { kubeadm: '1.31.4-1.1', kubelet: '1.30.5-1.1' },
      context,
    );
    expect(argvs(steps)).toEqual([
      ['apt-mark', 'unhold', 'kubeadm', 'kubelet'],
      update,
      [
        'env',
        'DEBIAN_FRONTEND=noninteractive',
        'apt-get',
        'install',
        '-y',
        '--allow-downgrades',
        '--allow-change-held-packages',
        ...lock,
        ...keep,
        'kubeadm=1.30.5-1.1',
        'kubelet=1.30.5-1.1',
      ],
      ['apt-mark', 'hold', 'kubeadm', 'kubelet'],
    ]);
    expect(steps.some((s) => s.tolerate)).toBe(false);
  });
});
