// What a stopped node must leave behind: nothing running in its mount namespace, no mount of its dirs anywhere.
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import type { ChildProcess } from 'node:child_process';

export function mountNamespaceOf(pid: number): string | undefined {
  try {
    return readlinkSync(`/proc/${pid}/ns/mnt`);
  } catch {
    return undefined;
  }
}

function allPids(): number[] {
  return readdirSync('/proc')
    .map(Number)
    .filter((n) => Number.isInteger(n) && n > 0);
}

/** Processes (with their command lines) whose mount namespace is `ns`. */
export function processesIn(ns: string): string[] {
  const found: string[] = [];
  for (const pid of allPids()) {
    if (mountNamespaceOf(pid) !== ns) continue;
    try {
      found.push(`${pid} ${readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ')}`);
    } catch {
      // gone meanwhile
    }
  }
  return found;
}

/** Mount table lines of any process that mention `path` (an overlay upper dir, the bin dir). */
export function mountsMentioning(path: string): string[] {
  const lines = new Set<string>();
  for (const pid of allPids()) {
    try {
      for (const line of readFileSync(`/proc/${pid}/mountinfo`, 'utf8').split('\n')) if (line.includes(path)) lines.add(line);
    } catch {
      // gone meanwhile
    }
  }
  return [...lines];
}

export function exited(child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(child.exitCode);
  return new Promise((resolve) => child.once('exit', (code) => resolve(code)));
}

/** For afterAll: stop a supervisor a failed test left running. */
export async function stopIfRunning(child: ChildProcess | undefined): Promise<void> {
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
  await exited(child);
  clearTimeout(timer);
}
