// The local transport: the runner is the node (self-hosted runner). Commands run with execFile, no shell.
import { execFile } from 'node:child_process';
import { chmod, copyFile, open } from 'node:fs/promises';
import { userInfo } from 'node:os';
import { quoteCommand } from './quote.ts';
import {
  CommandTimeoutError,
  DEFAULT_COMMAND_TIMEOUT_MS,
  explainSudoRefusal,
  withSudo,
  type CommandResult,
  type NodeShell,
  type RunOptions,
} from './node-shell.ts';

export class LocalShell implements NodeShell {
  readonly node: string;
  readonly #user: string;

  constructor(node: string, user = userInfo().username) {
    this.node = node;
    this.#user = user;
  }

  run(argv: readonly string[], opts: RunOptions = {}): Promise<CommandResult> {
    const [file, ...args] = withSudo(argv, this.#user, opts.sudo);
    if (file === undefined) return Promise.reject(new Error('cannot run an empty command'));
    const timeoutMs = opts.timeoutMs ?? DEFAULT_COMMAND_TIMEOUT_MS;
    return new Promise((resolve, reject) => {
      const child = execFile(
        file,
        args,
        { encoding: 'utf8', timeout: timeoutMs, killSignal: 'SIGKILL', maxBuffer: 64 * 1024 * 1024 },
        (error, stdout, stderr) => {
          if (error && (error as { killed?: boolean }).killed && error.signal === 'SIGKILL') {
            reject(new CommandTimeoutError(this.node, quoteCommand(argv), timeoutMs));
            return;
          }
          if (error && typeof error.code === 'string') {
            // the program could not be started (ENOENT, EACCES): report it like a shell would
            resolve({ code: 127, stdout, stderr: `${stderr}${file}: ${error.message}\n` });
            return;
          }
          resolve(explainSudoRefusal({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr }, this.node, this.#user, opts.sudo));
        },
      );
      if (opts.stdin !== undefined) child.stdin?.end(opts.stdin);
      else child.stdin?.end();
    });
  }

  /** The runner is the node: a plain copy, readable only by its owner. */
  async fetchFile(remotePath: string, localPath: string): Promise<void> {
    await copyFile(remotePath, localPath);
    await chmod(localPath, 0o600);
  }

  /** The runner is the node: a plain read (opened first, so a permission error comes before any byte). */
  async openFile(remotePath: string): Promise<AsyncIterable<Uint8Array>> {
    const handle = await open(remotePath, 'r');
    return handle.createReadStream();
  }

  async close(): Promise<void> {
    // nothing is held open between commands
  }
}
