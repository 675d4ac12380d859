// sshd's ForceCommand on a simulated node: every SSH command passes through here so it can be
// logged to commands.log and have faults applied before it runs (or instead of running).
//   <node24> forced-command.ts --node-dir DIR/nodes/NAME     (command in $SSH_ORIGINAL_COMMAND)
import { spawn, type ChildProcess } from 'node:child_process';
import { appendFileSync, readFileSync, readlinkSync } from 'node:fs';
import { userInfo } from 'node:os';
import { basename, dirname } from 'node:path';
import { takeCommandFault, type CommandFault } from './faults.ts';

/** How long an ssh-drop fault lets the command run before the connection goes. */
const DROP_AFTER_MS = 1000;
const SUPERVISOR_CHECK_MS = 1000;

interface Invocation {
  dir: string;
  node: string;
  nodeDir: string;
  command: string;
}

function parseInvocation(argv: string[]): Invocation {
  const at = argv.indexOf('--node-dir');
  const nodeDir = at >= 0 ? argv[at + 1] : undefined;
  if (!nodeDir) throw new Error('usage: forced-command.ts --node-dir DIR/nodes/NAME');
  return {
    nodeDir,
    node: basename(nodeDir),
    dir: dirname(dirname(nodeDir)),
    command: process.env.SSH_ORIGINAL_COMMAND ?? '',
  };
}

function logCommand(inv: Invocation, fault: CommandFault | undefined): void {
  // user: who logged in (the forced command runs as the login user)
  const entry = {
    time: new Date().toISOString(),
    command: inv.command,
    via: 'ssh',
    user: userInfo().username,
    ...(fault ? { fault: fault.type } : {}),
  };
  appendFileSync(`${inv.nodeDir}/commands.log`, `${JSON.stringify(entry)}\n`);
}

/** What to start for the original command: sftp subsystem and login shell are not run through sh -c. */
function programFor(command: string): { file: string; args: string[]; login: boolean } {
  const trimmed = command.trim();
  if (trimmed === '') return { file: '/bin/sh', args: ['-l'], login: true };
  if (/(^|\/)sftp-server$/.test(trimmed.split(/\s+/)[0] ?? '')) {
    const [file = trimmed, ...args] = trimmed.split(/\s+/);
    return { file, args, login: false };
  }
  return { file: '/bin/sh', args: ['-c', command], login: false };
}

function exitCodeOf(code: number | null, signal: NodeJS.Signals | null): number {
  if (code !== null) return code;
  const signals: Record<string, number> = { SIGHUP: 1, SIGINT: 2, SIGKILL: 9, SIGPIPE: 13, SIGTERM: 15 };
  return 128 + (signal ? (signals[signal] ?? 1) : 1);
}

function parentOf(pid: number): { ppid: number; cmdline: string } | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // the command name may contain spaces and parentheses: fields resume after the last ')'
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ').trim();
    return { ppid: Number(fields[1]), cmdline };
  } catch {
    return undefined;
  }
}

/** The per-connection sshd processes above us ("sshd: root@notty", "sshd: root [priv]"), not the listener. */
function sshSessionProcesses(): number[] {
  const found: number[] = [];
  let pid = process.ppid;
  for (let depth = 0; depth < 8 && pid > 1; depth++) {
    const info = parentOf(pid);
    if (!info) break;
    // the listener shows as "sshd: /usr/sbin/sshd -D … [listener] …": it must live on
    if (info.cmdline.includes('[listener]') || info.cmdline.includes('/usr/sbin/sshd')) break;
    if (info.cmdline.startsWith('sshd: ')) found.push(pid);
    pid = info.ppid;
  }
  return found;
}

function dropConnection(): void {
  for (const pid of sshSessionProcesses()) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
}

/** The command and whatever it started: it runs in its own process group, a login shell excepted. */
function killCommand(child: ChildProcess, login: boolean): void {
  try {
    if (child.pid !== undefined) process.kill(login ? child.pid : -child.pid, 'SIGKILL');
  } catch {
    // gone already
  }
}

function isSupervisorOf(pid: number, node: string): boolean {
  try {
    const words = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
    return words.some((w) => w.endsWith('/sim/node/supervisor.ts')) && words[words.indexOf('--node') + 1] === node;
  } catch {
    return false;
  }
}

/**
 * A supervisor killed outright (SIGKILL) cannot end the sessions it leaves behind, so each session
 * watches it: once no supervisor lives in our mount namespace, the command is killed and we exit.
 */
function endWithSupervisor(inv: Invocation, child: ChildProcess, login: boolean): void {
  let supervisorPid = 0;
  try {
    supervisorPid = Number(readFileSync(`${inv.nodeDir}/supervisor.pid`, 'utf8').trim());
  } catch {
    return;
  }
  const ownNamespace = readlinkSync('/proc/self/ns/mnt');
  const supervisorAlive = (): boolean => {
    try {
      return readlinkSync(`/proc/${supervisorPid}/ns/mnt`) === ownNamespace;
    } catch (err) {
      // a login user other than root may not read root's namespace links: the command line says whose it is
      if ((err as NodeJS.ErrnoException).code !== 'EACCES') return false;
      return isSupervisorOf(supervisorPid, inv.node);
    }
  };
  const timer = setInterval(() => {
    if (supervisorAlive()) return;
    killCommand(child, login);
    process.exit(255);
  }, SUPERVISOR_CHECK_MS);
  timer.unref();
}

function run(inv: Invocation, fault: CommandFault | undefined): void {
  if (fault?.type === 'command-fails') {
    process.stderr.write(`${fault.stderr ?? `simulated failure of: ${inv.command}`}\n`);
    process.exit(fault.exitCode ?? 1);
  }
  const { file, args, login } = programFor(inv.command);
  // a login shell keeps our session and its terminal; anything else gets a process group to kill
  const child = spawn(file, args, { stdio: 'inherit', detached: !login });
  endWithSupervisor(inv, child, login);
  child.on('error', (err) => {
    process.stderr.write(`cannot start ${file}: ${err.message}\n`);
    process.exit(127);
  });
  if (fault?.type === 'ssh-drop') {
    const drop = (): void => {
      dropConnection();
      process.exit(255);
    };
    const timer = setTimeout(drop, DROP_AFTER_MS);
    child.on('exit', () => {
      clearTimeout(timer);
      drop();
    });
    return;
  }
  child.on('exit', (code, signal) => process.exit(exitCodeOf(code, signal)));
}

function main(): void {
  const inv = parseInvocation(process.argv.slice(2));
  const fault = inv.command.trim() === '' ? undefined : takeCommandFault(inv.dir, inv.node, inv.command);
  logCommand(inv, fault);
  run(inv, fault);
}

try {
  main();
} catch (err) {
  process.stderr.write(`sim node: ${(err as Error).message}\n`);
  process.exit(255);
}
