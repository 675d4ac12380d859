// One node's command session: runs argument vectors through the node's NodeShell (always as root: `sudo -n`
// for other users), writes each command and its output into the stage's log, turns a failure into an error
// carrying the output's tail, and reconnects a dropped connection, re-running the command only when the
// caller says it is safe to run twice.
import { quoteCommand } from '../adapters/transport/quote.ts';
import { CommandTimeoutError, type CommandResult, type NodeShell, type RunOptions } from '../adapters/transport/node-shell.ts';
import type { Clock, NodeCommandRunner } from './types.ts';

const TAIL_LINES = 20;
const RECONNECT_ATTEMPTS = 3;

/** The last lines of a command's output, stderr after stdout. */
export function outputTail(result: Pick<CommandResult, 'stdout' | 'stderr'>, lines = TAIL_LINES): string {
  const all = `${result.stdout}\n${result.stderr}`
    .split('\n')
    .map((l) => l.trimEnd())
    .filter((l) => l !== '');
  return all.slice(-lines).join('\n');
}

export class CommandFailedError extends Error {
  readonly node: string;
  readonly command: string;
  readonly code: number | undefined;
  readonly tail: string;
  constructor(node: string, command: string, code: number | undefined, tail: string, why?: string) {
    super(why ?? `\`${command}\` failed on ${node} with exit code ${code}`);
    this.name = 'CommandFailedError';
    this.node = node;
    this.command = command;
    this.code = code;
    this.tail = tail;
  }
}

export type RunCommandOptions = RunOptions & { rerunOnDrop?: boolean; allowFailure?: boolean };

export class NodeSession {
  readonly node: string;
  readonly #open: () => Promise<NodeShell>;
  readonly #clock: Clock;
  #shell: NodeShell | undefined;

  constructor(node: string, open: () => Promise<NodeShell>, clock: Clock) {
    this.node = node;
    this.#open = open;
    this.#clock = clock;
  }

  async #connect(say: (line: string) => void): Promise<NodeShell> {
    if (this.#shell) return this.#shell;
    let lastError: unknown;
    for (let attempt = 1; attempt <= RECONNECT_ATTEMPTS; attempt++) {
      try {
        this.#shell = await this.#open();
        return this.#shell;
      } catch (error) {
        lastError = error;
        say(`cannot connect to ${this.node} (attempt ${attempt} of ${RECONNECT_ATTEMPTS}): ${(error as Error).message}`);
        if (attempt < RECONNECT_ATTEMPTS) await this.#clock.sleep(2000 * attempt);
      }
    }
    throw lastError instanceof Error ? lastError : new Error(String(lastError));
  }

  async #drop(): Promise<void> {
    const shell = this.#shell;
    this.#shell = undefined;
    await shell?.close().catch(() => undefined);
  }

  /** Runs one command; resolves with its result, or rejects with CommandFailedError. */
  async run(argv: readonly string[], say: (line: string) => void, opts: RunCommandOptions = {}): Promise<CommandResult> {
    const line = quoteCommand(argv);
    say(`$ ${line}`);
    const runOptions: RunOptions = {
      sudo: true,
      ...(opts.timeoutMs ? { timeoutMs: opts.timeoutMs } : {}),
      ...(opts.stdin !== undefined ? { stdin: opts.stdin } : {}),
    };
    let result: CommandResult | undefined;
    for (let attempt = 0; result === undefined; attempt++) {
      const shell = await this.#connect(say);
      try {
        result = await shell.run(argv, runOptions);
      } catch (error) {
        if (error instanceof CommandTimeoutError) throw new CommandFailedError(this.node, line, undefined, '', error.message);
        await this.#drop();
        const message = (error as Error).message;
        if (!opts.rerunOnDrop || attempt >= 1) {
          const why = opts.rerunOnDrop
            ? `the connection to ${this.node} dropped twice while running \`${line}\`: ${message}`
            : `the connection to ${this.node} dropped while running \`${line}\` (${message}); it is not run again automatically because it may still be running on the node; a re-run of the action resumes this stage`;
          throw new CommandFailedError(this.node, line, undefined, '', why);
        }
        say(`connection to ${this.node} dropped (${message}); reconnecting and running the command again (it is safe to repeat)`);
      }
    }
    for (const text of [result.stdout, result.stderr]) {
      for (const out of text.split('\n')) if (out.trim() !== '') say(`  ${out.trimEnd()}`);
    }
    if (result.code !== 0 && !opts.allowFailure) throw new CommandFailedError(this.node, line, result.code, outputTail(result));
    return result;
  }

  /** A runner bound to one stage's log. */
  runner(say: (line: string) => void): NodeCommandRunner {
    return { run: (argv, opts) => this.run(argv, say, opts) };
  }

  async close(): Promise<void> {
    await this.#drop();
  }
}
