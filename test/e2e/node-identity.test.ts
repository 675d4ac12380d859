// The machine at an inventory address must be the Node of that name (issue #10, item 1): with two nodes' addresses
// swapped in the inventory, plan is blocked naming both names and the address, and upgrade refuses before the
// lock, the backup or any stage, so no changing command reaches any node. One cluster for the file: nothing here
// changes it, and each case rewrites only the inventory.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import type { Plan } from '../../src/core/plan-types.ts';
import { startCluster, type SimCluster } from '../../sim/index.ts';
import { buildBundle, runAction, type ActionResult } from '../support/action-runner.ts';
import { changingCommands, nodeLog, upgradeInputs } from './upgrade-helpers.ts';

const NODES = ['cp-1', 'cp-2', 'worker-1', 'worker-2'];
let bundle: string;
let cluster: SimCluster;
beforeAll(async () => {
  bundle = await buildBundle();
  // logging in as ops (passwordless sudo): kubelet.conf and the certificate file are root's, read through sudo -n
  cluster = await startCluster({ controlPlanes: 2, workers: 2, version: '1.30.5', workload: 'none', os: 'debian', loginUser: 'ops' });
}, 300_000);
afterAll(async () => {
  await cluster?.stop();
});

/** The simulator's inventory with the addresses of nodes `a` and `b` exchanged (names, roles and ports kept). */
function swapped(a: string, b: string): { inventory: string; addressOf: Record<string, string> } {
  const text = readFileSync(cluster.inventoryPath, 'utf8');
  const addressOf: Record<string, string> = {};
  for (const m of text.matchAll(/name: ([\w-]+), address: ([\d.]+)/g)) addressOf[m[1]!] = m[2]!;
  const inventory = text.replace(/name: ([\w-]+), address: ([\d.]+)/g, (whole, name: string) => {
    if (name === a) return `name: ${a}, address: ${addressOf[b]}`;
    if (name === b) return `name: ${b}, address: ${addressOf[a]}`;
    return whole;
  });
  expect(inventory).not.toBe(text);
  return { inventory, addressOf };
}

const escaped = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

describe.each([
  ['two control planes', 'cp-1', 'cp-2'],
  ['two workers', 'worker-1', 'worker-2'],
])('%s swapped in the inventory', (_title, a, b) => {
  let planned: ActionResult;
  let upgraded: ActionResult;
  let rolledBack: ActionResult | undefined;
  let backedUp: ActionResult | undefined;
  let addressOf: Record<string, string>;
  beforeAll(async () => {
    const swap = swapped(a, b);
    addressOf = swap.addressOf;
    const inputs = upgradeInputs(cluster, { inventory: swap.inventory });
    planned = await runAction({ ...inputs, command: 'plan' }, { bundle, timeoutMs: 300_000 });
    upgraded = await runAction(inputs, { bundle, timeoutMs: 300_000 });
    // rollback and backup start with no plan (the API may be down): they prove the machines by their certificates
    if (a.startsWith('cp-')) {
      rolledBack = await runAction({ ...inputs, command: 'rollback', 'confirm-rollback': 'sim' }, { bundle, timeoutMs: 300_000 });
      backedUp = await runAction({ ...inputs, command: 'backup' }, { bundle, timeoutMs: 300_000 });
    }
  }, 600_000);

  it('plan is blocked, naming the inventory entry, the address, the Node the machine is, and the fix', () => {
    expect(planned.exitCode, planned.stdout.slice(-3000)).toBe(1);
    const plan = JSON.parse(planned.outputs.plan ?? '{}') as Plan;
    expect(plan.verdict).toBe('blocked');
    const blocker = plan.blockers.find((x) => x.id === 'node-identity');
    expect(blocker, JSON.stringify(plan.blockers)).toBeDefined();
    // both directions: a's entry reaches b's machine, and b's entry reaches a's
    for (const [entry, machine] of [
      [a, b],
      [b, a],
    ] as const) {
      expect(blocker!.message).toMatch(new RegExp(`${entry}\\b[^;]*${escaped(addressOf[machine]!)}[^;]*\\b${machine}\\b`));
    }
    expect(blocker!.message).toMatch(/correct the address/i);
    // proven by the kubelet's certificate in both forms kubeadm leaves: inline on the first control plane, the
    // rotated certificate's file on a joined node
    const form = (node: string) =>
      node === 'cp-1' ? '/etc/kubernetes/kubelet.conf (client-certificate-data)' : '/var/lib/kubelet/pki/kubelet-client-current.pem';
    for (const machine of [a, b])
      expect(blocker!.message).toContain(`its kubelet client certificate (${form(machine)}) is CN=system:node:${machine}`);
  });

  it('upgrade refuses, and no node received a changing command', () => {
    expect(upgraded.exitCode, upgraded.stdout.slice(-3000)).toBe(1);
    expect(upgraded.outputs.outcome).toBe('refused');
    // the refusal names both names (the plan's blocker, repeated in the log)
    expect(upgraded.stdout).toMatch(new RegExp(`${a}\\b[^;]*reaches Node ${b}\\b`));
    for (const node of NODES) expect(changingCommands(nodeLog(cluster, node)), node).toEqual([]);
  });

  it.runIf(a.startsWith('cp-'))('rollback refuses before anything changes, naming both names and the fix', () => {
    expect(rolledBack!.exitCode, rolledBack!.stdout.slice(-3000)).toBe(1);
    expect(rolledBack!.stdout).toMatch(new RegExp(`${a}\\b[^;]*reaches Node ${b}\\b`));
    expect(rolledBack!.stdout).toMatch(/correct the address/i);
    for (const node of NODES) expect(changingCommands(nodeLog(cluster, node)), node).toEqual([]);
  });

  it.runIf(a.startsWith('cp-'))("backup refuses before anything is written, so no node's files are recorded as another's", () => {
    expect(backedUp!.exitCode, backedUp!.stdout.slice(-3000)).toBe(1);
    expect(backedUp!.stdout).toMatch(new RegExp(`${a}\\b[^;]*reaches Node ${b}\\b`));
    for (const node of NODES) expect(changingCommands(nodeLog(cluster, node)), node).toEqual([]);
  });
});
