// Entry point of every stand-in: `<node24> main.ts --node-dir DIR/nodes/NAME <tool> [args...]`.
// Applies command-fails faults, runs the tool, appends {time, tool, argv, exit} to commands.log.
import { appendFileSync } from 'node:fs';
import { userInfo } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { consumeFault, matchCommandFault } from '../node/faults.ts';
import { contextFor, type ToolContext } from './context.ts';
import { runTool } from './tools.ts';

function usage(): never {
  process.stderr.write('usage: main.ts --node-dir DIR/nodes/NAME <tool> [args...]\n');
  process.exit(2);
}

function stdinLines(): () => Promise<string> {
  let reader: AsyncIterator<string> | undefined;
  return async () => {
    reader ??= createInterface({ input: process.stdin })[Symbol.asyncIterator]();
    const next = await reader.next();
    return next.done ? '' : next.value;
  };
}

/** The command-fails fault for this command line, consumed; ssh-drop faults belong to the SSH layer. */
function takeFailure(ctx: ToolContext, commandLine: string): { exitCode?: number; stderr?: string } | undefined {
  const fault = matchCommandFault(ctx.clusterDir, ctx.nodeName, commandLine);
  if (fault?.type !== 'command-fails') return undefined;
  return consumeFault(ctx.clusterDir, fault) ? fault : undefined;
}

function log(ctx: ToolContext, tool: string, argv: string[], exit: number, fault: boolean): void {
  // user: who ran it; sudoUser: who asked sudo for it (the login user, when not root)
  const sudoUser = process.env.SUDO_USER;
  const entry = {
    time: new Date().toISOString(),
    tool,
    argv,
    exit,
    user: userInfo().username,
    ...(sudoUser ? { sudoUser } : {}),
    ...(fault ? { fault: 'command-fails' } : {}),
  };
  appendFileSync(join(ctx.nodeDir, 'commands.log'), `${JSON.stringify(entry)}\n`);
}

async function main(): Promise<number> {
  const args = process.argv.slice(2);
  if (args[0] !== '--node-dir' || !args[1] || !args[2]) usage();
  const nodeDir = args[1];
  const tool = args[2];
  const argv = args.slice(3);
  const ctx = contextFor(nodeDir, {
    out: (text) => process.stdout.write(text),
    err: (text) => process.stderr.write(text),
    readLine: stdinLines(),
  });
  const commandLine = [tool, ...argv].join(' ');
  const failure = takeFailure(ctx, commandLine);
  if (failure) {
    ctx.err((failure.stderr ?? `simulated failure of: ${commandLine}`).replace(/\n?$/, '\n'));
    const code = failure.exitCode ?? 1;
    log(ctx, tool, argv, code, true);
    return code;
  }
  let code: number;
  try {
    code = await runTool(ctx, tool, argv);
  } catch (err) {
    ctx.err(`${tool}: ${(err as Error).message}\n`);
    code = 1;
  }
  log(ctx, tool, argv, code, false);
  return code;
}

const code = await main();
// let stdout drain before leaving (large outputs through pipes)
process.stdout.write('', () => process.exit(code));
