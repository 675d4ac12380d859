// The exact commands a node's upgrade runs, per node kind and package manager, and the order of the
// cluster effects (progress recorded after each stage, drain before the kubelet, uncordon last).
import { describe, expect, it } from 'vitest';
import { runNode } from '../../src/upgrade/runner.ts';
import type { ScheduledNode } from '../../src/upgrade/schedule.ts';
import { STAGE_ORDER, type NodeJob } from '../../src/upgrade/types.ts';
import { FakeCluster, Recorder, TARGET, nodeWorld, runnerDeps } from './fakes.ts';

const APT_LIST = '/etc/apt/sources.list.d/kubernetes.list';
const APT_LINE = 'deb [signed-by=/etc/apt/keyrings/kubernetes-apt-keyring.gpg] https://pkgs.k8s.io/core:/stable:/v1.30/deb/ /\n';
const YUM_REPO = '/etc/yum.repos.d/kubernetes.repo';
const YUM_FILE = '[kubernetes]\nname=Kubernetes\nbaseurl=https://pkgs.k8s.io/core:/stable:/v1.30/rpm/\nenabled=1\ngpgcheck=1\ngpgkey=https://pkgs.k8s.io/core:/stable:/v1.30/rpm/repodata/repomd.xml.key\nexclude=kubelet kubeadm kubectl cri-tools kubernetes-cni\n';

function scheduled(job: NodeJob, stages = [...STAGE_ORDER], doneBefore: ScheduledNode['doneBefore'] = []): ScheduledNode {
  return { job, stages, doneBefore };
}

describe('a Debian worker changing minor', () => {
  it('switches the repo, installs exact revisions with holds, runs kubeadm upgrade node, restarts the kubelet', async () => {
    const recorder = new Recorder();
    recorder.responders.push(nodeWorld(TARGET.version, { [APT_LIST]: APT_LINE }));
    const cluster = new FakeCluster();
    const deps = runnerDeps(recorder, cluster);
    const ok = await runNode(scheduled({ name: 'worker-1', role: 'worker', packageManager: 'apt', kubeadmAction: 'node', batch: 0 }), deps, {});
    expect(ok).toBe(true);
    expect(recorder.commandsOf('worker-1')).toEqual([
      'grep -rlsE pkgs\\.k8s\\.io/core:/stable:/v[0-9]+\\.[0-9]+/ /etc/apt/sources.list.d /etc/apt/sources.list',
      `cat -- ${APT_LIST}`,
      `tee -- ${APT_LIST}`,
      'apt-mark unhold kubeadm',
      'apt-get update',
      'apt-get install -y --allow-change-held-packages kubeadm=1.31.4-1.1',
      'apt-mark hold kubeadm',
      'kubeadm version -o short',
      'kubeadm upgrade node',
      'apt-mark unhold kubelet kubectl',
      'apt-get update',
      'apt-get install -y --allow-change-held-packages kubelet=1.31.4-1.1 kubectl=1.31.4-1.1',
      'apt-mark hold kubelet kubectl',
      'systemctl daemon-reload',
      'systemctl restart kubelet',
    ]);
    // the new repo line keeps its keyring and only changes the minor
    const written = recorder.calls.find((c) => c.argv[0] === 'tee')!.stdin;
    expect(written).toBe(APT_LINE.replace('/v1.30/', '/v1.31/'));
    expect(cluster.log.filter((l) => !l.endsWith('started'))).toEqual([
      'worker-1 repo-switch done', 'worker-1 kubeadm-install done', 'worker-1 kubeadm-upgrade done',
      'worker-1 drain', 'worker-1 drain done', 'worker-1 kubelet-install done', 'worker-1 kubelet-restart done',
      'worker-1 wait-ready done', 'worker-1 uncordon', 'worker-1 uncordon done',
    ]);
    expect(cluster.cordoned.has('worker-1')).toBe(false);
  });
});

describe('the first control plane on a RHEL-family node', () => {
  it('uses versionlock and --disableexcludes, keeps kubeadm upgrade plan, stops kube-apiserver gracefully, applies', async () => {
    const recorder = new Recorder();
    recorder.responders.push((_node, argv) => (argv.join(' ') === 'yum versionlock delete kubeadm' ? { code: 1, stderr: 'Error: No package found for: kubeadm\n' } : undefined));
    recorder.responders.push(nodeWorld(TARGET.version, { [YUM_REPO]: YUM_FILE }));
    recorder.responders.push((_node, argv) => (argv.join(' ') === 'kubeadm upgrade plan' ? { stdout: 'COMPONENT   NODE   CURRENT    TARGET\nCoreDNS            v1.11.1    v1.11.1\n\n\tkubeadm upgrade apply v1.30.14\n\nCOMPONENT   NODE   CURRENT    TARGET\nCoreDNS            v1.11.1    v1.11.3\n\n\tkubeadm upgrade apply v1.31.4\n' } : undefined));
    const cluster = new FakeCluster();
    const deps = runnerDeps(recorder, cluster, { target: { ...TARGET, gracefulApiserverStopMs: 20_000 } });
    const facts = {};
    const ok = await runNode(scheduled({ name: 'cp-1', role: 'control-plane', packageManager: 'yum', kubeadmAction: 'apply' }), deps, facts);
    expect(ok).toBe(true);
    expect(recorder.commandsOf('cp-1')).toEqual([
      'grep -rlsE pkgs\\.k8s\\.io/core:/stable:/v[0-9]+\\.[0-9]+/ /etc/yum.repos.d',
      `cat -- ${YUM_REPO}`,
      `tee -- ${YUM_REPO}`,
      'yum clean metadata',
      'yum versionlock delete kubeadm',
      'yum install -y kubeadm-1.31.4-150500.1.1 --disableexcludes=kubernetes',
      'yum versionlock add kubeadm',
      'kubeadm version -o short',
      'kubeadm upgrade plan',
      'killall -s SIGTERM kube-apiserver',
      'kubeadm upgrade apply v1.31.4 --yes --certificate-renewal=true --etcd-upgrade=true',
      'yum versionlock delete kubelet kubectl',
      'yum install -y kubelet-1.31.4-150500.1.1 kubectl-1.31.4-150500.1.1 --disableexcludes=kubernetes',
      'yum versionlock add kubelet kubectl',
      'systemctl daemon-reload',
      'systemctl restart kubelet',
    ]);
    const written = recorder.calls.find((c) => c.argv[0] === 'tee')!.stdin!;
    expect(written).toContain('baseurl=https://pkgs.k8s.io/core:/stable:/v1.31/rpm/');
    expect(written).toContain('gpgkey=https://pkgs.k8s.io/core:/stable:/v1.31/rpm/repodata/repomd.xml.key');
    expect(written).toContain('exclude=kubelet kubeadm kubectl cri-tools kubernetes-cni');
    expect((deps.clock as unknown as { slept: number[] }).slept).toContain(20_000);
    expect(facts).toEqual({ coreDNSTarget: 'v1.11.3' });
    expect(deps.events.some((e) => e.type === 'note' && e.detail?.includes('CoreDNS'))).toBe(true);
  });

  it('passes certificate-renewal and etcd-upgrade through to kubeadm upgrade node on the other control planes', async () => {
    const recorder = new Recorder();
    recorder.responders.push(nodeWorld(TARGET.version));
    const deps = runnerDeps(recorder, new FakeCluster(), { target: { ...TARGET, certificateRenewal: false, etcdUpgrade: false, gracefulApiserverStopMs: 20_000 } });
    const stages = STAGE_ORDER.filter((s) => s !== 'repo-switch');
    await runNode(scheduled({ name: 'cp-2', role: 'control-plane', packageManager: 'apt', kubeadmAction: 'node' }, stages), deps, {});
    const commands = recorder.commandsOf('cp-2');
    expect(commands).toContain('kubeadm upgrade node --certificate-renewal=false --etcd-upgrade=false');
    // no etcd upgrade: nothing to stop kube-apiserver for
    expect(commands.some((c) => c.startsWith('killall'))).toBe(false);
    expect(commands.some((c) => c.startsWith('grep') || c.startsWith('tee'))).toBe(false);
  });
});

describe('a failing command', () => {
  it('stops the node at that stage, records it failed, and keeps the output tail', async () => {
    const recorder = new Recorder();
    recorder.responders.push((_n, argv) => (argv[1] === 'upgrade' ? { code: 1, stderr: '[upgrade/config] FATAL: boom\nTo see the stack trace of this error execute with --v=5 or higher\n' } : undefined));
    recorder.responders.push(nodeWorld(TARGET.version));
    const cluster = new FakeCluster();
    const deps = runnerDeps(recorder, cluster);
    const ok = await runNode(scheduled({ name: 'worker-2', role: 'worker', packageManager: 'apt', kubeadmAction: 'node' }, STAGE_ORDER.filter((s) => s !== 'repo-switch')), deps, {});
    expect(ok).toBe(false);
    expect(recorder.commandsOf('worker-2').at(-1)).toBe('kubeadm upgrade node');
    expect(cluster.progress.get('worker-2')).toMatchObject({ stage: 'kubeadm-upgrade', stageStatus: 'failed', doneStages: ['kubeadm-install'] });
    const failed = deps.events.find((e) => e.type === 'stage-failed');
    expect(failed).toMatchObject({ node: 'worker-2', stage: 'kubeadm-upgrade' });
    expect(failed && 'tail' in failed ? failed.tail : '').toContain('FATAL: boom');
    expect(cluster.log).not.toContain('worker-2 drain');
  });
});

describe('a plan that could not list package revisions', () => {
  it('pins the revision the node\'s repository offers for the target, read right before each install', async () => {
    const recorder = new Recorder();
    recorder.responders.push((_n, argv) => (argv.join(' ').startsWith('apt-cache madison')
      ? { stdout: ` ${argv[2]} | 1.31.5-1.1 | https://pkgs.k8s.io/core:/stable:/v1.31/deb  Packages\n ${argv[2]} | 1.31.4-1.1 | https://pkgs.k8s.io/core:/stable:/v1.31/deb  Packages\n` }
      : undefined));
    recorder.responders.push((_n, argv) => (argv.join(' ') === 'dnf list --showduplicates --disableexcludes=kubernetes kubeadm'
      ? { stdout: 'Available Packages\nkubeadm.x86_64    1.31.4-150500.1.1    kubernetes\nkubeadm.x86_64    1.31.5-150500.1.1    kubernetes\n' }
      : undefined));
    recorder.responders.push(nodeWorld(TARGET.version));
    const deps = runnerDeps(recorder, new FakeCluster(), { target: { ...TARGET, packageVersions: {} } });
    await runNode(scheduled({ name: 'worker-1', role: 'worker', packageManager: 'apt', kubeadmAction: 'node' }, ['kubeadm-install', 'kubelet-install']), deps, {});
    expect(recorder.commandsOf('worker-1')).toEqual([
      'apt-mark unhold kubeadm', 'apt-get update', 'apt-cache madison kubeadm', 'apt-get install -y --allow-change-held-packages kubeadm=1.31.4-1.1', 'apt-mark hold kubeadm',
      'kubeadm version -o short',
      'apt-mark unhold kubelet kubectl', 'apt-get update', 'apt-cache madison kubelet', 'apt-get install -y --allow-change-held-packages kubelet=1.31.4-1.1 kubectl=1.31.4-1.1', 'apt-mark hold kubelet kubectl',
    ]);
    await runNode(scheduled({ name: 'worker-2', role: 'worker', packageManager: 'dnf', kubeadmAction: 'node' }, ['kubeadm-install']), deps, {});
    expect(recorder.commandsOf('worker-2')).toContain('dnf install -y kubeadm-1.31.4-150500.1.1 --disableexcludes=kubernetes');
  });
});
