// `sim down`: stops the cluster of one DIR by the pids it recorded, then makes sure nothing of that DIR
// runs or stays mounted in any mount namespace. Safe to run twice.
import { existsSync, readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { ClusterSpec } from '../node/spec.ts';
import { repoRoot as ourRepoRoot } from './options.ts';
import {
  apiServerProcess,
  bastionProcess,
  commandLine,
  livePid,
  pkgsServerProcess,
  supervisorProcess,
  type ClusterProcess,
} from './processes.ts';

export interface DownReport {
  dir: string;
  /** processes stopped by their recorded pid */
  stopped: { name: string; pid: number; signal: 'SIGTERM' | 'SIGKILL' }[];
  /** other processes of this DIR (node sessions, sshd, etcd) that outlived their supervisor and were killed */
  killedLeftovers: { pid: number; command: string }[];
  /** what still runs or is mounted afterwards; empty when down succeeded */
  remaining: { processes: { pid: number; command: string }[]; mounts: string[] };
}

const TERM_WAIT_MS = 10_000;

function recordedProcesses(dir: string): ClusterProcess[] {
  let root = ourRepoRoot;
  try {
    root = (JSON.parse(readFileSync(join(dir, 'cluster.json'), 'utf8')) as ClusterSpec).repoRoot;
  } catch {
    // no readable cluster.json: the processes were started from this checkout, if at all
  }
  const nodesDir = join(dir, 'nodes');
  const nodes = existsSync(nodesDir) ? readdirSync(nodesDir) : [];
  const bastion = existsSync(join(dir, 'bastion')) ? [bastionProcess(dir, root)] : [];
  return [...nodes.map((n) => supervisorProcess(dir, root, n)), ...bastion, apiServerProcess(dir, root), pkgsServerProcess(dir, root)];
}

function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch {
    // gone already
  }
}

function pids(): number[] {
  return readdirSync('/proc')
    .map(Number)
    .filter((pid) => Number.isInteger(pid) && pid > 0 && pid !== process.pid);
}

function mountNamespaceOf(pid: number): string | undefined {
  try {
    return readlinkSync(`/proc/${pid}/ns/mnt`);
  } catch {
    return undefined;
  }
}

/** Mount lines that name DIR, per mount namespace other than ours (ours must never hold any). */
function mountsOfDir(dir: string): { namespaces: Map<string, string[]>; lines: string[] } {
  const needle = `${dir}/`;
  const seen = new Set<string>();
  const namespaces = new Map<string, string[]>();
  const lines: string[] = [];
  for (const pid of [process.pid, ...pids()]) {
    const ns = mountNamespaceOf(pid);
    if (!ns || seen.has(ns)) continue;
    seen.add(ns);
    let text = '';
    try {
      text = readFileSync(`/proc/${pid}/mountinfo`, 'utf8');
    } catch {
      continue;
    }
    const found = text.split('\n').filter((line) => line.includes(needle));
    if (found.length > 0) {
      namespaces.set(ns, found);
      lines.push(...found.map((line) => `${ns} (pid ${pid}): ${line}`));
    }
  }
  return { namespaces, lines };
}

/**
 * Command lines only the simulator makes: sshd -f DIR/nodes/N/sshd_config, supervisor.ts or apiserver/main.ts
 * --dir DIR, forced commands and stand-ins with --node-dir DIR/nodes/N. (A user's `tail DIR/...` is left alone.)
 */
function startedForThisDir(words: string[], dir: string): boolean {
  const after = (flag: string) => words[words.indexOf(flag) + 1] ?? '';
  if (words.includes('-f') && after('-f').startsWith(`${dir}/nodes/`) && after('-f').endsWith('/sshd_config')) return true;
  if (words.includes('-f') && after('-f') === `${dir}/bastion/sshd_config`) return true;
  if (words.includes('--node-dir') && after('--node-dir').startsWith(`${dir}/nodes/`)) return true;
  return (
    after('--dir') === dir &&
    words.some((w) => w.endsWith('/sim/node/supervisor.ts') || w.endsWith('/sim/node/bastion.ts') || w.endsWith('/sim/apiserver/main.ts'))
  );
}

/** Processes that belong to this DIR: inside a node's mount namespace, or started with one of its files. */
function processesOfDir(dir: string): { pid: number; command: string }[] {
  const { namespaces } = mountsOfDir(dir);
  const found: { pid: number; command: string }[] = [];
  for (const pid of pids()) {
    const words = commandLine(pid);
    if (!words || words.length === 0) continue;
    const ns = mountNamespaceOf(pid);
    const inNodeNamespace = ns !== undefined && namespaces.has(ns);
    const startedForDir = startedForThisDir(words, dir);
    if (inNodeNamespace || startedForDir) found.push({ pid, command: words.join(' ').slice(0, 200) });
  }
  return found;
}

async function waitUntilGone(pidList: number[], ms: number): Promise<number[]> {
  const deadline = Date.now() + ms;
  let alive = pidList;
  while (alive.length > 0 && Date.now() < deadline) {
    await sleep(100);
    alive = alive.filter((pid) => commandLine(pid) !== undefined && !isZombie(pid));
  }
  return alive;
}

function isZombie(pid: number): boolean {
  try {
    return /\) Z /.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return true;
  }
}

export async function downCluster(dir: string): Promise<DownReport> {
  const report: DownReport = { dir, stopped: [], killedLeftovers: [], remaining: { processes: [], mounts: [] } };
  const running = recordedProcesses(dir)
    .map((proc) => ({ proc, pid: livePid(proc, dir) }))
    .filter((p): p is { proc: ClusterProcess; pid: number } => p.pid !== undefined);
  // supervisors first (they stop etcd and sshd and leave their namespace), the API server with them
  for (const { pid } of running) signal(pid, 'SIGTERM');
  const stubborn = await waitUntilGone(
    running.map((r) => r.pid),
    TERM_WAIT_MS,
  );
  for (const { proc, pid } of running) {
    const killed = stubborn.includes(pid);
    if (killed) signal(pid, 'SIGKILL');
    report.stopped.push({ name: proc.name, pid, signal: killed ? 'SIGKILL' : 'SIGTERM' });
  }
  await waitUntilGone(stubborn, 2000);

  const leftovers = processesOfDir(dir);
  for (const p of leftovers) signal(p.pid, 'SIGKILL');
  report.killedLeftovers = leftovers;
  await waitUntilGone(
    leftovers.map((p) => p.pid),
    3000,
  );

  report.remaining = { processes: processesOfDir(dir), mounts: mountsOfDir(dir).lines };
  return report;
}
