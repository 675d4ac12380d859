// `down` ends only what it started: a recorded pid that now runs something else is left alone.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { downCluster } from '../../../sim/cluster/down.ts';
import { repoRoot } from '../../../sim/cluster/options.ts';

const children: ChildProcess[] = [];
const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};
const exited = (child: ChildProcess) =>
  new Promise<void>((resolve) => (child.exitCode !== null || child.signalCode !== null ? resolve() : child.once('exit', () => resolve())));

function sleeper(...extraArgs: string[]): ChildProcess {
  // sh's command line carries the extra words, so it looks like whatever they say
  const child = spawn('sh', ['-c', 'sleep 60; :', ...extraArgs], { stdio: 'ignore', detached: true });
  children.push(child);
  return child;
}

afterEach(() => {
  // the whole group: sh and its sleep
  for (const child of children.splice(0)) {
    try {
      process.kill(-child.pid!, 'SIGKILL');
    } catch {
      // gone
    }
  }
});

describe('sim down', () => {
  it("signals a recorded pid only when that process is this directory's", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sim-down-'));
    mkdirSync(join(dir, 'apiserver'));
    mkdirSync(join(dir, 'nodes', 'cp-1'), { recursive: true });
    const stranger = sleeper();
    const supervisor = sleeper(join(repoRoot, 'sim/node/supervisor.ts'), '--dir', dir, '--node', 'cp-1');
    writeFileSync(join(dir, 'apiserver', 'pid'), `${stranger.pid}\n`);
    writeFileSync(join(dir, 'nodes', 'cp-1', 'supervisor.pid'), `${supervisor.pid}\n`);

    const report = await downCluster(dir);
    await exited(supervisor);
    expect(report.stopped).toEqual([{ name: 'cp-1', pid: supervisor.pid, signal: 'SIGTERM' }]);
    expect(alive(stranger.pid!)).toBe(true);
    expect(report.remaining).toEqual({ processes: [], mounts: [] });

    const again = await downCluster(dir);
    expect(again.stopped).toEqual([]);
    rmSync(dir, { recursive: true, force: true });
  });

  it('says there is nothing to stop in a directory without a cluster', async () => {
    const report = await downCluster(join(tmpdir(), 'sim-down-never-created'));
    expect(report).toMatchObject({ stopped: [], killedLeftovers: [], remaining: { processes: [], mounts: [] } });
  });
});
