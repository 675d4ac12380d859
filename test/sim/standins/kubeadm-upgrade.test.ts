import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import YAML from 'yaml';
import { afterEach, describe, expect, it } from 'vitest';
import { makeCluster, type SimFixture } from './fixture.ts';
import { apiObject, image, setPackages, tmpEntries, withKubelets } from './kubeadm-helpers.ts';
import { snapshot } from './snapshot.ts';

let fx: SimFixture;
afterEach(async () => fx.cleanup());

const HA = [{ name: 'cp-1', role: 'control-plane' as const }, { name: 'cp-2', role: 'control-plane' as const }, { name: 'w-1' }];
const COREDNS = '/apis/apps/v1/namespaces/kube-system/deployments/coredns';
const PROXY = '/apis/apps/v1/namespaces/kube-system/daemonsets/kube-proxy';
const KUBELET_CM = '/api/v1/namespaces/kube-system/configmaps/kubelet-config';

describe('kubeadm upgrade apply / node across an HA cluster', () => {
  it('upgrades the first control plane, skips addons until the last one, then a worker gets its kubelet config', async () => {
    fx = await makeCluster({ withApi: true, nodes: HA });
    setPackages(fx, 'cp-1', { kubeadm: '1.31.2' });
    const oldApiserver = fx.file('cp-1', 'etc/kubernetes/manifests/kube-apiserver.yaml');
    const first = await withKubelets(fx, ['cp-1'], () => fx.run('cp-1', 'kubeadm', ['upgrade', 'apply', 'v1.31.2', '-y']));
    expect(first.err).toBe('');
    expect(first.code).toBe(0);
    for (const c of ['kube-apiserver', 'kube-controller-manager', 'kube-scheduler'])
      expect(image(fx, 'cp-1', c)).toBe(`registry.k8s.io/${c}:v1.31.2`);
    expect(image(fx, 'cp-1', 'etcd')).toBe('registry.k8s.io/etcd:3.5.15-0'); // same etcd for 1.30 and 1.31: untouched
    const backups = tmpEntries(fx, 'cp-1');
    const manifestsBackup = backups.find((d) => /^kubeadm-backup-manifests-\d{4}-\d\d-\d\d-\d\d-\d\d-\d\d$/.test(d));
    expect(manifestsBackup).toBeDefined();
    expect(backups.some((d) => d.startsWith('kubeadm-backup-etcd-'))).toBe(false);
    expect(fx.file('cp-1', `etc/kubernetes/tmp/${manifestsBackup}/kube-apiserver.yaml`)).toBe(oldApiserver);
    expect(existsSync(join(fx.root('cp-1'), `etc/kubernetes/tmp/${manifestsBackup}/etcd.yaml`))).toBe(false);
    expect(backups.some((d) => /^kubeadm-kubelet-config\d+$/.test(d))).toBe(true);
    const config = YAML.parse(apiObject(fx, '/api/v1/namespaces/kube-system/configmaps/kubeadm-config').data.ClusterConfiguration);
    expect(config.kubernetesVersion).toBe('v1.31.2');
    expect(first.out).toContain('[upgrade/addon] Skipping upgrade of addons because control plane instances [cp-2] have not been upgraded');
    expect(apiObject(fx, PROXY).spec.template.spec.containers[0].image).toBe('registry.k8s.io/kube-proxy:v1.30.5');
    expect(first.out).toContain('[upgrade/successful] SUCCESS! Your cluster was upgraded to "v1.31.2". Enjoy!');

    setPackages(fx, 'cp-2', { kubeadm: '1.31.2' });
    const last = await withKubelets(fx, ['cp-1', 'cp-2'], () => fx.run('cp-2', 'kubeadm', ['upgrade', 'node']));
    expect(last.code).toBe(0);
    expect(image(fx, 'cp-2', 'kube-apiserver')).toBe('registry.k8s.io/kube-apiserver:v1.31.2');
    expect(last.out).toContain('[addons] Applied essential addon: CoreDNS\n[addons] Applied essential addon: kube-proxy\n');
    expect(apiObject(fx, PROXY).spec.template.spec.containers[0].image).toBe('registry.k8s.io/kube-proxy:v1.31.2');
    expect(fx.api?.writes).toContain(`PUT ${COREDNS}`);

    apiObject(fx, KUBELET_CM).data.kubelet = 'apiVersion: kubelet.config.k8s.io/v1beta1\nkind: KubeletConfiguration\n# for v1.31\n';
    const oldKubeletConfig = fx.file('w-1', 'var/lib/kubelet/config.yaml');
    setPackages(fx, 'w-1', { kubeadm: '1.31.2' });
    const worker = await fx.run('w-1', 'kubeadm', ['upgrade', 'node']);
    expect(worker.code).toBe(0);
    expect(worker.out).toContain('[upgrade/addon] Skipping the addon/coredns phase. Not a control plane node.');
    expect(fx.file('w-1', 'var/lib/kubelet/config.yaml')).toContain('# for v1.31');
    const kubeletBackup = tmpEntries(fx, 'w-1').find((d) => d.startsWith('kubeadm-kubelet-config'));
    expect(fx.file('w-1', `etc/kubernetes/tmp/${kubeletBackup}/config.yaml`)).toBe(oldKubeletConfig);
  });

  it('upgrades etcd first when its image changes, copying /var/lib/etcd into the etcd backup', async () => {
    fx = await makeCluster({ withApi: true, version: '1.31.2', nodes: [{ name: 'cp-1', role: 'control-plane' }] });
    setPackages(fx, 'cp-1', { kubeadm: '1.32.1' });
    const r = await withKubelets(fx, ['cp-1'], () => fx.run('cp-1', 'kubeadm', ['upgrade', 'apply', 'v1.32.1', '-y']));
    expect(r.code).toBe(0);
    expect(image(fx, 'cp-1', 'etcd')).toBe('registry.k8s.io/etcd:3.5.16-0');
    expect(r.out.indexOf('Preparing for "etcd" upgrade')).toBeLessThan(r.out.indexOf('Preparing for "kube-apiserver" upgrade'));
    const etcdBackup = tmpEntries(fx, 'cp-1').find((d) => d.startsWith('kubeadm-backup-etcd-'));
    expect(readFileSync(join(fx.root('cp-1'), `etc/kubernetes/tmp/${etcdBackup}/etcd/member/snap/db`), 'utf8')).toBe('etcd data of cp-1');
    expect(r.out).toContain('[addons] Applied essential addon: CoreDNS');
    expect(r.out).toContain('[upgrade] SUCCESS! A control plane node of your cluster was upgraded to "v1.32.1".');
  });

  it('--etcd-upgrade=false leaves etcd and takes no etcd backup', async () => {
    fx = await makeCluster({ withApi: true, version: '1.31.2', nodes: [{ name: 'cp-1', role: 'control-plane' }] });
    setPackages(fx, 'cp-1', { kubeadm: '1.32.1' });
    const r = await withKubelets(fx, ['cp-1'], () =>
      fx.run('cp-1', 'kubeadm', ['upgrade', 'apply', 'v1.32.1', '-y', '--etcd-upgrade=false']),
    );
    expect(r.code).toBe(0);
    expect(image(fx, 'cp-1', 'etcd')).toBe('registry.k8s.io/etcd:3.5.15-0');
    expect(tmpEntries(fx, 'cp-1').some((d) => d.startsWith('kubeadm-backup-etcd-'))).toBe(false);
  });

  it('rolls the manifests back when a static pod hash does not change in time', async () => {
    fx = await makeCluster({ withApi: true, nodes: [{ name: 'cp-1', role: 'control-plane' }] });
    setPackages(fx, 'cp-1', { kubeadm: '1.31.2' });
    const before = snapshot(join(fx.root('cp-1'), 'etc/kubernetes/manifests'));
    const r = await withKubelets(
      fx,
      ['cp-1'],
      () => fx.run('cp-1', 'kubeadm', ['upgrade', 'apply', 'v1.31.2', '-y'], { env: { SIM_KUBEADM_TIMEOUT_MS: '300' } }),
      new Set(['kube-apiserver']),
    );
    expect(r.code).toBe(1);
    expect(r.err).toContain(
      "couldn't upgrade control plane. kubeadm has tried to recover everything into the earlier state. Errors faced: " +
        'static Pod hash for component kube-apiserver on Node cp-1 did not change after 300ms: timed out waiting for the condition',
    );
    expect(snapshot(join(fx.root('cp-1'), 'etc/kubernetes/manifests'))).toEqual(before);
  });
});

describe('kubeadm upgrade plan', () => {
  it('prints per-node tables for the patch series and the next stable minor', async () => {
    fx = await makeCluster({ withApi: true, nodes: HA });
    setPackages(fx, 'cp-1', { kubeadm: '1.31.2' });
    const r = await fx.run('cp-1', 'kubeadm', ['upgrade', 'plan']);
    expect(r.code).toBe(0);
    expect(r.out).toContain(
      '[upgrade/versions] Cluster version: 1.30.5\n[upgrade/versions] kubeadm version: v1.31.2\n[upgrade/versions] Target version: v1.31.2\n',
    );
    expect(r.out).toContain(
      'COMPONENT   NODE   CURRENT   TARGET\nkubelet     cp-1   v1.30.5   v1.30.6\nkubelet     cp-2   v1.30.5   v1.30.6\nkubelet     w-1    v1.30.5   v1.30.6\n',
    );
    expect(r.out).toContain('Upgrade to the latest version in the v1.30 series:');
    expect(r.out).toContain('Upgrade to the latest stable version:');
    expect(r.out).toMatch(/^kube-apiserver +cp-2 +v1\.30\.5 +v1\.31\.2$/m);
    expect(r.out).toContain('\tkubeadm upgrade apply v1.31.2\n');
    expect(r.err).toContain('remote version is much newer: v1.32.1; falling back to: stable-1.31');
  });

  it('-o json prints the UpgradePlan object and nothing else on stdout', async () => {
    fx = await makeCluster({ withApi: true, nodes: HA });
    const r = await fx.run('cp-1', 'kubeadm', ['upgrade', 'plan', '-o', 'json']);
    const plan = JSON.parse(r.out);
    expect(plan).toMatchObject({ kind: 'UpgradePlan', apiVersion: 'output.kubeadm.k8s.io/v1alpha3' });
    expect(plan.availableUpgrades.map((u: any) => u.description)).toEqual(['version in the v1.30 series']);
    expect(plan.availableUpgrades[0].components).toContainEqual({
      name: 'etcd',
      currentVersion: '3.5.15-0',
      newVersion: '3.5.15-0',
      nodeName: 'cp-2',
    });
    expect(plan.configVersions.map((c: any) => c.group)).toEqual(['kubeproxy.config.k8s.io', 'kubelet.config.k8s.io']);
  });

  it('kubeadm version prints the installed kubeadm', async () => {
    fx = await makeCluster({ nodes: [{ name: 'w-1' }] });
    expect((await fx.run('w-1', 'kubeadm', ['version', '-o', 'short'])).out).toBe('v1.30.5\n');
    expect(JSON.parse((await fx.run('w-1', 'kubeadm', ['version', '-o', 'json'])).out).clientVersion.gitVersion).toBe('v1.30.5');
    expect((await fx.run('w-1', 'kubeadm', ['version'])).out).toMatch(
      /^kubeadm version: &version.Info\{Major:"1", Minor:"30", GitVersion:"v1.30.5",/,
    );
  });
});
