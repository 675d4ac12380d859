// How the action runs a command on a node: over SSH or, on a self-hosted runner that is the node, locally.
// Commands are argument vectors; the transport quotes them (quote.ts) when a shell is involved.

export interface RunOptions {
  /** the command fails with a timeout error after this long (default: DEFAULT_COMMAND_TIMEOUT_MS) */
  timeoutMs?: number;
  /** run as root through `sudo -n` when the login user is not root */
  sudo?: boolean;
  /** written to the command's standard input, then closed */
  stdin?: string;
}

export interface CommandResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface NodeShell {
  /** the node's name, for messages */
  readonly node: string;
  run(argv: readonly string[], opts?: RunOptions): Promise<CommandResult>;
  /**
   * Copies a file from the node to the runner as the login user (SFTP over the SSH connection; a plain copy
   * for the local transport). Optional: without it, src/adapters/transport/fetch.ts copies through commands.
   */
  fetchFile?(remotePath: string, localPath: string): Promise<void>;
  /**
   * Streams a file from the node as the login user (SFTP over the SSH connection; a plain read for the local
   * transport), nothing written on the runner. Rejects when the file cannot be opened (e.g. permission denied),
   * before any byte. Optional: without it, src/adapters/transport/fetch.ts streams through commands.
   */
  openFile?(remotePath: string): Promise<AsyncIterable<Uint8Array>>;
  close(): Promise<void>;
}

export const DEFAULT_COMMAND_TIMEOUT_MS = 120_000;

/** Raised when a command outlives its timeout; names the node and the command. */
export class CommandTimeoutError extends Error {
  constructor(node: string, commandLine: string, timeoutMs: number) {
    super(`command on ${node} did not finish within ${timeoutMs} ms: ${commandLine}`);
    this.name = 'CommandTimeoutError';
  }
}

/** argv as the login user should run it: `sudo -n` in front when root rights are asked for and the user is not root. */
export function withSudo(argv: readonly string[], user: string, sudo: boolean | undefined): string[] {
  return sudo && user !== 'root' ? ['sudo', '-n', '--', ...argv] : [...argv];
}

/** What sudo prints when it will not run a command without a terminal or a password (sudo 1.8/1.9 wording). */
const SUDO_REFUSAL =
  /^sudo: (a password is required|a terminal is required|sorry, you must have a tty to run sudo)|is not in the sudoers file|may not run sudo on|^sudo: not found|sudo: (command )?not found/m;

/** The fix for a login user whose `sudo -n` refuses, naming the node and the user. */
function sudoFix(node: string, user: string): string {
  return (
    `${user} on ${node} cannot run commands as root with \`sudo -n\` (no terminal, no password). ` +
    `Fix: give ${user} passwordless sudo on ${node}, e.g. /etc/sudoers.d/${user} (mode 0440) with "${user} ALL=(ALL:ALL) NOPASSWD: ALL" ` +
    `and, where sudoers sets requiretty, "Defaults:${user} !requiretty"; or log in as root (the node's user in the inventory, or ssh-user)`
  );
}

/**
 * A command the transport ran through `sudo -n` that sudo itself refused: its stderr gets a last line that names
 * the node, the user and the fix, so every caller's error (which shows the stderr's tail) says what to do.
 */
export function explainSudoRefusal(result: CommandResult, node: string, user: string, sudo: boolean | undefined): CommandResult {
  if (!sudo || user === 'root' || result.code === 0 || !SUDO_REFUSAL.test(result.stderr)) return result;
  return { ...result, stderr: `${result.stderr.replace(/\n?$/, '\n')}${sudoFix(node, user)}\n` };
}
