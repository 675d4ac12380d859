// The rpm implementation of the package-manager seam (dnf or yum, whichever the node has): the argument vectors it
// builds, what it reads from rpm -q, versionlock list and list --showduplicates, and the rollback that must get
// past the versionlock the upgrade set.
import { describe, expect, it } from 'vitest';
import {
  compareRpmVersions,
  parseVersionlockList,
  parseYumListPackages,
  rpmPackageManager,
} from '../../../src/adapters/node/packages/rpm.ts';

const dnf = rpmPackageManager('dnf');
const yum = rpmPackageManager('yum');

const YUM_LIST = [
  'Last metadata expiration check: 0:00:12 ago on Mon 01 Sep 2026 10:00:00 AM UTC.',
  'Installed Packages',
  'kubeadm.x86_64                1.30.5-150500.1.1                @kubernetes',
  'Available Packages',
  'kubeadm.aarch64               1.30.4-150500.1.1                kubernetes',
  'kubeadm.x86_64                1.30.5-150500.1.1                kubernetes',
  'kubeadm.x86_64                1.30.10-150500.1.1               kubernetes',
].join('\n');

describe('rpm: reading', () => {
  it('lists what the repositories offer (not the installed "@repo" line), oldest first, with revisions', () => {
    expect(parseYumListPackages(YUM_LIST).map((p) => p.packageVersion)).toEqual([
      '1.30.4-150500.1.1',
      '1.30.5-150500.1.1',
      '1.30.10-150500.1.1',
    ]);
    expect(
      dnf.parsePublished(
        'Installed Packages\nkubeadm.x86_64  1.30.5-150500.1.1  @kubernetes\nAvailable Packages\nkubeadm.x86_64  1.31.0-150500.1.1  kubernetes-target\n',
      ),
    ).toEqual([{ version: '1.31.0', packageVersion: '1.31.0-150500.1.1' }]);
  });

  it("sees every version in the plan's listing (exclude= and versionlock lifted), its own tool's", () => {
    expect(dnf.publishedCommand('kubeadm')).toEqual([
      'dnf',
      'list',
      '--showduplicates',
      '--setopt=skip_if_unavailable=True',
      '--disableexcludes=all',
      '--disableplugin=versionlock',
      'kubeadm',
    ]);
    expect(yum.publishedCommand('kubeadm')[0]).toBe('yum');
    const [read] = yum.targetMinorRead('1.31', '/tmp/tmp.r', 'baseurl=https://pkgs.k8s.io/core:/stable:/v1.30/rpm/');
    expect(read?.argv).toEqual([
      'yum',
      '--repofrompath=kubernetes-target,https://pkgs.k8s.io/core:/stable:/v1.31/rpm/',
      '--repo=kubernetes-target',
      '--setopt=cachedir=/tmp/tmp.r',
      '--disableexcludes=all',
      '--disableplugin=versionlock',
      'list',
      '--showduplicates',
      'kubeadm',
    ]);
  });

  it('reads installed versions and versionlocks', () => {
    expect(dnf.installedCommand(['kubeadm'])).toEqual(['rpm', '-q', '--qf', '%{NAME}\t%{VERSION}-%{RELEASE}\n', 'kubeadm']);
    expect(dnf.parseInstalled('kubeadm\t1.30.5-150500.1.1\npackage kubectl is not installed\n')).toEqual({ kubeadm: '1.30.5-150500.1.1' });
    expect(dnf.holdsCommand()).toEqual(['dnf', '--setopt=skip_if_unavailable=True', 'versionlock', 'list']);
    expect(
      parseVersionlockList(
        'Loaded plugins: fastestmirror, versionlock\nkubeadm-0:1.30.5-150500.1.1.*\nkubernetes-cni-0:1.4.0-150500.1.1.*\n0:kubelet-1.30.5-150500.1.1.*\n',
      ),
    ).toEqual(['kubeadm', 'kubernetes-cni', 'kubelet']);
  });
});

describe('rpm: versions', () => {
  it('orders versions as rpm does', () => {
    expect(compareRpmVersions('1.30.10-150500.1.1', '1.30.9-150500.1.1')).toBeGreaterThan(0);
    expect(compareRpmVersions('1.30.5-150500.1.10', '1.30.5-150500.1.9')).toBeGreaterThan(0);
    expect(compareRpmVersions('1.30.5-150500.1.1', '1.31.4-150500.1.1')).toBeLessThan(0);
    expect(compareRpmVersions('0:1.30.5-150500.1.1', '1.30.5-150500.1.1')).toBe(0);
    expect(compareRpmVersions('1:1.29.0-1', '1.31.0-1')).toBeGreaterThan(0);
    expect(compareRpmVersions('1.32.0~rc.1-150500.1.1', '1.32.0-150500.1.1')).toBeLessThan(0);
  });

  it('picks the newest revision of the target from the install-time listing', () => {
    expect(dnf.listRevisionsCommand('kubelet')).toEqual([
      'dnf',
      'list',
      '--showduplicates',
      '--setopt=skip_if_unavailable=True',
      '--disableexcludes=kubernetes',
      'kubelet',
    ]);
    const listing =
      'Available Packages\nkubelet.x86_64  1.31.4-150500.1.1  kubernetes\nkubelet.x86_64  1.31.4-150500.1.2  kubernetes\nkubelet.x86_64  1.31.40-150500.1.1  kubernetes\n';
    expect(dnf.pickRevision(listing, '1.31.4')).toBe('1.31.4-150500.1.2');
    expect(dnf.pickRevision(listing, '1.31.5')).toBeUndefined();
    expect(dnf.versionPattern('1.31.4')).toBe('1.31.4-*');
  });
});

describe('rpm: pre-releases', () => {
  it('spells 1.32.0-rc.1 as pkgs.k8s.io does (1.32.0~rc.1: an rpm version holds no "-") and picks its revision', () => {
    expect(dnf.upstreamVersion('1.32.0-rc.1')).toBe('1.32.0~rc.1');
    expect(dnf.versionPattern('1.32.0-rc.1')).toBe('1.32.0~rc.1-*');
    const listing =
      'Available Packages\nkubeadm.x86_64  1.31.4-150500.1.1  kubernetes\nkubeadm.x86_64  1.32.0~rc.1-150500.1.1  kubernetes\n';
    expect(dnf.pickRevision(listing, '1.32.0-rc.1')).toBe('1.32.0~rc.1-150500.1.1');
    expect(dnf.pickRevision(listing, '1.31.4')).toBe('1.31.4-150500.1.1');
    expect(dnf.parsePublished(listing).map((p) => p.version)).toEqual(['1.31.4', '1.32.0-rc.1']);
  });
});

describe('rpm: changing packages', () => {
  const context = { repoFiles: ['/etc/yum.repos.d/kubernetes.repo'], lockTimeoutSeconds: 120 };
  it("upgrade: versionlock delete (nothing locked is fine), install past the repo's exclude=, versionlock add", () => {
    const [unlock, install, lock, ...rest] = yum.installSteps(['kubeadm'], '1.31.4-150500.1.1', context);
    expect(rest).toEqual([]);
    expect(unlock?.argv).toEqual(['yum', '--setopt=skip_if_unavailable=True', 'versionlock', 'delete', 'kubeadm']);
    expect(unlock?.tolerate?.test('Error: No package found for: kubeadm')).toBe(true);
    expect(unlock?.tolerate?.test('No such command: versionlock. Please use /usr/bin/yum --help')).toBe(true);
    // another repository that fails to load does not stop the Kubernetes install (EL9 fails by default)
    expect(install).toEqual({
      argv: ['yum', 'install', '-y', '--setopt=skip_if_unavailable=True', 'kubeadm-1.31.4-150500.1.1', '--disableexcludes=kubernetes'],
      install: true,
    });
    expect(lock?.argv).toEqual(['yum', '--setopt=skip_if_unavailable=True', 'versionlock', 'add', 'kubeadm']);
    expect(lock?.tolerate?.test('Error: No package found for: kubeadm')).toBe(false);
    expect(dnf.refreshMetadataCommand()).toEqual(['dnf', 'clean', 'metadata']);
  });

  it("rollback: deletes the upgrade's versionlock, downgrades with the node's own tool, locks again at the recorded versions", () => {
    const recorded = { kubeadm: '1.30.5-150500.1.1', kubelet: '1.30.5-150500.1.1', kubectl: '1.30.5-150500.1.1' };
    const steps = dnf.downgradeSteps(
      recorded,
      {
        kubeadm: '1.31.4-150500.1.1',
        kubelet: '1.31.4-150500.1.1',
        kubectl: '1.31.4-150500.1.1',
      },
      context,
    );
    expect(steps.map((s) => s.argv)).toEqual([
      ['dnf', '--setopt=skip_if_unavailable=True', 'versionlock', 'delete', 'kubeadm', 'kubelet', 'kubectl'],
      ['dnf', 'clean', 'metadata'],
      [
        'dnf',
        'downgrade',
        '-y',
        '--setopt=skip_if_unavailable=True',
        'kubeadm-1.30.5-150500.1.1',
        'kubelet-1.30.5-150500.1.1',
        'kubectl-1.30.5-150500.1.1',
        '--disableexcludes=kubernetes',
      ],
      ['dnf', '--setopt=skip_if_unavailable=True', 'versionlock', 'add', 'kubeadm', 'kubelet', 'kubectl'],
    ]);
    // the downgrade itself must succeed: no failure of it is tolerated
    expect(steps[2]?.tolerate).toBeUndefined();
    expect(steps[0]?.tolerate?.test('Error: No package found for: kubeadm')).toBe(true);
  });

  it('rollback of a node the upgrade stopped half way: downgrades what moved, installs what is missing, locks them all', () => {
    const steps = yum.downgradeSteps(
      { kubeadm: '1.30.5-150500.1.1', kubelet: '1.30.5-150500.1.1', kubectl: '1.30.5-150500.1.1' },
      { kubeadm: '1.31.4-150500.1.1', kubelet: '1.30.5-150500.1.1' },
      context,
    );
    expect(steps.map((s) => s.argv)).toEqual([
      ['yum', '--setopt=skip_if_unavailable=True', 'versionlock', 'delete', 'kubeadm', 'kubelet', 'kubectl'],
      ['yum', 'clean', 'metadata'],
      ['yum', 'downgrade', '-y', '--setopt=skip_if_unavailable=True', 'kubeadm-1.30.5-150500.1.1', '--disableexcludes=kubernetes'],
      ['yum', 'install', '-y', '--setopt=skip_if_unavailable=True', 'kubectl-1.30.5-150500.1.1', '--disableexcludes=kubernetes'],
      ['yum', '--setopt=skip_if_unavailable=True', 'versionlock', 'add', 'kubeadm', 'kubelet', 'kubectl'],
    ]);
  });
});
