// The failures only real package managers produce, through the built bundle as the runner runs it, on a cluster
// whose nodes run the real apt/dpkg and dnf/rpm against the simulated pkgs.k8s.io:
// - a node whose mirror lacks the target revision: the plan refuses, naming the node;
// - an unrelated repository that fails (apt and dnf): the Kubernetes install still works;
// - a configuration file the operator changed: no conffile prompt, the node keeps its version;
// - packages the operator held or versionlocked by hand: still held afterwards;
// - an EL node without dnf's versionlock plugin: the repository's exclude= keeps the packages;
// - the dpkg lock held by another process: the upgrade waits for it; during the rollback (a downgrade) it is
//   never released, and the rollback fails after package-lock-timeout naming the process, then succeeds on a
//   re-run once it is gone.
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { startCluster, type SimCluster } from '../../sim/index.ts';
import { runOnNode } from '../backup/sim-helpers.ts';
import { runAction, type ActionResult } from '../support/action-runner.ts';
import { logGroups, sshCommands, upgradeInputs } from './upgrade-helpers.ts';

/** Holds the dpkg frontend lock as unattended-upgrades would (fcntl, as apt and dpkg lock), for $2 seconds. */
const HOLD_LOCK = [
  'use Fcntl qw(F_SETLKW F_WRLCK SEEK_SET O_RDWR O_CREAT);',
  "$0 = 'unattended-upgr';",
  'sysopen(my $fh, $ARGV[0], O_RDWR|O_CREAT, 0640) or die "open: $!";',
  // struct flock on x86_64 Linux; fcntl writes it back, so it must be a variable
  "my $lock = pack('s s x4 q q l x4', F_WRLCK, SEEK_SET, 0, 0, 0);",
  'fcntl($fh, F_SETLKW, $lock) or die "fcntl: $!";',
  "open(my $ready, '>', '/var/tmp/hold-lock.ready') or die \"ready: $!\";",
  'close($ready);',
  'sleep($ARGV[1]);',
].join('\n');

let cluster: SimCluster;
let upgrade: ActionResult;

const onNode = (name: string, argv: string[], stdin?: string): Promise<string> => runOnNode(cluster, name, argv, stdin);

/** Starts the lock holder on the node; resolves to its pid (on the node, which shares the host's pid space). */
async function holdDpkgLock(node: string, seconds: number): Promise<number> {
  await onNode(node, ['sh', '-c', 'rm -f /var/tmp/hold-lock.ready; cat > /var/tmp/hold-lock.pl'], HOLD_LOCK);
  const pid = await onNode(node, [
    'sh',
    '-c',
    `nohup perl /var/tmp/hold-lock.pl /var/lib/dpkg/lock-frontend ${seconds} >/dev/null 2>&1 & echo $!`,
  ]);
  for (let i = 0; i < 100; i++) {
    if ((await onNode(node, ['sh', '-c', 'test -e /var/tmp/hold-lock.ready && echo held; true'])).includes('held'))
      return Number(pid.trim());
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`the lock holder on ${node} did not take the dpkg lock`);
}

function tail(result: ActionResult): string {
  return result.stdout
    .split('\n')
    .filter((l) => !l.startsWith('::add-mask::'))
    .join('\n')
    .slice(-5000);
}

const stageLog = (result: ActionResult, node: string): string =>
  logGroups(result.stdout)
    .filter((g) => g.title.includes(node))
    .flatMap((g) => g.lines)
    .join('\n');

beforeAll(async () => {
  cluster = await startCluster({
    controlPlanes: 1,
    workers: 3,
    version: '1.30.5',
    os: 'mixed',
    withoutVersionlock: ['worker-3'],
    // worker-3's pkgs.k8s.io is a mirror that stopped at 1.31.12
    mirrors: [{ nodes: ['worker-3'], published: ['1.30.5', ...Array.from({ length: 13 }, (_, i) => `1.31.${i}`)] }],
  });
  // the operator's own kubelet settings, and packages held by hand (before the broken repository: dnf would refuse)
  await onNode('worker-2', ['sh', '-c', 'echo "KUBELET_EXTRA_ARGS=--node-labels=team=ops" > /etc/default/kubelet']);
  await onNode('worker-2', ['apt-mark', 'hold', 'kubernetes-cni']);
  await onNode('worker-1', ['dnf', 'versionlock', 'add', 'cri-tools']);
  // an unrelated repository that fails on every refresh, on a Debian and on an EL node
  await onNode('cp-1', ['sh', '-c', 'echo "deb https://pkgs.k8s.io/no-such-repository/deb/ /" > /etc/apt/sources.list.d/broken.list']);
  await onNode('worker-1', [
    'sh',
    '-c',
    'printf "[broken]\\nname=broken\\nbaseurl=https://pkgs.k8s.io/no-such-repository/rpm/\\nenabled=1\\ngpgcheck=0\\n" > /etc/yum.repos.d/broken.repo',
  ]);
}, 240_000);

afterAll(async () => {
  await cluster?.stop();
});

describe('real package managers', () => {
  test("the plan refuses a target the node's mirror does not publish, naming the node", async () => {
    const plan = await runAction(upgradeInputs(cluster, { command: 'plan', 'target-version': '1.31.13' }), {
      env: { GITHUB_RUN_ID: '9101' },
      timeoutMs: 300_000,
    });
    expect(plan.exitCode, tail(plan)).not.toBe(0);
    expect(plan.stdout).toMatch(/worker-3[^\n]*1\.31\.13|1\.31\.13[^\n]*worker-3/);
    expect(sshCommands(cluster, 'worker-3').some((c) => c.includes('apt-get install') || c.includes('dnf install'))).toBe(false);
  }, 300_000);

  test('the upgrade waits for the dpkg lock, ignores the broken repositories and keeps what the operator did', async () => {
    const holder = await holdDpkgLock('worker-2', 600);
    const running = runAction(upgradeInputs(cluster, { 'target-version': '1.31.12', 'max-unavailable': '1' }), {
      env: { GITHUB_RUN_ID: '9102' },
      timeoutMs: 600_000,
    });
    // release the lock once an apt command on worker-2 is waiting for it (or once the run is over)
    let over = false;
    void running.finally(() => {
      over = true;
    });
    const released = (async () => {
      while (!over && !sshCommands(cluster, 'worker-2').some((c) => c.startsWith('apt-mark unhold'))) {
        await new Promise((r) => setTimeout(r, 200));
      }
      if (!over) await new Promise((r) => setTimeout(r, 5000));
      process.kill(holder, 'SIGTERM');
    })();
    upgrade = await running;
    await released;
    expect(upgrade.exitCode, tail(upgrade)).toBe(0);
    // apt-mark (dpkg --set-selections) does not wait for the lock: it was run again until the holder let go
    const log = stageLog(upgrade, 'worker-2');
    expect(log).toContain(`dpkg frontend lock was locked by another process with pid ${holder}`);
    expect(log).toMatch(/another process holds the lock; trying again in 2 s, for up to 120 s/);

    const status = await cluster.status();
    for (const node of status.nodes) {
      expect(node.packages, node.name).toEqual({ kubeadm: '1.31.12', kubelet: '1.31.12', kubectl: '1.31.12' });
      expect(node.kubeletVersion, node.name).toBe('v1.31.12');
    }
    // no prompt, and the operator's settings stay; the package's version is left beside them
    expect(await onNode('worker-2', ['cat', '/etc/default/kubelet'])).toBe('KUBELET_EXTRA_ARGS=--node-labels=team=ops\n');
    expect(await onNode('worker-2', ['sh', '-c', 'ls /etc/default/kubelet.dpkg-dist'])).toContain('kubelet.dpkg-dist');
    // held and locked by hand before the run: still so
    expect(await onNode('worker-2', ['apt-mark', 'showhold'])).toContain('kubernetes-cni');
    expect(await onNode('worker-1', ['cat', '/etc/dnf/plugins/versionlock.list'])).toContain('cri-tools');
    // the EL node without the versionlock plugin: its repository's exclude= still hides the packages from updates
    expect(status.nodes.find((n) => n.name === 'worker-3')?.holds).toEqual([]);
    expect(await onNode('worker-3', ['cat', '/etc/yum.repos.d/kubernetes.repo'])).toContain(
      'exclude=kubelet kubeadm kubectl cri-tools kubernetes-cni',
    );
    // the broken repositories are still configured: nothing of the operator's was removed
    expect(await onNode('cp-1', ['cat', '/etc/apt/sources.list.d/broken.list'])).toContain('no-such-repository');
  }, 600_000);

  test('a rollback whose dpkg lock is never released fails naming the holder, then succeeds once it is gone', async () => {
    const { command: _, 'target-version': __, ...access } = upgradeInputs(cluster);
    const inputs = {
      ...access,
      command: 'rollback',
      'confirm-rollback': 'sim',
      'rollback-source': upgrade.outputs['backup-id'] ?? '',
      'package-lock-timeout': '3s',
    };
    // on a worker: the rollback gets there after the control plane is whole again
    const holder = await holdDpkgLock('worker-2', 600);
    const refused = await runAction(inputs, { env: { GITHUB_RUN_ID: '9103' }, timeoutMs: 600_000 });
    expect(refused.exitCode).not.toBe(0);
    const line = refused.stdout.split('\n').find((l) => l.includes('lock-frontend is held by')) ?? '';
    // apt-get names the process; apt-mark (dpkg --set-selections) gives only its pid
    expect(line, tail(refused)).toMatch(
      new RegExp(
        `/var/lib/dpkg/lock-frontend is held by process ${holder}( \\(unattended-upgr\\))? and was not released within 3s \\(package-lock-timeout\\)`,
      ),
    );
    expect(line).toContain('worker-2');
    process.kill(holder, 'SIGTERM');
    const rollback = await runAction(inputs, { env: { GITHUB_RUN_ID: '9104' }, timeoutMs: 600_000 });
    expect(rollback.exitCode, tail(rollback)).toBe(0);
    for (const node of (await cluster.status()).nodes) {
      expect(node.packages, node.name).toEqual({ kubeadm: '1.30.5', kubelet: '1.30.5', kubectl: '1.30.5' });
      expect(node.ready, node.name).toBe(true);
    }
  }, 900_000);
});
