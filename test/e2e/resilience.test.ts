// A dropped SSH connection mid-stage, through the bundle on a simulated 1 + 2 cluster: on worker-1 the
// connection drops during `apt-get install` (idempotent: the session reconnects and runs it again, the node
// finishes); on worker-2 it drops during `kubeadm upgrade node` (not re-run automatically: the stage fails, the
// report says where each node stands), and a second run resumes worker-2 at that stage and completes.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { startCluster, type SimCluster } from '../../sim/index.ts';
import { buildBundle, runAction, type ActionResult } from '../support/action-runner.ts';
import { commandLog, logGroups, upgradeInputs } from './upgrade-helpers.ts';

let cluster: SimCluster;
let first: ActionResult;
let second: ActionResult;
/** worker-2's SSH commands when the first run had finished */
let worker2AfterFirst: { command: string; fault?: string }[];

/** The SSH commands a node received (forced-command's entries), with the fault applied to each, if any. */
function sshCommands(node: string): { command: string; fault?: string }[] {
  const lines = readFileSync(join(cluster.dir, 'nodes', node, 'commands.log'), 'utf8')
    .split('\n')
    .filter(Boolean);
  return lines.map((l) => JSON.parse(l) as { via?: string; command: string; fault?: string }).filter((e) => e.via === 'ssh');
}

interface RecordNode {
  name: string;
  status: string;
  stages: { name: string; status: string; message?: string }[];
}
const nodesOf = (result: ActionResult) => (JSON.parse(result.outputs.result!) as { nodes: RecordNode[] }).nodes;

beforeAll(async () => {
  let bundle: string;
  [bundle, cluster] = await Promise.all([buildBundle(), startCluster({ controlPlanes: 1, workers: 2, version: '1.30.5', os: 'debian' })]);
  cluster.setFaults([
    { type: 'ssh-drop', node: 'worker-1', match: 'apt-get install', times: 1 },
    { type: 'ssh-drop', node: 'worker-2', match: 'kubeadm upgrade node', times: 1 },
  ]);
  const inputs = upgradeInputs(cluster, { 'max-unavailable': '1', 'drain-timeout': '30s', 'node-ready-timeout': '60s' });
  first = await runAction(inputs, { bundle, env: { GITHUB_RUN_ID: '6001' }, timeoutMs: 300_000 });
  worker2AfterFirst = sshCommands('worker-2');
  second = await runAction(inputs, { bundle, env: { GITHUB_RUN_ID: '6002' }, timeoutMs: 300_000 });
}, 900_000);

afterAll(async () => {
  await cluster?.stop();
});

describe('an SSH connection dropped mid-stage', () => {
  it('during apt-get install: reconnects, runs the install again and finishes the node', () => {
    const installs = sshCommands('worker-1').filter((e) => e.command.includes('apt-get install'));
    expect(installs[0]!.fault).toBe('ssh-drop');
    // the dropped install was run again over a new connection, and every install after it went through
    expect(installs.length).toBeGreaterThanOrEqual(3);
    expect(installs[1]!.command).toBe(installs[0]!.command);
    expect(installs.slice(1).every((e) => e.fault === undefined)).toBe(true);
    const group = logGroups(first.stdout).find((g) => g.title.startsWith('worker-1 · kubeadm-install'))!;
    expect(group.lines.join('\n')).toMatch(
      /connection to worker-1 dropped \(.*\); reconnecting and running the command again \(it is safe to repeat\)/,
    );
    expect(JSON.parse(first.outputs['upgraded-nodes']!)).toEqual(['cp-1', 'worker-1']);
  });

  it('installs the exact revision the plan resolved, and the stage output shows the command with it', () => {
    const target = (JSON.parse(first.outputs.result!) as { target: string }).target;
    const install = { 'kubeadm-install': `kubeadm=${target}-1.1`, 'kubelet-install': `kubelet=${target}-1.1 kubectl=${target}-1.1` };
    for (const [stage, pins] of Object.entries(install)) {
      const group = logGroups(first.stdout).find((g) => g.title.startsWith(`worker-1 · ${stage}`))!;
      const install = group.lines.filter((l) =>
        l.startsWith('$ env DEBIAN_FRONTEND=noninteractive apt-get install -y --allow-change-held-packages '),
      );
      expect(install.length, stage).toBeGreaterThan(0);
      expect(
        install.every((l) => l.endsWith(` ${pins}`)),
        install.join('\n'),
      ).toBe(true);
    }
  });

  it('during kubeadm upgrade node: the stage fails without running it again, and the run stops there', () => {
    expect(first.exitCode).toBe(1);
    expect(first.outputs.outcome).toBe('failed');
    const runs = worker2AfterFirst.filter((e) => /^kubeadm upgrade node\b/.test(e.command.trim()));
    expect(runs.map((e) => e.fault)).toEqual(['ssh-drop']);
    const worker2 = nodesOf(first).find((n) => n.name === 'worker-2')!;
    expect(worker2.status).toBe('failed');
    expect(worker2.stages.find((s) => s.status === 'failed')).toMatchObject({
      name: 'kubeadm-upgrade',
      message: expect.stringMatching(
        /connection to worker-2 dropped while running `kubeadm upgrade node`.*not run again automatically.*a re-run of the action resumes this stage/,
      ),
    });
  });

  it('says in the summary which node is at which stage and what a re-run does', () => {
    expect(first.summary.split('\n')[0]).toMatch(/^## Upgrade to 1\.31\.\d+ ❌ failed — 2 node\(s\) upgraded/);
    expect(first.summary).toMatch(/\| worker-1 \| worker \| 0 \| ✅ upgraded \|/);
    expect(first.summary).toMatch(/\| worker-2 \| worker \| 1 \| ❌ failed at kubeadm-upgrade \|/);
    expect(first.summary).toMatch(
      /- \*\*worker-2\*\* failed at \*\*kubeadm-upgrade\*\*: .*; schedulable\. A re-run resumes it at \*\*kubeadm-upgrade\*\*\./,
    );
  });

  it('a second run resumes worker-2 at kubeadm-upgrade and completes the upgrade', async () => {
    expect(second.exitCode, second.stdout.slice(-3000)).toBe(0);
    expect(JSON.parse(second.outputs['upgraded-nodes']!)).toEqual(['worker-2']);
    // (its repository already points at the target minor, so the re-plan has no repo-switch for it)
    expect(second.summary).toMatch(/worker-2: resumed; done by an earlier run: kubeadm-install\n/);
    expect(second.summary).toMatch(/\| worker-2 \| worker \| 1 \| ✅ upgraded \| ~~kubeadm-install~~ · kubeadm-upgrade /);
    const target = (JSON.parse(second.outputs.result!) as { target: string }).target;
    for (const node of (await cluster.status()).nodes) {
      expect(node.kubeletVersion, node.name).toBe(`v${target}`);
      expect(node.cordoned, node.name).toBe(false);
    }
    // kubeadm upgrade node ran on worker-2 once more (the resumed stage), and its packages were not installed again
    const tools = commandLog(cluster, 'worker-2').map((c) => [c.tool, ...c.argv].join(' '));
    expect(tools.filter((t) => t === 'kubeadm upgrade node')).toHaveLength(2);
    expect(sshCommands('worker-2').filter((e) => e.command.includes('apt-get install') && e.command.includes('kubeadm='))).toHaveLength(1);
  });
});
