// Copying files between a node and the runner. A transport that can copy files itself (SFTP over the SSH
// connection, a plain copy for the local transport) offers NodeShell.fetchFile; without it, or when the
// login user may not read the file (not root), the copy goes as base64 over sudo'd commands, in chunks.
// Either way the copy is checked against the node's size and SHA-256.
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { appendFile, open, rm, stat, writeFile } from 'node:fs/promises';
import type { NodeShell } from './node-shell.ts';

const CHUNK_BYTES = 8 * 1024 * 1024;

export interface FileFacts {
  size: number;
  sha256: string;
}

export async function localFileFacts(path: string): Promise<FileFacts> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return { size: (await stat(path)).size, sha256: hash.digest('hex') };
}

async function runChecked(shell: NodeShell, argv: string[], what: string, stdin?: string): Promise<string> {
  const result = await shell.run(argv, { sudo: true, timeoutMs: 300_000, ...(stdin !== undefined ? { stdin } : {}) });
  if (result.code !== 0)
    throw new Error(`${what} on ${shell.node} failed (exit ${result.code}): ${result.stderr.trim().split('\n').slice(-3).join(' ')}`);
  return result.stdout;
}

/** base64 over commands, CHUNK_BYTES at a time, as root (works for root-only files through sudo). */
async function fetchByCommands(shell: NodeShell, remotePath: string, localPath: string, size: number): Promise<void> {
  await writeFile(localPath, new Uint8Array(), { mode: 0o600 });
  for await (const chunk of streamByCommands(shell, remotePath, size)) await appendFile(localPath, chunk);
}

/** base64 over commands as root, CHUNK_BYTES at a time, yielded as they arrive (nothing written on the runner). */
async function* streamByCommands(shell: NodeShell, remotePath: string, size: number): AsyncGenerator<Uint8Array> {
  for (let offset = 0; offset < size; offset += CHUNK_BYTES) {
    const script = 'tail -c +"$2" -- "$1" | head -c "$3" | base64 -w0';
    const text = await runChecked(
      shell,
      ['sh', '-c', script, 'sh', remotePath, String(offset + 1), String(CHUNK_BYTES)],
      `reading ${remotePath}`,
    );
    yield Buffer.from(text.trim(), 'base64');
  }
}

/**
 * Streams a file from the node without writing it on the runner, checked against the node's size and SHA-256
 * as it passes: more bytes than expected fail at once, a different size or checksum fails after the last byte
 * (the consumer must then discard what it made of them). SFTP as the login user when the transport offers it;
 * a root-only file (login user not root) goes as base64 over sudo'd commands.
 */
export async function* streamFromNode(shell: NodeShell, remotePath: string, expected: FileFacts): AsyncGenerator<Uint8Array> {
  let source: AsyncIterable<Uint8Array> | undefined;
  if (shell.openFile) {
    source = await shell.openFile(remotePath).catch((error: Error) => {
      if (!/permission denied|EACCES/i.test(error.message)) throw error;
      return undefined;
    });
  }
  const hash = createHash('sha256');
  let size = 0;
  for await (const chunk of source ?? streamByCommands(shell, remotePath, expected.size)) {
    size += chunk.length;
    if (size > expected.size)
      throw new Error(
        `${remotePath} on ${shell.node} is longer than its recorded ${expected.size} bytes: it changed after it was checksummed`,
      );
    hash.update(chunk);
    yield chunk;
  }
  const sha256 = hash.digest('hex');
  if (size !== expected.size || sha256 !== expected.sha256)
    throw new Error(
      `${remotePath} from ${shell.node} does not match: ${size} bytes sha256 ${sha256}, expected ${expected.size} bytes sha256 ${expected.sha256}`,
    );
}

/**
 * Copies a file from the node to the runner (mode 0600) and checks it: when `expected` is given the size and
 * SHA-256 must match it, otherwise the node's own `sha256sum` is asked. Returns the copy's facts.
 */
export async function fetchFromNode(shell: NodeShell, remotePath: string, localPath: string, expected: FileFacts): Promise<FileFacts> {
  let copied = false;
  if (shell.fetchFile) {
    // the transport copies as the login user: a root-only file needs the sudo path below
    copied = await shell.fetchFile(remotePath, localPath).then(
      () => true,
      (error: Error) => {
        if (!/permission denied|EACCES/i.test(error.message)) throw error;
        return false;
      },
    );
  }
  if (!copied) await fetchByCommands(shell, remotePath, localPath, expected.size);
  const got = await localFileFacts(localPath);
  if (got.size !== expected.size || got.sha256 !== expected.sha256) {
    await rm(localPath, { force: true });
    throw new Error(
      `the copy of ${remotePath} from ${shell.node} does not match: ${got.size} bytes sha256 ${got.sha256}, ` +
        `expected ${expected.size} bytes sha256 ${expected.sha256}`,
    );
  }
  return got;
}

/** Copies a runner file to the node (0600, root) by base64 over standard input, then checks its SHA-256 there. */
export async function pushToNode(shell: NodeShell, localPath: string, remotePath: string): Promise<FileFacts> {
  const facts = await localFileFacts(localPath);
  await runChecked(shell, ['sh', '-c', 'umask 077 && : > "$1"', 'sh', remotePath], `creating ${remotePath}`);
  const file = await open(localPath, 'r');
  try {
    const buffer = Buffer.alloc(CHUNK_BYTES);
    for (let offset = 0; offset < facts.size; offset += CHUNK_BYTES) {
      const { bytesRead } = await file.read(buffer, 0, CHUNK_BYTES, offset);
      const text = buffer.subarray(0, bytesRead).toString('base64');
      await runChecked(shell, ['sh', '-c', 'base64 -d >> "$1"', 'sh', remotePath], `writing ${remotePath}`, text);
    }
  } finally {
    await file.close();
  }
  const sum = (await runChecked(shell, ['sha256sum', '--', remotePath], `checksumming ${remotePath}`)).split(/\s+/)[0];
  if (sum !== facts.sha256)
    throw new Error(`the copy of ${localPath} on ${shell.node} (${remotePath}) has sha256 ${sum}, expected ${facts.sha256}`);
  return facts;
}
