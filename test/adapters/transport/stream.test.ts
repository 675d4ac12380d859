// Streaming a node file into the backup archive without a copy on the runner: through the transport's own read
// (LocalShell.openFile), through commands when the transport has none or refuses the file, checked against the
// node's size and SHA-256 as it passes; and the tar writer taking such a stream as an entry.
import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { streamFromNode } from '../../../src/adapters/transport/fetch.ts';
import { LocalShell } from '../../../src/adapters/transport/local.ts';
import type { NodeShell } from '../../../src/adapters/transport/node-shell.ts';
import { readTar, tarStream } from '../../../src/backup/tar.ts';

const dir = mkdtempSync(join(tmpdir(), 'stream-test-'));
const content = Buffer.alloc(9 * 1024 * 1024 + 7);
for (let i = 0; i < content.length; i++) content[i] = (i * 37) % 253;
const source = join(dir, 'snapshot.db');
writeFileSync(source, content);
const facts = { size: content.length, sha256: createHash('sha256').update(content).digest('hex') };

async function collect(chunks: AsyncIterable<Uint8Array>): Promise<Buffer> {
  const parts: Uint8Array[] = [];
  for await (const chunk of chunks) parts.push(chunk);
  return Buffer.concat(parts);
}

const commandsOnly = (shell: NodeShell): NodeShell => ({ node: shell.node, run: (a, o) => shell.run(a, o), close: () => shell.close() });

describe('streamFromNode', () => {
  test("through the transport's read, byte for byte, nothing written on the runner", async () => {
    expect((await collect(streamFromNode(new LocalShell('n'), source, facts))).equals(content)).toBe(true);
    expect(readdirSync(dir)).toEqual(['snapshot.db']);
  });

  test('through commands when the transport has no read, or refuses the file', async () => {
    expect((await collect(streamFromNode(commandsOnly(new LocalShell('n')), source, facts))).equals(content)).toBe(true);
    const refusing: NodeShell = {
      ...commandsOnly(new LocalShell('n')),
      openFile: () => Promise.reject(new Error('EACCES: permission denied')),
    };
    expect((await collect(streamFromNode(refusing, source, facts))).equals(content)).toBe(true);
  });

  test('a different checksum, a shorter or a longer file fails', async () => {
    await expect(collect(streamFromNode(new LocalShell('n'), source, { ...facts, sha256: '0'.repeat(64) }))).rejects.toThrow(
      /does not match/,
    );
    await expect(collect(streamFromNode(new LocalShell('n'), source, { ...facts, size: facts.size + 1 }))).rejects.toThrow(
      /does not match/,
    );
    await expect(collect(streamFromNode(new LocalShell('n'), source, { ...facts, size: 10 }))).rejects.toThrow(
      /longer than its recorded 10 bytes/,
    );
  });
});

describe('tarStream with streamed and in-memory entries', () => {
  test('packs them as ustar entries, and refuses a stream of the wrong length', async () => {
    const archive = await collect(
      tarStream([
        { name: 'manifest.json', data: Buffer.from('{}\n') },
        { name: 'cp-1/etcd-snapshot.db', size: facts.size, content: () => streamFromNode(new LocalShell('cp-1'), source, facts) },
      ]),
    );
    const entries = readTar(archive);
    expect(entries.map((e) => e.name)).toEqual(['manifest.json', 'cp-1/etcd-snapshot.db']);
    expect(entries[1]?.data.equals(content)).toBe(true);
    const short = tarStream([
      {
        name: 'x',
        size: 5,
        content: async function* () {
          yield Buffer.from('abc');
        },
      },
    ]);
    await expect(collect(short)).rejects.toThrow(/changed size/);
  });
});
