import { execFile, spawn } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { makeCluster, type SimFixture } from './fixture.ts';
import { setPackages } from './kubeadm-helpers.ts';

const run = promisify(execFile);
let fx: SimFixture;
beforeEach(async () => {
  fx = await makeCluster({ nodes: [{ name: 'cp-1', role: 'control-plane' }, { name: 'w-1' }] });
});
afterEach(async () => fx.cleanup());

describe('kubelet, kubectl, swapon', () => {
  it('report the installed packages', async () => {
    setPackages(fx, 'w-1', { kubelet: '1.31.2' });
    const state = JSON.parse(readFileSync(join(fx.nodeDir('w-1'), 'state.json'), 'utf8'));
    state.swap = true;
    writeFileSync(join(fx.nodeDir('w-1'), 'state.json'), JSON.stringify(state));
    expect((await fx.run('w-1', 'kubelet', ['--version'])).out).toBe('Kubernetes v1.31.2\n');
    const json = JSON.parse((await fx.run('w-1', 'kubectl', ['version', '--client=true', '--output=json'])).out);
    expect(json.clientVersion).toMatchObject({ major: '1', minor: '30', gitVersion: 'v1.30.5' });
    expect((await fx.run('w-1', 'kubectl', ['version', '--client'])).out).toMatch(/^Client Version: v1\.30\.5\n/);
    expect((await fx.run('w-1', 'swapon', ['--show'])).out).toBe(
      'NAME          TYPE      SIZE USED PRIO\n/dev/sim-swap partition   2G   0B   -2\n',
    );
    await fx.run('w-1', 'swapoff', ['-a']);
    expect((await fx.run('w-1', 'swapon', ['--show'])).out).toBe('');
  });
});

describe('systemctl', () => {
  it('restart starts the installed kubelet and signals the supervisor; stop makes is-active answer inactive/3', async () => {
    const marker = join(fx.dir, 'hup');
    const supervisor = spawn(process.execPath, [
      '-e',
      `process.on('SIGHUP', () => { require('fs').writeFileSync(${JSON.stringify(marker)}, 'hup'); process.exit(0); }); setInterval(() => {}, 1000); console.log('ready');`,
    ]);
    await new Promise((resolve) => supervisor.stdout.once('data', resolve));
    writeFileSync(join(fx.nodeDir('w-1'), 'supervisor.pid'), String(supervisor.pid));
    setPackages(fx, 'w-1', { kubelet: '1.31.2' });

    expect((await fx.run('w-1', 'systemctl', ['stop', 'kubelet'])).code).toBe(0);
    expect(await fx.run('w-1', 'systemctl', ['is-active', 'kubelet'])).toMatchObject({ code: 3, out: 'inactive\n' });
    await new Promise((resolve) => supervisor.once('exit', resolve));
    expect(existsSync(marker)).toBe(true);

    await fx.run('w-1', 'systemctl', ['daemon-reload']);
    await fx.run('w-1', 'systemctl', ['restart', 'kubelet']);
    expect(fx.state('w-1').kubelet).toEqual({ active: true, version: '1.31.2' });
    expect(await fx.run('w-1', 'systemctl', ['is-active', 'kubelet'])).toMatchObject({ code: 0, out: 'active\n' });
    expect(await fx.run('w-1', 'systemctl', ['restart', 'containerd'])).toMatchObject({ code: 0, out: '' });
  });
});

describe('crictl', () => {
  it('lists the static pod containers and runs commands through exec', async () => {
    const table = (await fx.run('cp-1', 'crictl', ['ps'])).out.split('\n').filter(Boolean);
    expect(table[0]).toMatch(/^CONTAINER +IMAGE +CREATED +STATE +NAME +ATTEMPT +POD ID +POD$/);
    expect(
      table
        .slice(1)
        .map((l) => l.split(/\s{2,}/)[4])
        .sort(),
    ).toEqual(['etcd', 'kube-apiserver', 'kube-controller-manager', 'kube-scheduler']);
    const ids = (await fx.run('cp-1', 'crictl', ['ps', '--name', 'etcd', '-q'])).out.trim().split('\n');
    expect(ids).toHaveLength(1);
    const json = JSON.parse((await fx.run('cp-1', 'crictl', ['ps', '-o', 'json', '--name', 'etcd'])).out);
    expect(json.containers[0].image.image).toBe('registry.k8s.io/etcd:3.5.15-0');
    expect(await fx.run('cp-1', 'crictl', ['exec', '-i', ids[0]!.slice(0, 12), 'echo', 'from etcd'])).toMatchObject({
      code: 0,
      out: 'from etcd\n',
    });
    const missing = await fx.run('cp-1', 'crictl', ['exec', 'deadbeef', 'true']);
    expect(missing.code).toBe(1);
    expect(missing.err).toContain('NotFound');
    expect((await fx.run('w-1', 'crictl', ['ps', '-q'])).out).toBe('');
  });
});

describe('main.ts', () => {
  const main = join(import.meta.dirname, '../../../sim/standins/main.ts');
  const invoke = (node: string, args: string[]) =>
    run(process.execPath, [main, '--node-dir', fx.nodeDir(node), ...args], { env: { ...process.env, SIM_ROOT: fx.root(node) } }).then(
      (r) => ({ code: 0, ...r }),
      (e) => ({ code: e.code as number, stdout: e.stdout as string, stderr: e.stderr as string }),
    );
  const log = (node: string) =>
    readFileSync(join(fx.nodeDir(node), 'commands.log'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));

  it('applies a command-fails fault as often as it says and logs every invocation', async () => {
    writeFileSync(
      join(fx.dir, 'faults.json'),
      JSON.stringify([
        {
          type: 'command-fails',
          node: 'w-1',
          match: 'systemctl stop kubelet',
          exitCode: 5,
          stderr: 'Failed to stop kubelet.service: Unit kubelet.service not loaded.',
          times: 1,
        },
      ]),
    );
    const failed = await invoke('w-1', ['systemctl', 'stop', 'kubelet']);
    expect(failed).toMatchObject({ code: 5, stderr: 'Failed to stop kubelet.service: Unit kubelet.service not loaded.\n' });
    expect(fx.state('w-1').kubelet.active).toBe(true);
    const passed = await invoke('w-1', ['systemctl', 'stop', 'kubelet']);
    expect(passed).toMatchObject({ code: 0 });
    expect(fx.state('w-1').kubelet.active).toBe(false);
    const other = await invoke('cp-1', ['systemctl', 'stop', 'kubelet']);
    expect(other.code).toBe(0);
    expect(log('w-1').map((e) => [e.tool, e.argv, e.exit, e.fault])).toEqual([
      ['systemctl', ['stop', 'kubelet'], 5, 'command-fails'],
      ['systemctl', ['stop', 'kubelet'], 0, undefined],
    ]);
    expect(typeof log('w-1')[0].time).toBe('string');
  });
});
