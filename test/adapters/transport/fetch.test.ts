// Copying node files to the runner and back: through the transport's own copy (LocalShell.fetchFile), through
// commands when the transport has none, and a copy that does not match the node's checksum is refused.
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { fetchFromNode, pushToNode } from '../../../src/adapters/transport/fetch.ts';
import { LocalShell } from '../../../src/adapters/transport/local.ts';
import type { NodeShell } from '../../../src/adapters/transport/node-shell.ts';

const dir = mkdtempSync(join(tmpdir(), 'fetch-test-'));
// 9 MiB + a bit: more than one 8 MiB chunk through the command path, not a multiple of 3 (base64 padding)
const content = Buffer.alloc(9 * 1024 * 1024 + 7);
for (let i = 0; i < content.length; i++) content[i] = (i * 31) % 251;
const source = join(dir, 'snapshot.db');
writeFileSync(source, content);
const facts = { size: content.length, sha256: createHash('sha256').update(content).digest('hex') };

function withoutFetchFile(shell: NodeShell): NodeShell {
  return { node: shell.node, run: (argv, opts) => shell.run(argv, opts), close: () => shell.close() };
}

describe('fetchFromNode / pushToNode', () => {
  test('the transport copy gives an exact 0600 copy', async () => {
    const out = join(dir, 'a.db');
    expect(await fetchFromNode(new LocalShell('node-a'), source, out, facts)).toEqual(facts);
    expect(readFileSync(out).equals(content)).toBe(true);
    expect(statSync(out).mode & 0o777).toBe(0o600);
  });

  test('without a transport copy the file comes over commands, in chunks, byte for byte', async () => {
    const out = join(dir, 'b.db');
    expect(await fetchFromNode(withoutFetchFile(new LocalShell('node-b')), source, out, facts)).toEqual(facts);
    expect(readFileSync(out).equals(content)).toBe(true);
  });

  test('a copy that does not match the recorded checksum is refused and removed', async () => {
    const out = join(dir, 'c.db');
    await expect(fetchFromNode(new LocalShell('node-c'), source, out, { ...facts, sha256: '0'.repeat(64) })).rejects.toThrow(
      /does not match/,
    );
    expect(() => statSync(out)).toThrow();
  });

  test('pushToNode writes the file on the node and checks its checksum there', async () => {
    const target = join(dir, 'pushed.db');
    expect(await pushToNode(new LocalShell('node-d'), source, target)).toEqual(facts);
    expect(readFileSync(target).equals(content)).toBe(true);
  });
});
