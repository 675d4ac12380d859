// Logins as teams have them, through the bundle: the nodes admit only `ops` (root may not log in), who gets root
// through `sudo -n` (RHEL-family nodes require a terminal for sudo, except for ops), and are reached only through
// a bastion that forwards and does nothing else. An upgrade with a backup, then a rollback, run end to end; the
// nodes' command logs show every change ran as root on behalf of ops, the bastion's log shows the forwards to
// every node. A user whose sudo wants a password is refused before any change, with the node, the user and the fix.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { generateIdentity, identityToRecipient } from 'age-encryption';
import { startCluster, type SimCluster } from '../../sim/index.ts';
import { buildBundle, runAction, type ActionResult } from '../support/action-runner.ts';
import { changingCommands, nodeLog, upgradeInputs } from './upgrade-helpers.ts';

interface SshEntry {
  command: string;
  via: 'ssh';
  user: string;
}
interface ToolEntry {
  tool: string;
  argv: string[];
  user: string;
  sudoUser?: string;
}

function sshEntries(cluster: SimCluster, node: string): SshEntry[] {
  return readFileSync(join(cluster.dir, 'nodes', node, 'commands.log'), 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as SshEntry)
    .filter((e) => e.via === 'ssh');
}

/** The stand-ins' own entries (kubeadm, systemctl, …), with who ran them. */
function toolEntries(cluster: SimCluster, node: string): ToolEntry[] {
  return readFileSync(join(cluster.dir, 'nodes', node, 'commands.log'), 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as ToolEntry & { via?: string })
    .filter((e) => e.via !== 'ssh' && typeof e.tool === 'string');
}

const tail = (r: ActionResult) => `${r.summary}\n${r.stdout.slice(-4000)}`;

let bundle: string;
beforeAll(async () => {
  bundle = await buildBundle();
}, 120_000);

describe('login user ops with passwordless sudo, through the bastion', () => {
  let cluster: SimCluster;
  let identity: string;
  let upgraded: ActionResult;
  let rolledBack: ActionResult;
  const bastionLog = () => readFileSync(join(cluster.dir, 'bastion', 'sshd.log'), 'utf8');

  beforeAll(async () => {
    // cp-1 debian, worker-1 rhel (requiretty), worker-2 debian
    cluster = await startCluster({ controlPlanes: 1, workers: 2, os: 'mixed', loginUser: 'ops', bastion: true, workload: 'none' });
    identity = await generateIdentity();
  }, 120_000);
  afterAll(async () => {
    await cluster?.stop();
  });

  const inputs = (extra: Record<string, string> = {}) =>
    upgradeInputs(cluster, { 'ssh-jump-host': cluster.jumpHost ?? '', 'max-unavailable': '1', ...extra });

  test('the simulated cluster: inventory user ops, the jump host, root refused on the nodes', () => {
    expect(cluster.user).toBe('ops');
    expect(cluster.jumpHost).toBe(`ops@${cluster.spec.subnet}.3:22`);
    expect(readFileSync(cluster.inventoryPath, 'utf8')).toContain('defaults: { user: ops, port: 22, transport: ssh }');
    expect(readFileSync(cluster.knownHostsPath, 'utf8')).toContain(`${cluster.spec.subnet}.3 ssh-ed25519 `);
  });

  test('upgrade with a backup as ops through the bastion: every node upgraded, every change through sudo', async () => {
    upgraded = await runAction(inputs({ 'backup-encryption-recipients': await identityToRecipient(identity) }), {
      bundle,
      env: { GITHUB_RUN_ID: '7001' },
      timeoutMs: 600_000,
    });
    expect(upgraded.exitCode, tail(upgraded)).toBe(0);
    expect(upgraded.outputs.outcome).toBe('succeeded');
    expect(JSON.parse(upgraded.outputs['upgraded-nodes'] ?? '[]').sort()).toEqual(['cp-1', 'worker-1', 'worker-2']);
    expect(upgraded.outputs['backup-id']).toMatch(/^\d{8}T\d{6}Z-7001$/);
    expect(upgraded.summary).toMatch(/^## Upgrade to 1\.31\.\d+ ✅ succeeded — 3 node\(s\) upgraded/m);
    for (const name of ['cp-1', 'worker-1', 'worker-2']) expect(upgraded.summary).toMatch(new RegExp(`\\| ${name} \\|[^\\n]*✅ upgraded`));
    for (const node of (await cluster.status()).nodes) {
      expect(node.kubeletVersion, node.name).toMatch(/^v1\.31\./);
      expect(node.packages?.kubeadm, node.name).toMatch(/^1\.31\./);
      expect(node.cordoned, node.name).toBe(false);
    }
    for (const name of ['cp-1', 'worker-1', 'worker-2']) {
      // every SSH session was ops'; every command that changed the node went through `sudo -n`
      const ssh = sshEntries(cluster, name);
      expect(ssh.length, name).toBeGreaterThan(5);
      expect(new Set(ssh.map((e) => e.user)), name).toEqual(new Set(['ops']));
      // the stand-ins that changed the node (kubeadm upgrade, systemctl restart) ran as root for ops
      const tools = toolEntries(cluster, name);
      const changes = tools.filter((e) => changingCommands([{ time: '', line: [e.tool, ...e.argv].join(' ') }]).length > 0);
      expect(changes.length, name).toBeGreaterThan(1);
      for (const change of changes) expect({ ...change, name }).toMatchObject({ user: 'root', sudoUser: 'ops' });
      // and so did the real apt-get / apt-mark / dnf that changed it
      const packageChanges = ssh.filter((e) => changingCommands([{ time: '', line: e.command }]).length > 0);
      expect(
        packageChanges.some((e) => /apt-get install|dnf install/.test(e.command)),
        name,
      ).toBe(true);
      for (const change of packageChanges) expect(change.command, name).toMatch(/^sudo -n -- /);
      const upgradeLine = ssh.find((e) => /kubeadm upgrade (apply|node)/.test(e.command));
      expect(upgradeLine?.command, name).toMatch(/^sudo -n -- kubeadm upgrade (apply|node)/);
      // root never logged in
      expect(readFileSync(join(cluster.dir, 'nodes', name, 'sshd.log'), 'utf8')).not.toMatch(/Accepted publickey for root/);
    }
    // the path: the bastion forwarded to every node's sshd
    for (const node of cluster.spec.nodes)
      expect(bastionLog()).toMatch(
        new RegExp(`direct_tcpip: originator \\S+ port \\d+, target ${node.address.replaceAll('.', '\\.')} port 22`),
      );
    expect(bastionLog()).toMatch(/Accepted publickey for ops from/);
  }, 600_000);

  test('rollback as ops through the bastion brings the packages back', async () => {
    const { command: _, 'target-version': __, ...access } = inputs();
    rolledBack = await runAction(
      { ...access, command: 'rollback', 'confirm-rollback': 'sim', 'rollback-source': upgraded.outputs['backup-id'] ?? '' },
      { bundle, env: { GITHUB_RUN_ID: '7002' }, timeoutMs: 600_000 },
    );
    expect(rolledBack.exitCode, tail(rolledBack)).toBe(0);
    expect(rolledBack.summary).toContain(`Rollback to backup \`${upgraded.outputs['backup-id']}\``);
    for (const node of (await cluster.status()).nodes) {
      expect(node.packages, node.name).toEqual({ kubeadm: '1.30.5', kubelet: '1.30.5', kubectl: '1.30.5' });
      expect(node.ready, node.name).toBe(true);
    }
    for (const name of ['cp-1', 'worker-1', 'worker-2'])
      expect(new Set(sshEntries(cluster, name).map((e) => e.user)), name).toEqual(new Set(['ops']));
  }, 600_000);
});

describe('login user whose sudo asks for a password', () => {
  let cluster: SimCluster;
  let refused: ActionResult;
  let backup: ActionResult;
  beforeAll(async () => {
    cluster = await startCluster({ controlPlanes: 1, workers: 1, os: 'mixed', loginUser: 'ops', loginSudo: 'password', workload: 'none' });
    // swap on worker-1: swapon is in /usr/sbin, off the login user's PATH, yet the probe must still see it
    const state = join(cluster.dir, 'nodes', 'worker-1', 'state.json');
    writeFileSync(state, JSON.stringify({ ...JSON.parse(readFileSync(state, 'utf8')), swap: true }));
    refused = await runAction(upgradeInputs(cluster, { 'max-unavailable': '1' }), { bundle, timeoutMs: 300_000 });
    const { 'target-version': _, ...access } = upgradeInputs(cluster);
    backup = await runAction({ ...access, command: 'backup' }, { bundle, timeoutMs: 300_000 });
  }, 420_000);
  afterAll(async () => {
    await cluster?.stop();
  });

  test('the upgrade is refused before any change, naming each node, the user and the fix', () => {
    expect(refused.exitCode, tail(refused)).toBe(1);
    expect(refused.outputs.outcome).toBe('refused');
    for (const name of ['cp-1', 'worker-1']) {
      expect(refused.summary).toMatch(new RegExp(`${name}: ops \\(sudo: a password is required\\)`));
      expect(changingCommands(nodeLog(cluster, name)), name).toEqual([]);
    }
    expect(refused.summary).toMatch(/NOPASSWD/);
  });

  test('command backup (no plan first) fails at the first sudo, naming the node, the user and the fix', () => {
    expect(backup.exitCode, tail(backup)).toBe(1);
    expect(`${backup.stdout}\n${backup.summary}`).toMatch(
      /sudo: a password is required[\s\S]*ops on cp-1 cannot run commands as root with `sudo -n` \(no terminal, no password\)\. Fix: give ops passwordless sudo on cp-1/,
    );
  });

  test('swap on a node is found although the login user has no sbin directory on its PATH', () => {
    expect(refused.summary).toMatch(/swap is on on worker-1/);
  });
});
