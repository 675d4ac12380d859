// A plain re-run after an interrupted drain, through the bundle on a simulated 1 + 2 cluster with the demo
// workload. The `pdb-blocks` fault holds worker-1's drain (every eviction of web-pdb's pods answers 429) and the
// Action is killed (SIGKILL) while it waits: worker-1 stays cordoned, by this Action, with its drain unfinished.
// The re-run (no fault, same inputs) must count that cordon as its own — the forecast does not hold it against
// worker-2's batch ("no room for the evicted pods"), the drain does not take it for an operator's fence — and
// finish with every node upgraded and schedulable. An operator's cordon stays the operator's (unit tests).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { copyFileSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { startCluster, type SimCluster } from '../../sim/index.ts';
import { buildBundle, runAction, type ActionResult } from '../support/action-runner.ts';
import { upgradeInputs } from './upgrade-helpers.ts';

const PREFIX = 'upgrade.kubeadm-upgrade-action.io/';
let cluster: SimCluster;
let killed: ActionResult;
let cordonedAfterKill: Record<string, boolean | null>;
let markedAfterKill: string[];
let rerun: ActionResult;

interface NodeObject {
  metadata: { name: string; annotations?: Record<string, string> };
  spec?: { unschedulable?: boolean };
}

function nodes(): NodeObject[] {
  const out = execFileSync('/usr/bin/kubectl', ['--kubeconfig', cluster.kubeconfigPath, 'get', 'nodes', '-o', 'json'], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return (JSON.parse(out) as { items: NodeObject[] }).items;
}

/** The nodes, or none while the API server restarts (kubeadm upgrade apply on the only control plane). */
function nodesIfUp(): NodeObject[] {
  try {
    return nodes();
  } catch {
    return [];
  }
}

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

const draining = (n: NodeObject | undefined) =>
  n?.spec?.unschedulable === true &&
  n.metadata.annotations?.[`${PREFIX}stage`] === 'drain' &&
  n.metadata.annotations[`${PREFIX}stage-status`] === 'started';

beforeAll(async () => {
  const built = await buildBundle();
  const copy = join(mkdtempSync(join(tmpdir(), 'kua-kill-')), 'index.js');
  copyFileSync(built, copy);
  copyFileSync(join(dirname(built), 'package.json'), join(dirname(copy), 'package.json'));
  cluster = await startCluster({ controlPlanes: 1, workers: 2, version: '1.30.5', os: 'debian', workload: 'demo' });
  cluster.setFaults([{ type: 'pdb-blocks', namespace: 'demo', name: 'web-pdb' }]);
  const inputs = upgradeInputs(cluster, { 'max-unavailable': '1', 'drain-timeout': '5m', 'node-ready-timeout': '60s' });
  const running = runAction(inputs, { bundle: copy, env: { GITHUB_RUN_ID: '9201' }, timeoutMs: 600_000 });
  for (let i = 0; i < 3000 && !draining(nodesIfUp().find((n) => n.metadata.name === 'worker-1')); i++) await sleep(100);
  await sleep(2000); // evictions refused meanwhile: the drain waits for the budget
  const pid = pidOf(copy);
  if (pid) process.kill(pid, 'SIGKILL');
  killed = await running;
  cordonedAfterKill = Object.fromEntries((await cluster.status()).nodes.map((n) => [n.name, n.cordoned]));
  markedAfterKill = nodes()
    .filter((n) => n.metadata.annotations?.[`${PREFIX}cordoned-by-upgrade`] !== undefined)
    .map((n) => n.metadata.name);
  cluster.setFaults([]);
  rerun = await runAction(inputs, { bundle: built, env: { GITHUB_RUN_ID: '9201', GITHUB_RUN_ATTEMPT: '2' }, timeoutMs: 600_000 });
}, 1_200_000);

afterAll(async () => {
  await cluster?.stop();
});

describe('a plain re-run after an interrupted drain', () => {
  it("was killed during worker-1's drain, leaving it cordoned", () => {
    expect(killed.exitCode).not.toBe(0);
    expect(cordonedAfterKill).toEqual({ 'cp-1': false, 'worker-1': true, 'worker-2': false });
    // recorded as this Action's cordon by the cordon's own PATCH, before any pod was evicted
    expect(markedAfterKill).toEqual(['worker-1']);
  });

  it('the re-run does not hold its own cordon against the forecast, and finishes', async () => {
    expect(rerun.stdout.split('\n').filter((l) => /no room for the evicted pods/.test(l))).toEqual([]);
    expect(rerun.exitCode, rerun.stdout.slice(-3000)).toBe(0);
    const target = (JSON.parse(rerun.outputs.result!) as { target: string }).target;
    for (const node of (await cluster.status()).nodes) {
      expect(node.kubeletVersion, node.name).toBe(`v${target}`);
      expect(node.cordoned, node.name).toBe(false);
    }
  });

  it("the re-run does not take its own cordon for an operator's fence", () => {
    expect(rerun.summary).not.toMatch(/cordoned before the run/);
    expect(rerun.summary).toMatch(/\| worker-1 \| worker \| 0 \| ✅ upgraded \| .*drain /);
    for (const n of nodes()) {
      expect(n.metadata.annotations?.[`${PREFIX}cordoned-before`], n.metadata.name).toBeUndefined();
      // the cordon mark goes with the uncordon
      expect(n.metadata.annotations?.[`${PREFIX}cordoned-by-upgrade`], n.metadata.name).toBeUndefined();
    }
  });
});
