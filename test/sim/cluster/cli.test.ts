// `npm run sim -- …` as a person or a script uses it: one JSON line from up, JSON from status and down.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { run, traces, type Ran } from './helpers.ts';

const cli = resolve(import.meta.dirname, '../../../sim/cli.ts');
const sim = (...args: string[]): Promise<Ran> => run(process.execPath, [cli, ...args], 120_000);

describe('the sim CLI', () => {
  let scratch: string;
  let dir: string;
  let up: Ran;

  beforeAll(async () => {
    scratch = mkdtempSync(join(tmpdir(), 'sim-cli-'));
    dir = join(scratch, 'cluster');
    const faults = join(scratch, 'faults.yaml');
    writeFileSync(faults, '- type: command-fails\n  node: worker-1\n  match: apt-get install\n  exitCode: 100\n  times: 1\n');
    up = await sim('up', '--dir', dir, '--control-planes', '1', '--workers', '1', '--worker-version', '1.29.9', '--faults', faults);
  }, 150_000);

  afterAll(async () => {
    await sim('down', '--dir', dir);
    rmSync(scratch, { recursive: true, force: true });
  });

  it('prints one JSON line that says where everything is', () => {
    expect(up.code, up.stderr).toBe(0);
    const lines = up.stdout.trim().split('\n');
    expect(lines).toHaveLength(1);
    const result = JSON.parse(lines[0]!);
    expect(result).toMatchObject({
      dir,
      kubeconfig: join(dir, 'kubeconfig'),
      inventory: join(dir, 'inventory.yaml'),
      sshKey: join(dir, 'ssh/id_ed25519'),
      knownHosts: join(dir, 'ssh/known_hosts'),
    });
    expect(result.apiServer).toMatch(/^https:\/\/127\.\d+\.\d+\.1:6443$/);
    expect(result.nodes.map((n: { name: string; role: string }) => [n.name, n.role])).toEqual([
      ['cp-1', 'control-plane'],
      ['worker-1', 'worker'],
    ]);
    expect(JSON.parse(readFileSync(join(dir, 'faults.json'), 'utf8'))).toEqual([
      { type: 'command-fails', node: 'worker-1', match: 'apt-get install', exitCode: 100, times: 1 },
    ]);
  });

  it('prints status as JSON', async () => {
    const status = await sim('status', '--dir', dir);
    expect(status.code, status.stderr).toBe(0);
    const parsed = JSON.parse(status.stdout);
    expect(parsed.nodes.map((n: { name: string; ready: boolean; kubeletVersion: string }) => [n.name, n.ready, n.kubeletVersion])).toEqual([
      ['cp-1', true, 'v1.30.5'],
      ['worker-1', true, 'v1.29.9'],
    ]);
    expect(parsed.processes.map((p: { name: string; alive: boolean }) => [p.name, p.alive])).toEqual([
      ['apiserver', true],
      ['pkgs.k8s.io', true],
      ['cp-1', true],
      ['worker-1', true],
    ]);
  });

  it('replaces the live faults from a file, and rejects an invalid one naming the problem', async () => {
    const good = join(scratch, 'good.json');
    writeFileSync(
      good,
      JSON.stringify([
        { type: 'never-ready', node: 'worker-1' },
        { type: 'api-unavailable', durationMs: 500 },
      ]),
    );
    const ok = await sim('faults', '--dir', dir, '--file', good);
    expect(ok.code, ok.stderr).toBe(0);
    expect(JSON.parse(readFileSync(join(dir, 'faults.json'), 'utf8'))).toEqual(JSON.parse(readFileSync(good, 'utf8')));

    const unknownNode = join(scratch, 'unknown-node.yaml');
    writeFileSync(unknownNode, '- { type: never-ready, node: worker-9 }\n');
    const refused = await sim('faults', '--dir', dir, '--file', unknownNode);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('node "worker-9" is not an SSH node of this cluster');

    const badType = join(scratch, 'bad-type.yaml');
    writeFileSync(badType, '- { type: disk-full, node: cp-1 }\n');
    const invalid = await sim('faults', '--dir', dir, '--file', badType);
    expect(invalid.code).toBe(1);
    expect(invalid.stderr).toContain('is not a valid FaultSpec[]');
    expect(JSON.parse(readFileSync(join(dir, 'faults.json'), 'utf8'))).toHaveLength(2);
  });

  it('refuses to bring a second cluster up in the same directory', async () => {
    const again = await sim('up', '--dir', dir, '--control-planes', '1', '--workers', '0');
    expect(again.code).toBe(1);
    expect(again.stderr).toContain('it holds a cluster');
  });

  it('explains bad options with exit code 2', async () => {
    const bad = await sim('up', '--dir', join(scratch, 'other'), '--workers', 'many');
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--workers must be a whole number, got "many"');
  });

  it('takes the cluster down, says what it stopped, and finds nothing to stop the second time', async () => {
    const down = await sim('down', '--dir', dir);
    expect(down.code, down.stderr).toBe(0);
    const report = JSON.parse(down.stdout);
    expect(report.stopped.map((s: { name: string }) => s.name).sort()).toEqual(['apiserver', 'cp-1', 'pkgs.k8s.io', 'worker-1']);
    expect(traces(dir)).toEqual({ processes: [], mounts: [] });
    const again = JSON.parse((await sim('down', '--dir', dir)).stdout);
    expect(again.stopped).toEqual([]);
  });
});

describe('the sim CLI when a node cannot start', () => {
  it('names the component, shows its log, and leaves nothing running', async () => {
    const scratch = mkdtempSync(join(tmpdir(), 'sim-cli-fail-'));
    // what happens in a container without CAP_SYS_ADMIN
    const fakeBin = join(scratch, 'bin');
    mkdirSync(fakeBin);
    writeFileSync(join(fakeBin, 'unshare'), '#!/bin/sh\necho "unshare: unshare failed: Operation not permitted" >&2\nexit 1\n', {
      mode: 0o755,
    });
    const dir = join(scratch, 'cluster');
    const env = { ...process.env, PATH: `${fakeBin}:${process.env.PATH}` };
    const up = await run(process.execPath, [cli, 'up', '--dir', dir, '--control-planes', '1', '--workers', '1'], 120_000, env);
    expect(up.code).toBe(1);
    expect(up.stdout).toBe('');
    expect(up.stderr).toMatch(/(cp-1|worker-1): the process exited with code 1/);
    expect(up.stderr).toContain('unshare failed: Operation not permitted');
    expect(traces(dir)).toEqual({ processes: [], mounts: [] });
    rmSync(scratch, { recursive: true, force: true });
  });
});
