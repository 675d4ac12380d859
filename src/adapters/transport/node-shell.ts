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
