// The ustar writer must produce archives GNU tar reads, and the reader must read what GNU tar writes.
import { execFileSync } from 'node:child_process';
import { createWriteStream, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { describe, expect, test } from 'vitest';
import { extractTarFile, readTar, tarStream, ustarHeader } from '../../src/backup/tar.ts';

const dir = mkdtempSync(join(tmpdir(), 'tar-test-'));

async function writeArchive(entries: { name: string; content: Buffer }[], out: string): Promise<void> {
  const sources = entries.map((e, i) => {
    const file = join(dir, `src-${i}`);
    writeFileSync(file, e.content);
    return { name: e.name, file };
  });
  await pipeline(Readable.from(tarStream(sources)), createWriteStream(out));
}

describe('ustar', () => {
  const longName = `${'deep/'.repeat(30)}snapshot.db`; // > 100 bytes: needs the prefix field
  const entries = [
    { name: 'manifest.json', content: Buffer.from('{"a":1}\n') },
    { name: 'cp-1/etcd-snapshot.db', content: Buffer.alloc(70_001, 7) },
    { name: 'empty', content: Buffer.alloc(0) },
    { name: longName, content: Buffer.from('x'.repeat(513)) },
  ];

  test('GNU tar lists and extracts what the writer wrote, byte for byte', async () => {
    const archive = join(dir, 'a.tar');
    await writeArchive(entries, archive);
    expect(execFileSync('tar', ['-tf', archive], { encoding: 'utf8' }).trim().split('\n')).toEqual(entries.map((e) => e.name));
    const out = join(dir, 'gnu-out');
    mkdirSync(out);
    execFileSync('tar', ['-xf', archive, '-C', out]);
    for (const e of entries) expect(readFileSync(join(out, e.name)).equals(e.content)).toBe(true);
  });

  test('the reader and the extractor read what GNU tar wrote', async () => {
    const src = join(dir, 'gnu-src');
    mkdirSync(join(src, 'node'), { recursive: true });
    writeFileSync(join(src, 'node', 'files.tar'), Buffer.alloc(1500, 3));
    writeFileSync(join(src, 'manifest.json'), '{}');
    const archive = join(dir, 'gnu.tar');
    execFileSync('tar', ['--format=ustar', '-cf', archive, '-C', src, 'manifest.json', 'node/files.tar']);
    expect(readTar(readFileSync(archive)).map((e) => [e.name, e.size])).toEqual([
      ['manifest.json', 2],
      ['node/files.tar', 1500],
    ]);
    const out = join(dir, 'ours-out');
    expect(await extractTarFile(archive, out)).toEqual(['manifest.json', 'node/files.tar']);
    expect(readFileSync(join(out, 'node', 'files.tar')).equals(Buffer.alloc(1500, 3))).toBe(true);
  });

  test('a damaged header and a path leaving the output folder are refused', async () => {
    const archive = join(dir, 'a.tar');
    await writeArchive(entries.slice(0, 1), archive);
    const bytes = readFileSync(archive);
    bytes[10] = 0x41;
    expect(() => readTar(bytes)).toThrow(/bad header checksum/);
    const evil = Buffer.concat([ustarHeader('ok', 0, 0), Buffer.alloc(1024)]);
    evil.write('../evil\0', 0, 'utf8');
    // fix the checksum so only the path check can refuse it
    evil.write('        ', 148, 'ascii');
    let sum = 0;
    for (const b of evil.subarray(0, 512)) sum += b;
    evil.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 'ascii');
    writeFileSync(join(dir, 'evil.tar'), evil);
    await expect(extractTarFile(join(dir, 'evil.tar'), join(dir, 'evil-out'))).rejects.toThrow(/outside/);
    expect(() => ustarHeader('/etc/passwd', 1, 0)).toThrow(/unsafe/);
  });
});
