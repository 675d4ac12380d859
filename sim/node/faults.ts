// Live faults (DIR/faults.json) as the node side sees them. Shared with the stand-ins: a fault
// with `times` fires at most that often across every process, counted in DIR/faults-state.json.
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { withFileLock } from './file-lock.ts';

export type FaultSpec =
  | { type: 'command-fails'; node: string; match: string; exitCode?: number; stderr?: string; times?: number }
  | { type: 'ssh-drop'; node: string; match: string; times?: number }
  | { type: 'never-ready'; node: string }
  | { type: 'pdb-blocks'; namespace: string; name: string }
  | { type: 'api-unavailable'; startAfterMs?: number; durationMs: number };

export type CommandFault = Extract<FaultSpec, { type: 'command-fails' | 'ssh-drop' }>;

/** faults-state.json: how often each fault (keyed by its JSON) has fired. */
type FaultCounters = Record<string, number>;

const sleepCell = new Int32Array(new SharedArrayBuffer(4));

export function faultsFile(dir: string): string {
  return join(dir, 'faults.json');
}

/** Reads DIR/faults.json; absent means no faults. A file caught mid-write is read again. */
export function readFaults(dir: string): FaultSpec[] {
  const file = faultsFile(dir);
  let lastError = '';
  for (let attempt = 0; attempt < 5; attempt++) {
    if (!existsSync(file)) return [];
    try {
      const parsed: unknown = JSON.parse(readFileSync(file, 'utf8'));
      if (!Array.isArray(parsed)) throw new Error('expected a JSON array of faults');
      return parsed as FaultSpec[];
    } catch (err) {
      lastError = (err as Error).message;
      Atomics.wait(sleepCell, 0, 0, 20);
    }
  }
  throw new Error(`faults file ${file} is not valid: ${lastError}`);
}

export function faultKey(fault: FaultSpec): string {
  return JSON.stringify(fault);
}

function readCounters(file: string): FaultCounters {
  if (!existsSync(file)) return {};
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as FaultCounters;
  } catch {
    return {};
  }
}

function firedCount(dir: string, fault: FaultSpec): number {
  return readCounters(join(dir, 'faults-state.json'))[faultKey(fault)] ?? 0;
}

function hasBudget(fault: FaultSpec, fired: number): boolean {
  const times = 'times' in fault ? fault.times : undefined;
  return times === undefined || fired < times;
}

function namesNode(fault: { node: string }, node: string): boolean {
  return fault.node === '*' || fault.node === node;
}

/** The first command-fails or ssh-drop fault for `node` whose match is in `command` and that may still fire. */
export function matchCommandFault(dir: string, node: string, command: string): CommandFault | undefined {
  for (const fault of readFaults(dir)) {
    if (fault.type !== 'command-fails' && fault.type !== 'ssh-drop') continue;
    if (!namesNode(fault, node) || !command.includes(fault.match)) continue;
    if (hasBudget(fault, firedCount(dir, fault))) return fault;
  }
  return undefined;
}

/**
 * Records that `fault` fires. Returns false when its `times` were used up meanwhile (another
 * process got there first), in which case the caller must not apply it.
 */
export function consumeFault(dir: string, fault: FaultSpec): boolean {
  const file = join(dir, 'faults-state.json');
  return withFileLock(join(dir, 'faults-state.lock'), () => {
    const counters = readCounters(file);
    const key = faultKey(fault);
    const fired = counters[key] ?? 0;
    if (!hasBudget(fault, fired)) return false;
    counters[key] = fired + 1;
    writeFileSync(`${file}.tmp`, `${JSON.stringify(counters, null, 2)}\n`);
    renameSync(`${file}.tmp`, file);
    return true;
  });
}

/** matchCommandFault + consumeFault: the fault to apply to this command now, if any. */
export function takeCommandFault(dir: string, node: string, command: string): CommandFault | undefined {
  for (let attempt = 0; attempt < 3; attempt++) {
    const fault = matchCommandFault(dir, node, command);
    if (!fault) return undefined;
    if (consumeFault(dir, fault)) return fault;
  }
  return undefined;
}

/** True when a never-ready fault names this node: its kubelet does not come back Ready after a restart. */
export function hasNeverReadyFault(dir: string, node: string): boolean {
  return readFaults(dir).some((f) => f.type === 'never-ready' && namesNode(f, node));
}
