// Running commands on a node for the backup: as root, failing with a message that names the node, the step
// and the command's own error (never its input: standard input may carry key material).
import type { CommandResult, NodeShell } from '../adapters/transport/node-shell.ts';

export class NodeStepError extends Error {
  constructor(node: string, step: string, result: CommandResult) {
    const detail = (result.stderr.trim() || result.stdout.trim()).split('\n').slice(-6).join('\n');
    super(`${step} on ${node} failed (exit ${result.code})${detail ? `: ${detail}` : ''}`);
    this.name = 'NodeStepError';
  }
}

/** Runs argv as root; throws NodeStepError unless it exits 0. Returns stdout. */
export async function runAsRoot(
  shell: NodeShell,
  argv: readonly string[],
  step: string,
  opts: { timeoutMs?: number; stdin?: string } = {},
): Promise<string> {
  const result = await shell.run(argv, { ...opts, sudo: true });
  if (result.code !== 0) throw new NodeStepError(shell.node, step, result);
  return result.stdout;
}

/** Runs argv as root and returns the whole result (for commands whose failure is an answer). */
export function tryAsRoot(shell: NodeShell, argv: readonly string[], opts: { timeoutMs?: number } = {}): Promise<CommandResult> {
  return shell.run(argv, { ...opts, sudo: true });
}

/** Which of these paths exist on the node (a constant script; the paths are its arguments, never its text). */
export async function existingPaths(shell: NodeShell, paths: readonly string[]): Promise<string[]> {
  const script = 'for p in "$@"; do if [ -e "$p" ]; then printf "%s\\n" "$p"; fi; done';
  const out = await runAsRoot(shell, ['sh', '-c', script, 'sh', ...paths], 'looking for files');
  return out.split('\n').filter(Boolean);
}

/** sha256 and size of one file on the node. */
export async function remoteFileFacts(shell: NodeShell, path: string): Promise<{ size: number; sha256: string }> {
  const out = await runAsRoot(shell, ['sh', '-c', 'stat -c %s "$1" && sha256sum "$1"', 'sh', path], `checksumming ${path}`);
  const [sizeLine = '', sumLine = ''] = out.trim().split('\n');
  const sha256 = sumLine.split(/\s+/)[0] ?? '';
  const size = Number(sizeLine);
  if (!/^[0-9a-f]{64}$/.test(sha256) || !Number.isInteger(size))
    throw new Error(`cannot read the size and checksum of ${path} on ${shell.node}: ${out.trim()}`);
  return { size, sha256 };
}
