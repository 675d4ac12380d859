// One control-plane node started as `sim up` starts it, used the way the Action uses a node:
// over SSH with strict host keys, etcdctl against its etcd, and taken down with SIGTERM.
import { execFileSync, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeApi, type FakeApi } from './fake-api.ts';
import { buildNodeFixture, etcdctl, randomSubnet, run, ssh, sshOptions, startSupervisor, waitFor, type NodeFixture } from './fixture.ts';
import { exited, mountNamespaceOf, mountsMentioning, processesIn, stopIfRunning } from './node-teardown.ts';

let f: NodeFixture;
let api: FakeApi;
let supervisor: ChildProcess;

function commandsLog(): { command: string; via: string; fault?: string }[] {
  return readFileSync(join(f.nodeDir, 'commands.log'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l));
}

function setFaults(faults: unknown[]): void {
  writeFileSync(join(f.dir, 'faults.json'), JSON.stringify(faults));
  rmSync(join(f.dir, 'faults-state.json'), { force: true });
}

beforeAll(async () => {
  f = await buildNodeFixture(randomSubnet(), { heartbeatMs: 500, kubeletRestartMs: 500, podStartMs: 100, podStopMs: 100 });
  api = await startFakeApi(f.cluster.apiServer.address, f.cluster.apiServer.port, f.apiPki);
  supervisor = startSupervisor(f);
  await waitFor('sshd on the node', async () => ((await ssh(f, 'true')).code === 0 ? true : undefined));
  await waitFor('etcd on the node', async () => ((await etcdctl(f, ['endpoint', 'health'])).code === 0 ? true : undefined));
});

afterAll(async () => {
  await stopIfRunning(supervisor);
  await api?.close();
  // SIM_NODE_KEEP=1 keeps DIR (logs, upper dirs) for a look after a failure
  if (f && !process.env.SIM_NODE_KEEP) rmSync(f.dir, { recursive: true, force: true });
});

describe('a simulated node over SSH', () => {
  it('shows the node its own /etc/kubernetes, which the host does not have', async () => {
    const result = await ssh(f, 'cat /etc/kubernetes/manifests/etcd.yaml');
    expect(result.code).toBe(0);
    expect(result.stdout).toBe(readFileSync(join(f.nodeDir, 'upper/etc/kubernetes/manifests/etcd.yaml'), 'utf8'));
    expect(result.stdout).toContain(`--advertise-client-urls=https://${f.node.address}:2379`);
    const hostManifest = '/etc/kubernetes/manifests/etcd.yaml';
    expect(existsSync(hostManifest) && readFileSync(hostManifest, 'utf8').includes(f.node.address)).toBe(false);
  });

  it('runs the stand-ins from the node bin dir, first on PATH as /usr/local/sbin', async () => {
    const result = await ssh(f, 'command -v sim-hello && sim-hello');
    expect(result).toMatchObject({ code: 0, stdout: '/usr/local/sbin/sim-hello\nhello from sim-hello on cp-1\n' });
  });

  it('keeps files written on the node in its upper dirs only', async () => {
    const name = `sim-node-test-${process.pid}`;
    const result = await ssh(f, `echo written-on-node > /etc/${name} && mkdir -p /var/lib/${name} && echo data > /var/lib/${name}/file`);
    expect(result.code).toBe(0);
    expect(readFileSync(join(f.nodeDir, 'upper/etc', name), 'utf8')).toBe('written-on-node\n');
    expect(readFileSync(join(f.nodeDir, 'upper/var/lib', name, 'file'), 'utf8')).toBe('data\n');
    expect(existsSync(`/etc/${name}`)).toBe(false);
    expect(existsSync(`/var/lib/${name}`)).toBe(false);
  });

  it('records every SSH command in commands.log', async () => {
    await ssh(f, 'echo logged-command-42');
    expect(commandsLog()).toContainEqual(expect.objectContaining({ command: 'echo logged-command-42', via: 'ssh' }));
  });

  it('passes exit codes and stderr through', async () => {
    const result = await ssh(f, 'echo to-stderr >&2; exit 7');
    expect(result).toMatchObject({ code: 7, stderr: 'to-stderr\n' });
  });

  it('serves sftp (file collection) from the node view', async () => {
    const local = join(f.dir, 'fetched-etcd.yaml');
    const result = await run(
      'sftp',
      [...sshOptions(f), '-b', '-', `root@${f.node.address}`],
      `get /etc/kubernetes/manifests/etcd.yaml ${local}\n`,
    );
    expect(result.code).toBe(0);
    expect(readFileSync(local, 'utf8')).toContain('--name=cp-1');
  });

  it('gives an interactive login a login shell on the node', async () => {
    const result = await run('ssh', [...sshOptions(f), '-T', `root@${f.node.address}`], 'ls /etc/kubernetes/manifests; exit 3\n');
    expect(result.code).toBe(3);
    expect(result.stdout).toContain('etcd.yaml');
  });

  it('restarts sshd when it dies', async () => {
    const sshdPid = () =>
      Number([...readFileSync(join(f.nodeDir, 'supervisor.log'), 'utf8').matchAll(/sshd started, pid (\d+)/g)].at(-1)?.[1]);
    const before = sshdPid();
    process.kill(before, 'SIGKILL');
    await waitFor('a new sshd', () => (sshdPid() !== before ? true : undefined));
    await waitFor('ssh to answer again', async () => ((await ssh(f, 'true')).code === 0 ? true : undefined));
  });

  it('refuses a key other than the cluster client key', async () => {
    const otherKey = join(f.dir, 'other_key');
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', otherKey]);
    const result = await ssh(f, 'true', otherKey);
    expect(result.code).toBe(255);
    expect(result.stderr).toContain('Permission denied');
  });
});

describe('etcd run from the static pod manifest', () => {
  it('answers put/get over TLS on the node address', async () => {
    expect((await etcdctl(f, ['put', '/sim/key', 'value-1'])).code).toBe(0);
    const got = await etcdctl(f, ['get', '/sim/key', '--print-value-only']);
    expect(got).toMatchObject({ code: 0, stdout: 'value-1\n' });
  });

  it('takes a snapshot on the node that etcdctl snapshot status accepts, stored in the node /var', async () => {
    const pki = '/etc/kubernetes/pki/etcd';
    const snapshot = '/var/lib/etcd-backup/snapshot.db';
    const command =
      `mkdir -p /var/lib/etcd-backup && etcdctl --endpoints=https://${f.node.address}:2379 --cacert=${pki}/ca.crt ` +
      `--cert=${pki}/healthcheck-client.crt --key=${pki}/healthcheck-client.key snapshot save ${snapshot} && ` +
      `etcdctl snapshot status ${snapshot} -w json`;
    const result = await ssh(f, command);
    expect(result.code, result.stderr).toBe(0);
    const status = JSON.parse(result.stdout.trim().split('\n').pop() ?? '{}') as { totalKey?: number };
    expect(status.totalKey).toBeGreaterThan(0);
    expect(existsSync(join(f.nodeDir, 'upper/var/lib/etcd-backup/snapshot.db'))).toBe(true);
    expect(existsSync('/var/lib/etcd-backup/snapshot.db')).toBe(false);
  });

  it('keeps its data in the node /var/lib/etcd', () => {
    expect(existsSync(join(f.nodeDir, 'upper/var/lib/etcd/member/snap/db'))).toBe(true);
  });
});

describe('faults', () => {
  it('command-fails: the command fails with the given code and stderr, without running, `times` times', async () => {
    const marker = `/etc/sim-fault-marker-${process.pid}`;
    setFaults([{ type: 'command-fails', node: 'cp-1', match: 'sim-fault-marker', exitCode: 42, stderr: 'E: simulated outage', times: 1 }]);
    const failed = await ssh(f, `touch ${marker}`);
    expect(failed).toMatchObject({ code: 42, stderr: 'E: simulated outage\n' });
    expect(existsSync(join(f.nodeDir, 'upper', marker))).toBe(false);
    expect(commandsLog()).toContainEqual(expect.objectContaining({ command: `touch ${marker}`, fault: 'command-fails' }));

    const retried = await ssh(f, `touch ${marker}`);
    expect(retried.code).toBe(0);
    expect(existsSync(join(f.nodeDir, 'upper', marker))).toBe(true);
  });

  it('command-fails for another node leaves this one alone', async () => {
    setFaults([{ type: 'command-fails', node: 'cp-2', match: 'echo', exitCode: 3 }]);
    expect(await ssh(f, 'echo fine')).toMatchObject({ code: 0, stdout: 'fine\n' });
  });

  it('ssh-drop: the command starts, then the connection drops', async () => {
    setFaults([{ type: 'ssh-drop', node: '*', match: 'sim-drop-me', times: 1 }]);
    const dropped = await ssh(f, 'echo started; sleep 5; echo finished # sim-drop-me');
    expect(dropped.code).toBe(255);
    expect(dropped.stdout).toContain('started');
    expect(dropped.stdout).not.toContain('finished');

    const again = await ssh(f, 'echo second-time # sim-drop-me');
    expect(again).toMatchObject({ code: 0, stdout: 'second-time\n' });
    setFaults([]);
  });
});

describe('SIGTERM', () => {
  it('stops sshd, etcd and open sessions; the node mounts are gone', async () => {
    const namespace = mountNamespaceOf(supervisor.pid ?? 0);
    expect(namespace).toBeDefined();
    expect(namespace).not.toBe(mountNamespaceOf(process.pid));
    const session = run('ssh', [...sshOptions(f), `root@${f.node.address}`, 'sleep 300']);
    await waitFor('the ssh session to start', () => (processesIn(namespace ?? '').some((p) => p.includes('sleep 300')) ? true : undefined));

    supervisor.kill('SIGTERM');
    expect(await exited(supervisor)).toBe(0);
    expect((await session).code).not.toBe(0);
    expect(processesIn(namespace ?? '')).toEqual([]);
    expect(mountsMentioning(join(f.nodeDir, 'upper'))).toEqual([]);
    expect(mountsMentioning(join(f.nodeDir, 'bin'))).toEqual([]);
    expect((await ssh(f, 'true')).code).toBe(255);
    expect((await etcdctl(f, ['endpoint', 'health'])).code).not.toBe(0);
  });
});
