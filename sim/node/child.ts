// A child process the supervisor keeps alive: restarted when it dies on its own, stopped with
// SIGTERM then SIGKILL. Started under `setpriv --pdeathsig KILL` so it dies with the supervisor
// even when the supervisor is killed without a chance to clean up.
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync, writeSync } from 'node:fs';

const KILL_AFTER_MS = 3000;
const MAX_BACKOFF_MS = 10_000;

export interface KeptChild {
  readonly name: string;
  pid(): number | undefined;
  stop(): Promise<void>;
}

export interface ChildOptions {
  name: string;
  file: string;
  args: string[];
  logFile: string;
  /** called with each line the supervisor itself wants in its log */
  log: (line: string) => void;
}

export function keepChildRunning(opts: ChildOptions): KeptChild {
  let current: ChildProcess | undefined;
  let stopping = false;
  let backoffMs = 500;
  let restartTimer: NodeJS.Timeout | undefined;

  const start = (): void => {
    const logFd = openSync(opts.logFile, 'a');
    writeSync(logFd, `--- ${new Date().toISOString()} starting ${opts.file} ${opts.args.join(' ')}\n`);
    const child = spawn('setpriv', ['--pdeathsig', 'KILL', '--', opts.file, ...opts.args], {
      stdio: ['ignore', logFd, logFd],
    });
    closeSync(logFd);
    current = child;
    const startedAt = Date.now();
    child.on('error', (err) => opts.log(`${opts.name}: cannot start: ${err.message}`));
    child.on('exit', (code, signal) => {
      if (current === child) current = undefined;
      if (stopping) return;
      // a child that ran a while earns a fresh backoff; one that dies at once waits longer each time
      backoffMs = Date.now() - startedAt > 30_000 ? 500 : Math.min(backoffMs * 2, MAX_BACKOFF_MS);
      opts.log(`${opts.name} exited (code ${code}, signal ${signal}); restarting in ${backoffMs} ms`);
      restartTimer = setTimeout(start, backoffMs);
    });
    opts.log(`${opts.name} started, pid ${child.pid}`);
  };

  start();
  return {
    name: opts.name,
    pid: () => current?.pid,
    stop: async () => {
      stopping = true;
      if (restartTimer) clearTimeout(restartTimer);
      const child = current;
      if (child) await terminate(child);
      opts.log(`${opts.name} stopped`);
    },
  };
}

/** SIGTERM, then SIGKILL after KILL_AFTER_MS; resolves once the process is gone. */
export function terminate(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const killTimer = setTimeout(() => child.kill('SIGKILL'), KILL_AFTER_MS);
    child.once('exit', () => {
      clearTimeout(killTimer);
      resolve();
    });
    child.kill('SIGTERM');
  });
}
