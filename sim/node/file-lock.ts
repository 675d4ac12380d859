// A lock shared by processes: a directory that exists while held (mkdir is atomic).
// Synchronous on purpose: the forced command and the stand-ins are short-lived scripts.
import { mkdirSync, rmSync, statSync } from 'node:fs';

const STALE_AFTER_MS = 10_000;
const GIVE_UP_AFTER_MS = 15_000;
const sleepCell = new Int32Array(new SharedArrayBuffer(4));

function sleepSync(ms: number): void {
  Atomics.wait(sleepCell, 0, 0, ms);
}

function tryAcquire(lockDir: string): boolean {
  try {
    mkdirSync(lockDir);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    return false;
  }
}

/** A holder that crashed leaves its lock behind; such a lock is taken over after STALE_AFTER_MS. */
function removeIfStale(lockDir: string): void {
  try {
    if (Date.now() - statSync(lockDir).mtimeMs > STALE_AFTER_MS) rmSync(lockDir, { recursive: true, force: true });
  } catch {
    // released meanwhile
  }
}

export function withFileLock<T>(lockDir: string, work: () => T): T {
  const started = Date.now();
  while (!tryAcquire(lockDir)) {
    if (Date.now() - started > GIVE_UP_AFTER_MS) throw new Error(`lock ${lockDir} is still held after ${GIVE_UP_AFTER_MS} ms`);
    removeIfStale(lockDir);
    sleepSync(10 + Math.random() * 20);
  }
  try {
    return work();
  } finally {
    rmSync(lockDir, { recursive: true, force: true });
  }
}
