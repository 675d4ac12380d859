// The simulator's logins (sim/README.md, "Logins and the bastion"), checked with the OpenSSH client as a user
// would: ops through the bastion, root refused, sudo as each node's sudoers says (RHEL-family nodes need the
// requiretty exemption), the bastion forwarding to the nodes only and running nothing.
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCluster, type SimCluster } from '../../../sim/index.ts';

const execFileAsync = promisify(execFile);
let cluster: SimCluster;

beforeAll(async () => {
  // cp-1 debian, worker-1 rhel
  cluster = await startCluster({ controlPlanes: 1, workers: 1, os: 'mixed', loginUser: 'ops', bastion: true, workload: 'none' });
}, 120_000);
afterAll(async () => {
  await cluster?.stop();
});

function sshArgs(): string[] {
  return [
    '-i',
    cluster.sshKeyPath,
    '-o',
    `UserKnownHostsFile=${cluster.knownHostsPath}`,
    '-o',
    'StrictHostKeyChecking=yes',
    '-o',
    'BatchMode=yes',
    '-o',
    'IdentitiesOnly=yes',
  ];
}

const bastion = () => `${cluster.spec.subnet}.3`;
const address = (node: string) => cluster.spec.nodes.find((n) => n.name === node)?.address ?? node;

/** ssh as `user` to `host`, through the bastion unless direct; resolves with the exit code and output. */
async function ssh(user: string, host: string, command: string, direct = false): Promise<{ code: number; out: string }> {
  const proxy = direct ? [] : ['-o', `ProxyCommand=ssh ${sshArgs().join(' ')} -W %h:%p ops@${bastion()}`];
  try {
    const { stdout, stderr } = await execFileAsync('ssh', [...sshArgs(), ...proxy, `${user}@${host}`, command], { timeout: 30_000 });
    return { code: 0, out: stdout + stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof e.code === 'number' ? e.code : -1, out: `${e.stdout ?? ''}${e.stderr ?? ''}` };
  }
}

describe('login user ops', () => {
  it('logs in to every node through the bastion and gets root with sudo -n; root may not log in', async () => {
    for (const node of ['cp-1', 'worker-1']) {
      const got = await ssh('ops', address(node), 'id -un; sudo -n id -u; sudo -n kubeadm version -o short');
      expect(got, node).toEqual({ code: 0, out: 'ops\n0\nv1.30.5\n' });
      expect((await ssh('root', address(node), 'true')).out, node).toMatch(/Permission denied \(publickey\)/);
    }
    const log = readFileSync(join(cluster.dir, 'nodes', 'worker-1', 'commands.log'), 'utf8')
      .trim()
      .split('\n');
    const entries = log.map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(entries).toContainEqual(expect.objectContaining({ via: 'ssh', user: 'ops', command: expect.stringContaining('id -un') }));
    expect(entries).toContainEqual(expect.objectContaining({ tool: 'kubeadm', user: 'root', sudoUser: 'ops' }));
  }, 60_000);

  it("has Debian's user PATH: the /usr/bin stand-ins, not swapon (in /usr/sbin)", async () => {
    const got = await ssh('ops', address('cp-1'), 'dpkg-query -W kubeadm; command -v swapon || echo no-swapon');
    expect(got).toEqual({ code: 0, out: 'kubeadm\t1.30.5-1.1\nno-swapon\n' });
  }, 30_000);

  it('on a RHEL-family node, sudo without a terminal works only through the Defaults:ops !requiretty exemption', async () => {
    const drop = "sudo -n sed -i '/!requiretty/d' /etc/sudoers.d/00-requiretty";
    expect((await ssh('ops', address('worker-1'), `sudo -n cat /etc/sudoers.d/00-requiretty; ${drop}`)).out).toContain(
      'Defaults:ops !requiretty',
    );
    const refused = await ssh('ops', address('worker-1'), 'sudo -n true');
    expect(refused.code).toBe(1);
    expect(refused.out).toMatch(/sorry, you must have a tty to run sudo/);
  }, 30_000);
});

describe('faults for a login user', () => {
  it('command-fails with times (counted by ops in DIR/faults-state.json) and ssh-drop work as for root', async () => {
    cluster.setFaults([
      { type: 'command-fails', node: 'cp-1', match: 'echo fail-me', exitCode: 7, stderr: 'simulated', times: 1 },
      { type: 'ssh-drop', node: 'cp-1', match: 'sleep 5' },
    ]);
    try {
      expect(await ssh('ops', address('cp-1'), 'echo fail-me')).toEqual({ code: 7, out: 'simulated\n' });
      expect(await ssh('ops', address('cp-1'), 'echo fail-me')).toEqual({ code: 0, out: 'fail-me\n' });
      const dropped = await ssh('ops', address('cp-1'), 'sleep 5; echo finished');
      expect(dropped.code).toBe(255);
      expect(dropped.out).not.toContain('finished');
    } finally {
      cluster.setFaults([]);
    }
  }, 60_000);
});

describe('the bastion', () => {
  it('runs no command and gives no shell', async () => {
    const got = await ssh('ops', bastion(), 'id', true);
    expect(got.code).not.toBe(0);
    expect(got.out).toMatch(/This account is currently not available/);
  }, 30_000);

  it('forwards to the nodes’ sshd only; its log shows each forward', async () => {
    const refused = await execFileAsync('ssh', [...sshArgs(), '-W', `${cluster.spec.apiServer.address}:6443`, `ops@${bastion()}`], {
      timeout: 30_000,
    }).then(
      () => 'forwarded',
      (err: { stderr?: string }) => err.stderr ?? '',
    );
    expect(refused).toMatch(/administratively prohibited/);
    const log = readFileSync(join(cluster.dir, 'bastion', 'sshd.log'), 'utf8');
    expect(log).toMatch(
      new RegExp(`to connect to host ${cluster.spec.apiServer.address.replaceAll('.', '\\.')} port 6443, but the request was denied`),
    );
    for (const node of ['cp-1', 'worker-1'])
      expect(log).toMatch(new RegExp(`direct_tcpip: originator \\S+ port \\d+, target ${address(node).replaceAll('.', '\\.')} port 22`));
  }, 30_000);
});
