// The node's own view of the machine, inside the mount namespace `unshare` gave the supervisor:
// overlays on /etc, /var, /usr and /opt (upper = the node's dirs) and the stand-in shims over /usr/local/sbin.
import { execFileSync } from 'node:child_process';
import { mkdirSync, readdirSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';
import { NODE_OVERLAYS, type NodePaths } from './spec.ts';

function mount(args: string[]): void {
  try {
    execFileSync('mount', args, { stdio: ['ignore', 'ignore', 'pipe'] });
  } catch (err) {
    const stderr = (err as { stderr?: Buffer }).stderr?.toString().trim();
    throw new Error(`mount ${args.join(' ')} failed: ${stderr || (err as Error).message}`);
  }
}

function myMountNamespace(): string {
  return readlinkSync('/proc/self/ns/mnt');
}

function mountNamespaceOf(pid: number): string | undefined {
  try {
    return readlinkSync(`/proc/${pid}/ns/mnt`);
  } catch {
    return undefined;
  }
}

/**
 * Refuses to mount in the caller's namespace: that would change /etc for the whole machine.
 * `unshare … node supervisor.ts` execs us, so our parent is the caller, still in the old namespace.
 */
export function assertPrivateNamespace(): void {
  const mine = myMountNamespace();
  if (mine === mountNamespaceOf(process.ppid) || mine === mountNamespaceOf(1)) {
    throw new Error('the supervisor must run in its own mount namespace: start it with `unshare --mount --propagation private`');
  }
}

/** DIR under /etc or /var would vanish behind the node's own overlay: commands.log, state.json… would split. */
export function assertDirOutsideOverlays(dir: string): void {
  const shadowed = NODE_OVERLAYS.map((top) => `/${top}`).find((top) => dir === top || dir.startsWith(`${top}/`));
  if (shadowed)
    throw new Error(`DIR ${dir} is under ${shadowed}, which each node overlays with its own view; use a DIR elsewhere (e.g. under /tmp)`);
}

export function mountNodeView(dir: string, paths: NodePaths): void {
  assertPrivateNamespace();
  assertDirOutsideOverlays(dir);
  // unshare --propagation private did this already; repeated so nothing can leak to the host
  mount(['--make-rprivate', '/']);
  const overlays: [string, string, string][] = NODE_OVERLAYS.map((top) => [
    `/${top}`,
    join(paths.nodeDir, 'upper', top),
    join(paths.nodeDir, 'work', top),
  ]);
  for (const dir of [...overlays.flatMap(([, upper, work]) => [upper, work]), paths.bin]) mkdirSync(dir, { recursive: true });
  // the packages install into /usr and /opt: each node has its own, as it has its own /etc and /var
  for (const [top, upper, work] of overlays)
    mount(['-t', 'overlay', 'overlay', '-o', `lowerdir=${top},upperdir=${upper},workdir=${work}`, top]);
  mount(['--bind', paths.bin, '/usr/local/sbin']);
  mkdirSync('/run/sshd', { recursive: true, mode: 0o755 });
}

/** Every process in this mount namespace but the caller: ssh sessions and what they started. */
export function processesInMyNamespace(): number[] {
  const mine = myMountNamespace();
  const found: number[] = [];
  for (const entry of readdirSync('/proc')) {
    const pid = Number(entry);
    if (!Number.isInteger(pid) || pid === process.pid) continue;
    try {
      if (readlinkSync(`/proc/${pid}/ns/mnt`) === mine) found.push(pid);
    } catch {
      // exited meanwhile
    }
  }
  return found;
}

export function signalAll(pids: number[], signal: NodeJS.Signals): void {
  for (const pid of pids) {
    try {
      process.kill(pid, signal);
    } catch {
      // exited meanwhile
    }
  }
}
