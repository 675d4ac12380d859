// The exact commands a node's upgrade runs, per node kind and package manager, and the order of the
// cluster effects (progress recorded after each stage, drain before the kubelet, uncordon last).
import { describe, expect, it } from 'vitest';
import { runNode } from '../../src/upgrade/runner.ts';
import type { ScheduledNode } from '../../src/upgrade/schedule.ts';
import { STAGE_ORDER } from '../../src/upgrade/stages/index.ts';
import type { NodeJob } from '../../src/upgrade/types.ts';
import { FakeCluster, Recorder, TARGET, nodeWorld, runnerDeps } from './fakes.ts';

const APT_LIST = '/etc/apt/sources.list.d/kubernetes.list';
const YUM_REPO = '/etc/yum.repos.d/kubernetes.repo';
const sed = (file: string) => `sed -i -E s#(pkgs\\.k8s\\.io/core:/stable:/v)[0-9]+\\.[0-9]+/#\\11.31/#g -- ${file}`;

function scheduled(job: NodeJob, stages = [...STAGE_ORDER], doneBefore: ScheduledNode['doneBefore'] = []): ScheduledNode {
  return { job, stages, doneBefore };
}

describe('a Debian worker changing minor', () => {
  it('switches the repo, installs exact revisions with holds, runs kubeadm upgrade node, restarts the kubelet', async () => {
    const recorder = new Recorder();
    recorder.responders.push(nodeWorld(TARGET.version));
    const cluster = new FakeCluster();
    const deps = runnerDeps(recorder, cluster);
    const ok = await runNode(
      scheduled({ name: 'worker-1', role: 'worker', packageManager: 'apt', kubeadmAction: 'node', batch: 0 }),
      deps,
      {},
    );
    expect(ok).toBe(true);
    expect(recorder.commandsOf('worker-1')).toEqual([
      sed(APT_LIST),
      'apt-mark unhold kubeadm',
      'env DEBIAN_FRONTEND=noninteractive apt-get update -o DPkg::Lock::Timeout=120 -o Dir::Etc::sourcelist=/etc/apt/sources.list.d/kubernetes.list -o Dir::Etc::sourceparts=- -o APT::Get::List-Cleanup=0',
      'env DEBIAN_FRONTEND=noninteractive apt-get install -y --allow-change-held-packages -o DPkg::Lock::Timeout=120 -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold kubeadm=1.31.4-1.1',
      'apt-mark hold kubeadm',
      'kubeadm version -o short',
      'kubeadm upgrade node',
      'apt-mark unhold kubelet kubectl',
      'env DEBIAN_FRONTEND=noninteractive apt-get update -o DPkg::Lock::Timeout=120 -o Dir::Etc::sourcelist=/etc/apt/sources.list.d/kubernetes.list -o Dir::Etc::sourceparts=- -o APT::Get::List-Cleanup=0',
      'env DEBIAN_FRONTEND=noninteractive apt-get install -y --allow-change-held-packages -o DPkg::Lock::Timeout=120 -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold kubelet=1.31.4-1.1 kubectl=1.31.4-1.1',
      'apt-mark hold kubelet kubectl',
      'systemctl daemon-reload',
      'systemctl restart kubelet',
    ]);
    expect(cluster.log.filter((l) => !l.endsWith('started'))).toEqual([
      'worker-1 repo-switch done',
      'worker-1 kubeadm-install done',
      'worker-1 kubeadm-upgrade done',
      'worker-1 drain',
      'worker-1 drain done',
      'worker-1 kubelet-install done',
      'worker-1 kubelet-restart done',
      'worker-1 wait-ready done',
      'worker-1 uncordon',
      'worker-1 uncordon done',
    ]);
    expect(cluster.cordoned.has('worker-1')).toBe(false);
  });
});

describe('the first control plane on a RHEL-family node', () => {
  it('uses versionlock and --disableexcludes, keeps kubeadm upgrade plan, stops kube-apiserver gracefully, applies', async () => {
    const recorder = new Recorder();
    recorder.responders.push((_node, argv) =>
      argv.join(' ') === 'yum --setopt=skip_if_unavailable=True versionlock delete kubeadm'
        ? { code: 1, stderr: 'Error: No package found for: kubeadm\n' }
        : undefined,
    );
    recorder.responders.push(nodeWorld(TARGET.version));
    recorder.responders.push((_node, argv) =>
      argv.join(' ') === 'kubeadm upgrade plan'
        ? {
            stdout:
              'COMPONENT   NODE   CURRENT    TARGET\nCoreDNS            v1.11.1    v1.11.1\n\n\tkubeadm upgrade apply v1.30.14\n\nCOMPONENT   NODE   CURRENT    TARGET\nCoreDNS            v1.11.1    v1.11.3\n\n\tkubeadm upgrade apply v1.31.4\n',
          }
        : undefined,
    );
    const cluster = new FakeCluster();
    const deps = runnerDeps(recorder, cluster, {
      target: { ...TARGET, gracefulApiserverStopMs: 20_000 },
      nodeFacts: () => ({ repoFiles: [{ path: YUM_REPO, minors: ['1.30'] }], cordonedBefore: false }),
    });
    const facts = {};
    const ok = await runNode(
      scheduled({ name: 'cp-1', role: 'control-plane', packageManager: 'yum', kubeadmAction: 'apply' }),
      deps,
      facts,
    );
    expect(ok).toBe(true);
    expect(recorder.commandsOf('cp-1')).toEqual([
      sed(YUM_REPO),
      'yum clean metadata',
      'yum --setopt=skip_if_unavailable=True versionlock delete kubeadm',
      'yum install -y --setopt=skip_if_unavailable=True kubeadm-1.31.4-150500.1.1 --disableexcludes=kubernetes',
      'yum --setopt=skip_if_unavailable=True versionlock add kubeadm',
      'kubeadm version -o short',
      'kubeadm upgrade plan',
      'killall -s SIGTERM kube-apiserver',
      'kubeadm upgrade apply v1.31.4 --yes --certificate-renewal=true --etcd-upgrade=true',
      'yum --setopt=skip_if_unavailable=True versionlock delete kubelet kubectl',
      'yum install -y --setopt=skip_if_unavailable=True kubelet-1.31.4-150500.1.1 kubectl-1.31.4-150500.1.1 --disableexcludes=kubernetes',
      'yum --setopt=skip_if_unavailable=True versionlock add kubelet kubectl',
      'systemctl daemon-reload',
      'systemctl restart kubelet',
    ]);
    expect((deps.clock as unknown as { slept: number[] }).slept).toContain(20_000);
    expect(facts).toEqual({ coreDNSTarget: 'v1.11.3' });
    expect(deps.events.some((e) => e.type === 'note' && e.detail?.includes('CoreDNS'))).toBe(true);
  });

  it('passes certificate-renewal and etcd-upgrade through to kubeadm upgrade node on the other control planes', async () => {
    const recorder = new Recorder();
    recorder.responders.push(nodeWorld(TARGET.version));
    const deps = runnerDeps(recorder, new FakeCluster(), {
      target: { ...TARGET, certificateRenewal: false, etcdUpgrade: false, gracefulApiserverStopMs: 20_000 },
    });
    const stages = STAGE_ORDER.filter((s) => s !== 'repo-switch');
    await runNode(scheduled({ name: 'cp-2', role: 'control-plane', packageManager: 'apt', kubeadmAction: 'node' }, stages), deps, {});
    const commands = recorder.commandsOf('cp-2');
    expect(commands).toContain('kubeadm upgrade node --certificate-renewal=false --etcd-upgrade=false');
    // no etcd upgrade: nothing to stop kube-apiserver for
    expect(commands.some((c) => c.startsWith('killall'))).toBe(false);
    expect(commands.some((c) => c.startsWith('sed'))).toBe(false);
  });
});

describe('a failing command', () => {
  it('stops the node at that stage, records it failed, and keeps the output tail', async () => {
    const recorder = new Recorder();
    recorder.responders.push((_n, argv) =>
      argv[1] === 'upgrade'
        ? { code: 1, stderr: '[upgrade/config] FATAL: boom\nTo see the stack trace of this error execute with --v=5 or higher\n' }
        : undefined,
    );
    recorder.responders.push(nodeWorld(TARGET.version));
    const cluster = new FakeCluster();
    const deps = runnerDeps(recorder, cluster);
    const ok = await runNode(
      scheduled(
        { name: 'worker-2', role: 'worker', packageManager: 'apt', kubeadmAction: 'node' },
        STAGE_ORDER.filter((s) => s !== 'repo-switch'),
      ),
      deps,
      {},
    );
    expect(ok).toBe(false);
    expect(recorder.commandsOf('worker-2').at(-1)).toBe('kubeadm upgrade node');
    expect(cluster.progress.get('worker-2')).toMatchObject({
      stage: 'kubeadm-upgrade',
      stageStatus: 'failed',
      doneStages: ['kubeadm-install'],
    });
    const failed = deps.events.find((e) => e.type === 'stage-failed');
    expect(failed).toMatchObject({ node: 'worker-2', stage: 'kubeadm-upgrade' });
    expect(failed && 'tail' in failed ? failed.tail : '').toContain('FATAL: boom');
    expect(cluster.log).not.toContain('worker-2 drain');
  });
});

describe('a plan that could not list package revisions', () => {
  it("pins the revision the node's repository offers for the target, read right before each install", async () => {
    const recorder = new Recorder();
    recorder.responders.push((_n, argv) =>
      argv.join(' ').startsWith('apt-cache madison')
        ? {
            stdout: ` ${argv[2]} | 1.31.5-1.1 | https://pkgs.k8s.io/core:/stable:/v1.31/deb  Packages\n ${argv[2]} | 1.31.4-1.1 | https://pkgs.k8s.io/core:/stable:/v1.31/deb  Packages\n`,
          }
        : undefined,
    );
    recorder.responders.push((_n, argv) =>
      argv.join(' ') === 'dnf list --showduplicates --setopt=skip_if_unavailable=True --disableexcludes=kubernetes kubeadm'
        ? {
            stdout:
              'Available Packages\nkubeadm.x86_64    1.31.4-150500.1.1    kubernetes\nkubeadm.x86_64    1.31.5-150500.1.1    kubernetes\n',
          }
        : undefined,
    );
    recorder.responders.push(nodeWorld(TARGET.version));
    const deps = runnerDeps(recorder, new FakeCluster(), { target: { ...TARGET, packageVersions: {} } });
    await runNode(
      scheduled({ name: 'worker-1', role: 'worker', packageManager: 'apt', kubeadmAction: 'node' }, ['kubeadm-install', 'kubelet-install']),
      deps,
      {},
    );
    expect(recorder.commandsOf('worker-1')).toEqual([
      'apt-mark unhold kubeadm',
      'env DEBIAN_FRONTEND=noninteractive apt-get update -o DPkg::Lock::Timeout=120 -o Dir::Etc::sourcelist=/etc/apt/sources.list.d/kubernetes.list -o Dir::Etc::sourceparts=- -o APT::Get::List-Cleanup=0',
      'apt-cache madison kubeadm',
      'env DEBIAN_FRONTEND=noninteractive apt-get install -y --allow-change-held-packages -o DPkg::Lock::Timeout=120 -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold kubeadm=1.31.4-1.1',
      'apt-mark hold kubeadm',
      'kubeadm version -o short',
      'apt-mark unhold kubelet kubectl',
      'env DEBIAN_FRONTEND=noninteractive apt-get update -o DPkg::Lock::Timeout=120 -o Dir::Etc::sourcelist=/etc/apt/sources.list.d/kubernetes.list -o Dir::Etc::sourceparts=- -o APT::Get::List-Cleanup=0',
      'apt-cache madison kubelet',
      'env DEBIAN_FRONTEND=noninteractive apt-get install -y --allow-change-held-packages -o DPkg::Lock::Timeout=120 -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold kubelet=1.31.4-1.1 kubectl=1.31.4-1.1',
      'apt-mark hold kubelet kubectl',
    ]);
    await runNode(
      scheduled({ name: 'worker-2', role: 'worker', packageManager: 'dnf', kubeadmAction: 'node' }, ['kubeadm-install']),
      deps,
      {},
    );
    expect(recorder.commandsOf('worker-2')).toContain(
      'dnf install -y --setopt=skip_if_unavailable=True kubeadm-1.31.4-150500.1.1 --disableexcludes=kubernetes',
    );
  });
});

describe('a node the operator had cordoned before the run', () => {
  it('is drained and upgraded, recorded as fenced, and left cordoned: the report says why', async () => {
    const recorder = new Recorder();
    recorder.responders.push(nodeWorld(TARGET.version));
    const cluster = new FakeCluster();
    cluster.cordoned.add('worker-3');
    const deps = runnerDeps(recorder, cluster, {
      nodeFacts: () => ({ repoFiles: [{ path: APT_LIST, minors: ['1.31'] }], cordonedBefore: true }),
    });
    const ok = await runNode(
      scheduled(
        { name: 'worker-3', role: 'worker', packageManager: 'apt', kubeadmAction: 'node' },
        STAGE_ORDER.filter((s) => s !== 'repo-switch'),
      ),
      deps,
      {},
    );
    expect(ok).toBe(true);
    expect(cluster.log).not.toContain('worker-3 uncordon');
    expect(cluster.cordoned.has('worker-3')).toBe(true);
    expect(cluster.fenced).toEqual(['worker-3@1.31.4']);
    const last = deps.events.filter((e) => e.type === 'cordon').at(-1);
    expect(last).toMatchObject({ cordoned: true, reason: expect.stringMatching(/cordoned before the run/) });
  });
});
