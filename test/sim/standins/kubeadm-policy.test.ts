import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { makeCluster, type SimFixture } from './fixture.ts';
import { apiObject, setPackages, withKubelets } from './kubeadm-helpers.ts';
import { snapshot } from './snapshot.ts';

let fx: SimFixture;
beforeEach(async () => {
  fx = await makeCluster({
    withApi: true,
    nodes: [{ name: 'cp-1', role: 'control-plane' }, { name: 'cp-2', role: 'control-plane' }, { name: 'w-1' }],
  });
});
afterEach(async () => fx.cleanup());

const FATAL = '[upgrade/version] FATAL: the --version argument is invalid due to these fatal errors:\n\n';

describe('kubeadm upgrade apply: skew policy', () => {
  it('refuses a target above its own minor, even with --force, and changes nothing', async () => {
    const before = snapshot(fx.root('cp-1'));
    for (const flags of [['-y'], ['--force']]) {
      const r = await fx.run('cp-1', 'kubeadm', ['upgrade', 'apply', 'v1.31.2', ...flags]);
      expect(r.code).toBe(1);
      expect(r.err).toContain(
        FATAL +
          '\t- Specified version to upgrade to "v1.31.2" is at least one minor release higher than the kubeadm minor release (31 > 30). Such an upgrade is not supported\n',
      );
      expect(r.err).toContain('Please fix the misalignments highlighted above and try upgrading again');
    }
    expect(snapshot(fx.root('cp-1'))).toEqual(before);
  });

  it('refuses skipping a minor even with --force', async () => {
    setPackages(fx, 'cp-1', { kubeadm: '1.32.1' });
    const r = await fx.run('cp-1', 'kubeadm', ['upgrade', 'apply', 'v1.32.1', '--force']);
    expect(r.code).toBe(1);
    expect(r.err).toContain(
      `${FATAL}\t- Specified version to upgrade to "v1.32.1" is too high; kubeadm can upgrade only 1 minor version at a time\n`,
    );
  });

  it('a patch above kubeadm needs --force, which then goes ahead', async () => {
    setPackages(fx, 'cp-1', { kubeadm: '1.31.0' });
    const refused = await fx.run('cp-1', 'kubeadm', ['upgrade', 'apply', '1.31.2', '-y']);
    expect(refused.code).toBe(1);
    expect(refused.err).toContain(
      '[upgrade/version] FATAL: the --version argument is invalid due to these errors:\n\n' +
        '\t- Specified version to upgrade to "v1.31.2" is higher than the kubeadm version "v1.31.0". Upgrade kubeadm first using the tool you used to install kubeadm\n\nCan be bypassed if you pass the --force flag',
    );
    const forced = await withKubelets(fx, ['cp-1'], () => fx.run('cp-1', 'kubeadm', ['upgrade', 'apply', '1.31.2', '--force']));
    expect(forced.out).toContain(
      '[upgrade/version] Found 1 potential version compatibility errors but skipping since the --force flag is set',
    );
    expect(forced.code).toBe(0);
  });

  it('refuses kubelets more than three minors older (forceable)', async () => {
    setPackages(fx, 'cp-1', { kubeadm: '1.31.2' });
    apiObject(fx, '/api/v1/nodes/w-1').status.nodeInfo.kubeletVersion = 'v1.27.9';
    const r = await fx.run('cp-1', 'kubeadm', ['upgrade', 'apply', 'v1.31.2', '-y']);
    expect(r.code).toBe(1);
    expect(r.err).toContain(
      '\t- There are kubelets in this cluster that are too old that have these versions [v1.27.9]\n\nCan be bypassed if you pass the --force flag',
    );
  });

  it('stops on a NotReady control plane unless that check is ignored', async () => {
    setPackages(fx, 'cp-1', { kubeadm: '1.31.2' });
    apiObject(fx, '/api/v1/nodes/cp-2').status.conditions[0].status = 'False';
    const r = await fx.run('cp-1', 'kubeadm', ['upgrade', 'apply', 'v1.31.2', '-y']);
    expect(r.code).toBe(1);
    expect(r.err).toContain(
      '[upgrade/health] FATAL: [preflight] Some fatal errors occurred:\n\t[ERROR ControlPlaneNodesReady]: there are NotReady control-planes in the cluster: [cp-2]\n',
    );
    const ignored = await fx.run('cp-1', 'kubeadm', [
      'upgrade',
      'apply',
      'v1.31.2',
      '--dry-run',
      '--ignore-preflight-errors=ControlPlaneNodesReady',
    ]);
    expect(ignored.code).toBe(0);
    expect(ignored.out).toContain('\t[WARNING ControlPlaneNodesReady]: there are NotReady control-planes in the cluster: [cp-2]');
  });

  it('asks for confirmation without -y and aborts on anything but y', async () => {
    setPackages(fx, 'cp-1', { kubeadm: '1.31.2' });
    const before = snapshot(fx.root('cp-1'));
    const r = await fx.run('cp-1', 'kubeadm', ['upgrade', 'apply', 'v1.31.2'], { stdin: ['n'] });
    expect(r.out).toContain('[upgrade] Are you sure you want to proceed? [y/N]: ');
    expect(r.code).toBe(1);
    expect(r.err).toContain("won't proceed; the user didn't answer (Y|y) in order to continue");
    expect(snapshot(fx.root('cp-1'))).toEqual(before);
  });

  it('runs only where the control plane manifests and admin.conf are', async () => {
    setPackages(fx, 'w-1', { kubeadm: '1.31.2' });
    const r = await fx.run('w-1', 'kubeadm', ['upgrade', 'apply', 'v1.31.2', '-y']);
    expect(r.code).toBe(1);
    expect(r.err).toContain('[upgrade/config] FATAL: couldn\'t create a Kubernetes client from file "/etc/kubernetes/admin.conf"');
  });

  it('--dry-run changes no file and writes nothing to the API', async () => {
    setPackages(fx, 'cp-1', { kubeadm: '1.31.2' });
    const before = snapshot(fx.root('cp-1'));
    const r = await fx.run('cp-1', 'kubeadm', ['upgrade', 'apply', 'v1.31.2', '--dry-run']);
    expect(r.code).toBe(0);
    expect(r.out).toContain('[dryrun] Finished dryrunning successfully!');
    expect(snapshot(fx.root('cp-1'))).toEqual(before);
    expect(fx.api?.writes).toEqual([]);
  });
});
