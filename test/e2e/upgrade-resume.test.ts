// The Action killed (SIGKILL) in the middle of a worker batch, then run again (a re-run attempt): it takes the
// stale lock over, resumes the interrupted nodes from their first stage not done, and finished nodes see no
// second upgrade (their command logs show no changing command after the kill).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { copyFileSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { startCluster, type SimCluster } from '../../sim/index.ts';
import { buildBundle, runAction, type ActionResult } from '../support/action-runner.ts';
import { changingCommands, nodeLog, upgradeInputs } from './upgrade-helpers.ts';

const PREFIX = 'upgrade.kubeadm-upgrade-action.io/';
let cluster: SimCluster;
let killedAt: string;
let finishedBeforeKill: string[];
let killed: ActionResult;
let rerun: ActionResult;

function annotations(): Record<string, Record<string, string>> {
  const out = execFileSync('/usr/bin/kubectl', ['--kubeconfig', cluster.kubeconfigPath, 'get', 'nodes', '-o', 'json'], {
    encoding: 'utf8',
  });
  const list = JSON.parse(out) as { items: { metadata: { name: string; annotations?: Record<string, string> } }[] };
  return Object.fromEntries(list.items.map((n) => [n.metadata.name, n.metadata.annotations ?? {}]));
}

const doneStages = (a: Record<string, string>) => (a[`${PREFIX}done-stages`] ?? '').split(',').filter(Boolean);

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

beforeAll(async () => {
  const built = await buildBundle();
  const copy = join(mkdtempSync(join(tmpdir(), 'kua-kill-')), 'index.js');
  copyFileSync(built, copy);
  copyFileSync(join(dirname(built), 'package.json'), join(dirname(copy), 'package.json'));
  cluster = await startCluster({ controlPlanes: 3, workers: 6, version: '1.30.5', workload: 'demo', os: 'debian' });
  const inputs = upgradeInputs(cluster);
  const running = runAction(inputs, { bundle: copy, env: { GITHUB_RUN_ID: '3003' }, timeoutMs: 600_000 });
  // kill once a worker of the first batch has its new kubelet installed: the batch is mid-way
  for (let i = 0; i < 3000; i++) {
    const state = annotations();
    if (Object.entries(state).some(([name, a]) => name.startsWith('worker-') && doneStages(a).includes('kubelet-install'))) break;
    await sleep(200);
  }
  const pid = pidOf(copy);
  if (pid) process.kill(pid, 'SIGKILL');
  killedAt = new Date().toISOString();
  killed = await running;
  finishedBeforeKill = Object.entries(annotations())
    .filter(([, a]) => doneStages(a).includes('uncordon'))
    .map(([name]) => name);
  rerun = await runAction(inputs, { bundle: built, env: { GITHUB_RUN_ID: '3003', GITHUB_RUN_ATTEMPT: '2' }, timeoutMs: 600_000 });
}, 1_200_000);

afterAll(async () => {
  await cluster?.stop();
});

describe('an upgrade killed mid worker batch, then run again', () => {
  it('was killed with workers of the batch unfinished', () => {
    expect(killed.exitCode).not.toBe(0);
    expect(finishedBeforeKill).toEqual(expect.arrayContaining(['cp-1', 'cp-2', 'cp-3']));
    expect(finishedBeforeKill.filter((n) => n.startsWith('worker-')).length).toBeLessThan(6);
  });

  it('completes on the re-run: every node at the target, none cordoned', async () => {
    expect(rerun.exitCode, rerun.stdout.slice(-3000)).toBe(0);
    const target = (JSON.parse(rerun.outputs.result!) as { target: string }).target;
    for (const node of (await cluster.status()).nodes) {
      expect(node.kubeletVersion, node.name).toBe(`v${target}`);
      expect(node.cordoned, node.name).toBe(false);
    }
  });

  it('gives finished nodes no second upgrade and resumes the interrupted ones', () => {
    for (const node of finishedBeforeKill) {
      const after = nodeLog(cluster, node).filter((c) => c.time > killedAt);
      expect(changingCommands(after), node).toEqual([]);
    }
    const upgraded = JSON.parse(rerun.outputs['upgraded-nodes']!) as string[];
    expect(upgraded.some((n) => finishedBeforeKill.includes(n))).toBe(false);
    expect(rerun.summary).toMatch(/resumed; done by an earlier run: [a-z-]+/);
    expect(rerun.summary).toMatch(/upgraded to 1\.31\.\d+ by an earlier run/);
  });

  it("takes over the killed attempt's lock and says so", () => {
    expect(rerun.summary).toMatch(/took over the cluster lock from octo-org\/clusters run 3003 attempt 1/);
  });
});
