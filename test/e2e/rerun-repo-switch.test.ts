// A plain re-run after an interrupted repository switch, through the bundle on one simulated 1 + 4 cluster (mixed:
// cp-1, worker-2 and worker-4 Debian; worker-1 and worker-3 EL). Each interruption leaves a node whose repository
// file already names the target minor while its package lists (apt) or metadata cache (dnf) still know only the
// old one:
// - cp-1 (`control-plane`): `apt-get update` fails after the switch, so kubeadm is left unheld (apt-mark unhold ran,
//   the install did not);
// - worker-1 (EL) and worker-2 (Debian): the SSH connection drops during the repository write, every time;
// - worker-3 (EL) and worker-4 (Debian): the Action is killed (SIGKILL) right after their repository write.
// Each re-run is plain (same inputs, no fault): it must plan the target, converge, and leave every package held.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { copyFileSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { startCluster, type SimCluster } from '../../sim/index.ts';
import { buildBundle, runAction, type ActionResult } from '../support/action-runner.ts';
import { nodeLog, upgradeInputs } from './upgrade-helpers.ts';

let cluster: SimCluster;
let cpFailed: ActionResult;
let cpHoldsAfterFailure: string[];
let cpRerun: ActionResult;
let workersKilled: ActionResult;
let workersRerun: ActionResult;
let repoMinorsAfterKill: Record<string, string | null>;

/** The pid of the process running this bundle copy (a process this test started). */
function pidOf(bundle: string): number | undefined {
  for (const entry of readdirSync('/proc').filter((e) => /^\d+$/.test(e))) {
    try {
      if (readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0').includes(bundle)) return Number(entry);
    } catch {
      // gone meanwhile
    }
  }
  return undefined;
}

/** The plan's refusal for want of a published target patch (the lines only: stdout also carries masked secrets). */
const noPatch = (result: ActionResult) => result.stdout.split('\n').filter((l) => /no 1\.31 patch is published/.test(l));

/** Whether the run's log says it refreshes `node`'s stale package metadata (the repo-switch stage's line). */
const saidStale = (result: ActionResult, node: string) =>
  result.stdout.includes(`${node}: the package metadata predates the switch to v1.31`);

const SED = /(^|\s)sed -i /;
/** How often the node received the repository rewrite. */
const rewrites = (node: string) => nodeLog(cluster, node).filter((e) => SED.test(e.line)).length;
/** Whether the node received a command matching `next` after its repository rewrite (the switch is over). */
const pastRewrite = (node: string, next: RegExp) => {
  const lines = nodeLog(cluster, node).map((e) => e.line);
  const at = lines.findIndex((l) => SED.test(l));
  return at >= 0 && lines.slice(at + 1).some((l) => next.test(l));
};

beforeAll(async () => {
  const built = await buildBundle();
  const copy = join(mkdtempSync(join(tmpdir(), 'kua-kill-')), 'index.js');
  copyFileSync(built, copy);
  copyFileSync(join(dirname(built), 'package.json'), join(dirname(copy), 'package.json'));
  cluster = await startCluster({ controlPlanes: 1, workers: 4, version: '1.30.5', os: 'mixed' });
  const inputs = upgradeInputs(cluster, { 'max-unavailable': '4', 'node-ready-timeout': '60s' });

  cluster.setFaults([{ type: 'command-fails', node: 'cp-1', match: 'apt-get update', stderr: 'E: Failed to fetch https://pkgs.k8s.io/' }]);
  cpFailed = await runAction(
    { ...inputs, command: 'control-plane' },
    { bundle: built, env: { GITHUB_RUN_ID: '9101' }, timeoutMs: 300_000 },
  );
  cpHoldsAfterFailure = (await cluster.status()).nodes.find((n) => n.name === 'cp-1')!.holds;
  cluster.setFaults([]);
  cpRerun = await runAction({ ...inputs, command: 'control-plane' }, { bundle: built, env: { GITHUB_RUN_ID: '9102' }, timeoutMs: 300_000 });

  cluster.setFaults([
    { type: 'ssh-drop', node: 'worker-1', match: 'sed -i' },
    { type: 'ssh-drop', node: 'worker-2', match: 'sed -i' },
  ]);
  let ended = false;
  const running = runAction(inputs, { bundle: copy, env: { GITHUB_RUN_ID: '9103' }, timeoutMs: 600_000 }).finally(() => {
    ended = true;
  });
  // the dropped connections: the rewrite ran, and ran again on reconnect; the kill: right after the rewrite, as
  // the next command (apt-mark unhold, dnf clean metadata) arrives, before any refresh of the package lists
  const switched = () =>
    rewrites('worker-1') >= 2 &&
    rewrites('worker-2') >= 2 &&
    pastRewrite('worker-3', /(^|\s)dnf /) &&
    pastRewrite('worker-4', /(^|\s)apt-/);
  for (let i = 0; i < 6000 && !ended && !switched(); i++) await sleep(25);
  const pid = pidOf(copy);
  if (pid) process.kill(pid, 'SIGKILL');
  workersKilled = await running;
  repoMinorsAfterKill = Object.fromEntries((await cluster.status()).nodes.map((n) => [n.name, n.repoMinor]));
  cluster.setFaults([]);
  workersRerun = await runAction(inputs, { bundle: built, env: { GITHUB_RUN_ID: '9103', GITHUB_RUN_ATTEMPT: '2' }, timeoutMs: 600_000 });
}, 1_500_000);

afterAll(async () => {
  await cluster?.stop();
});

describe('a plain re-run after an interrupted repository switch', () => {
  it('cp-1: the failed apt-get update after the switch fails the run and leaves kubeadm unheld', () => {
    expect(cpFailed.exitCode).toBe(1);
    expect(cpFailed.summary).toMatch(/\*\*cp-1\*\* failed at \*\*kubeadm-install\*\*/);
    expect(cpHoldsAfterFailure).not.toContain('kubeadm');
  });

  it('cp-1: the re-run plans the target, says it refreshes the stale lists, and converges with every package held', async () => {
    expect(cpRerun.exitCode, cpRerun.stdout.slice(-3000)).toBe(0);
    expect(noPatch(cpRerun)).toEqual([]);
    const cp = (await cluster.status()).nodes.find((n) => n.name === 'cp-1')!;
    expect(cp.kubeletVersion).toMatch(/^v1\.31\./);
    expect([...cp.holds].sort()).toEqual(['kubeadm', 'kubectl', 'kubelet']);
  });

  it('workers: the interrupted run rewrote every repository file and finished no worker', () => {
    expect(workersKilled.exitCode).not.toBe(0);
    expect(repoMinorsAfterKill).toMatchObject({ 'worker-1': '1.31', 'worker-2': '1.31', 'worker-3': '1.31', 'worker-4': '1.31' });
  });

  it('workers: the plain re-run plans the target and upgrades every worker, packages held', async () => {
    expect(workersRerun.exitCode, workersRerun.stdout.slice(-3000)).toBe(0);
    expect(noPatch(workersRerun)).toEqual([]);
    // worker-2 (Debian) never finished its repo-switch: the re-run runs it again, to refresh what predates the rewrite
    // (EL's dnf keys its cache by the baseurl, so it reads the new minor afresh; worker-4's repo-switch had finished,
    // and its install's apt-get update refreshes the lists)
    expect(saidStale(workersRerun, 'worker-2')).toBe(true);
    const target = (JSON.parse(workersRerun.outputs.result!) as { target: string }).target;
    for (const node of (await cluster.status()).nodes) {
      expect(node.kubeletVersion, node.name).toBe(`v${target}`);
      expect(node.cordoned, node.name).toBe(false);
      expect([...node.holds].sort(), node.name).toEqual(['kubeadm', 'kubectl', 'kubelet']);
    }
  });
});
