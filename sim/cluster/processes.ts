// The cluster's long-running processes: the API server and one supervisor per SSH node, each detached
// in its own session with its output in a log file, and how to find and check them again by pid.
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { bastionPaths, nodePaths, type ClusterSpec, type SimNodeSpec } from '../node/spec.ts';

export interface ClusterProcess {
  /** "apiserver" or the node's name */
  name: string;
  pidFile: string;
  logFile: string;
  /** a string only this process's command line holds (its program path) */
  marker: string;
}

export function apiServerProcess(dir: string, repoRoot: string): ClusterProcess {
  return {
    name: 'apiserver',
    pidFile: join(dir, 'apiserver', 'pid'),
    logFile: join(dir, 'apiserver', 'log'),
    marker: join(repoRoot, 'sim/apiserver/main.ts'),
  };
}

export function pkgsServerProcess(dir: string, repoRoot: string): ClusterProcess {
  return {
    name: 'pkgs.k8s.io',
    pidFile: join(dir, 'pkgs', 'pid'),
    logFile: join(dir, 'pkgs', 'log'),
    marker: join(repoRoot, 'sim/pkgs/server.ts'),
  };
}

export function supervisorProcess(dir: string, repoRoot: string, node: string): ClusterProcess {
  const paths = nodePaths(dir, node);
  return {
    name: node,
    pidFile: paths.pidFile,
    logFile: join(paths.nodeDir, 'supervisor.log'),
    marker: join(repoRoot, 'sim/node/supervisor.ts'),
  };
}

export function bastionProcess(dir: string, repoRoot: string): ClusterProcess {
  const paths = bastionPaths(dir);
  return { name: 'bastion', pidFile: paths.pidFile, logFile: paths.log, marker: join(repoRoot, 'sim/node/bastion.ts') };
}

export function clusterProcesses(spec: ClusterSpec): ClusterProcess[] {
  return [
    apiServerProcess(spec.dir, spec.repoRoot),
    pkgsServerProcess(spec.dir, spec.repoRoot),
    ...spec.nodes.map((n) => supervisorProcess(spec.dir, spec.repoRoot, n.name)),
    ...(spec.bastion ? [bastionProcess(spec.dir, spec.repoRoot)] : []),
  ];
}

export interface Started {
  proc: ClusterProcess;
  child: ChildProcess;
}

/** Starts `file args` in a new session (its own process group), output appended to logFile; records its pid. */
function startDetached(proc: ClusterProcess, file: string, args: string[]): Started {
  const log = openSync(proc.logFile, 'a');
  try {
    const child = spawn(file, args, { detached: true, stdio: ['ignore', log, log] });
    if (child.pid === undefined) throw new Error(`could not start ${file} for ${proc.name}`);
    child.unref();
    // the process writes this file too, once it runs; written here as well so `down` finds an early failure
    writeFileSync(proc.pidFile, `${child.pid}\n`);
    return { proc, child };
  } finally {
    closeSync(log);
  }
}

export function startApiServer(spec: ClusterSpec): Started {
  const proc = apiServerProcess(spec.dir, spec.repoRoot);
  return startDetached(proc, spec.node24, [proc.marker, '--dir', spec.dir]);
}

export function startPkgsServer(spec: ClusterSpec): Started {
  const proc = pkgsServerProcess(spec.dir, spec.repoRoot);
  return startDetached(proc, spec.node24, [proc.marker, '--dir', spec.dir]);
}

/** `unshare` execs the supervisor in place, so the recorded pid is the supervisor's. */
export function startSupervisor(spec: ClusterSpec, node: SimNodeSpec): Started {
  const proc = supervisorProcess(spec.dir, spec.repoRoot, node.name);
  return startDetached(proc, 'unshare', [
    '--mount',
    '--propagation',
    'private',
    spec.node24,
    proc.marker,
    '--dir',
    spec.dir,
    '--node',
    node.name,
  ]);
}

/** The bastion in its own mount namespace (its /etc holds the login user's account). */
export function startBastion(spec: ClusterSpec): Started {
  const proc = bastionProcess(spec.dir, spec.repoRoot);
  return startDetached(proc, 'unshare', ['--mount', '--propagation', 'private', spec.node24, proc.marker, '--dir', spec.dir]);
}

export function readPid(pidFile: string): number | undefined {
  try {
    const pid = Number(readFileSync(pidFile, 'utf8').trim());
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

export function commandLine(pid: number): string[] | undefined {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean);
  } catch {
    return undefined;
  }
}

/** True when pid runs this process of this DIR (a recycled pid runs something else). */
export function isOurs(pid: number, proc: ClusterProcess, dir: string): boolean {
  const words = commandLine(pid);
  return !!words && words.includes(proc.marker) && words.includes(dir);
}

/** The recorded pid when that process is still ours and alive. */
export function livePid(proc: ClusterProcess, dir: string): number | undefined {
  const pid = readPid(proc.pidFile);
  if (pid === undefined || !isOurs(pid, proc, dir)) return undefined;
  try {
    // a zombie still has a cmdline until reaped; state Z counts as gone
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return /\) Z /.test(stat) ? undefined : pid;
  } catch {
    return undefined;
  }
}

export function tailOf(file: string, lines = 20): string {
  try {
    const text = readFileSync(file, 'utf8').trimEnd();
    return text.split('\n').slice(-lines).join('\n') || '(empty)';
  } catch {
    return '(no log)';
  }
}
