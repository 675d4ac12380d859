// A minimal ustar writer and reader: enough to pack the backup's files into one archive before encryption
// and to unpack it again (scripts/decrypt-backup.ts, rollback from a downloaded artifact). Regular files
// only; names up to 255 bytes (prefix + name), sizes below 8 GiB (11 octal digits).
import { createReadStream } from 'node:fs';
import { mkdir, open, stat } from 'node:fs/promises';
import { dirname, join, resolve, sep } from 'node:path';

const BLOCK = 512;
const MAX_SIZE = 8 * 1024 ** 3 - 1;

export type TarEntrySource =
  | {
      /** path inside the archive, '/'-separated, relative */
      name: string;
      /** file on disk to read */
      file: string;
    }
  | {
      name: string;
      /** the entry's bytes, in memory (e.g. the manifest) */
      data: Uint8Array;
    }
  | {
      name: string;
      /** the entry's size, known before its first byte (a tar header comes first) */
      size: number;
      /** the entry's bytes as they arrive (e.g. from a node); must yield exactly `size` bytes */
      content: () => AsyncIterable<Uint8Array>;
    };

function octal(value: number, width: number): string {
  return `${value.toString(8).padStart(width - 1, '0')}\0`;
}

function splitName(name: string): { prefix: string; base: string } {
  if (Buffer.byteLength(name) <= 100) return { prefix: '', base: name };
  // ustar: the name may be split at a '/' into prefix (≤155) and name (≤100)
  for (let i = name.lastIndexOf('/'); i > 0; i = name.lastIndexOf('/', i - 1)) {
    const prefix = name.slice(0, i);
    const base = name.slice(i + 1);
    if (Buffer.byteLength(prefix) <= 155 && Buffer.byteLength(base) <= 100) return { prefix, base };
  }
  throw new Error(`the archive path "${name}" is too long for a ustar archive`);
}

/** One 512-byte ustar header for a regular file. */
export function ustarHeader(name: string, size: number, mtimeSeconds: number, mode = 0o600): Buffer {
  if (name.startsWith('/') || name.split('/').includes('..')) throw new Error(`unsafe archive path "${name}"`);
  if (size > MAX_SIZE) throw new Error(`${name} is ${size} bytes, more than a ustar archive holds (8 GiB)`);
  const { prefix, base } = splitName(name);
  const header = Buffer.alloc(BLOCK);
  header.write(base, 0, 100, 'utf8');
  header.write(octal(mode, 8), 100, 'ascii');
  header.write(octal(0, 8), 108, 'ascii'); // uid
  header.write(octal(0, 8), 116, 'ascii'); // gid
  header.write(octal(size, 12), 124, 'ascii');
  header.write(octal(Math.floor(mtimeSeconds), 12), 136, 'ascii');
  header.write('        ', 148, 'ascii'); // checksum field counts as spaces while summing
  header.write('0', 156, 'ascii'); // regular file
  header.write('ustar\0', 257, 'ascii');
  header.write('00', 263, 'ascii');
  header.write(prefix, 345, 155, 'utf8');
  let sum = 0;
  for (const byte of header) sum += byte;
  header.write(`${octal(sum, 7)} `, 148, 'ascii');
  return header;
}

/** Streams a ustar archive of the given files (header, content, padding per file; two zero blocks at the end). */
export async function* tarStream(entries: readonly TarEntrySource[]): AsyncGenerator<Uint8Array> {
  for (const entry of entries) {
    let size: number;
    let mtime = Date.now() / 1000;
    let content: AsyncIterable<Uint8Array> | Iterable<Uint8Array>;
    if ('file' in entry) {
      const info = await stat(entry.file);
      if (!info.isFile()) throw new Error(`${entry.file} is not a regular file`);
      size = info.size;
      mtime = info.mtimeMs / 1000;
      content = createReadStream(entry.file);
    } else if ('data' in entry) {
      size = entry.data.length;
      content = [entry.data];
    } else {
      size = entry.size;
      content = entry.content();
    }
    yield ustarHeader(entry.name, size, mtime);
    let written = 0;
    for await (const chunk of content) {
      written += chunk.length;
      if (written > size) throw new Error(`${entry.name} grew beyond its ${size} bytes while it was archived`);
      yield chunk;
    }
    if (written !== size) throw new Error(`${entry.name} changed size while it was archived (${written} of ${size} bytes)`);
    const pad = (BLOCK - (size % BLOCK)) % BLOCK;
    if (pad > 0) yield Buffer.alloc(pad);
  }
  yield Buffer.alloc(BLOCK * 2);
}

export interface TarEntry {
  name: string;
  size: number;
  data: Buffer;
}

function field(header: Buffer, start: number, length: number): string {
  const raw = header.subarray(start, start + length);
  const end = raw.indexOf(0);
  return raw.subarray(0, end < 0 ? length : end).toString('utf8');
}

/** Reads a ustar archive held in memory (regular files only; other entry types are skipped). */
export function readTar(archive: Buffer): TarEntry[] {
  const entries: TarEntry[] = [];
  let offset = 0;
  while (offset + BLOCK <= archive.length) {
    const header = archive.subarray(offset, offset + BLOCK);
    if (header.every((b) => b === 0)) break;
    const { name, size, type } = parseHeader(header, offset);
    const start = offset + BLOCK;
    if (start + size > archive.length) throw new Error(`the archive is truncated inside ${name}`);
    if (type === '0') entries.push({ name, size, data: archive.subarray(start, start + size) });
    offset = start + Math.ceil(size / BLOCK) * BLOCK;
  }
  return entries;
}

function parseHeader(header: Buffer, offset: number): { name: string; size: number; type: string } {
  const stored = parseInt(field(header, 148, 8).trim(), 8);
  let sum = 0;
  for (let i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? 32 : (header[i] ?? 0);
  if (stored !== sum) throw new Error(`the archive is damaged: bad header checksum at byte ${offset}`);
  const prefix = field(header, 345, 155);
  const base = field(header, 0, 100);
  return {
    name: prefix ? `${prefix}/${base}` : base,
    size: parseInt(field(header, 124, 12).trim() || '0', 8),
    type: field(header, 156, 1) || '0',
  };
}

/**
 * Unpacks the regular files of a ustar archive on disk into outDir (0600 files, 0700 folders), without
 * holding a file in memory; refuses paths that would leave outDir. Returns the names written.
 */
export async function extractTarFile(tarPath: string, outDir: string): Promise<string[]> {
  const root = resolve(outDir);
  const archive = await open(tarPath, 'r');
  const names: string[] = [];
  try {
    const { size: total } = await archive.stat();
    const header = Buffer.alloc(BLOCK);
    const chunk = Buffer.alloc(1024 * 1024);
    let offset = 0;
    while (offset + BLOCK <= total) {
      await archive.read(header, 0, BLOCK, offset);
      if (header.every((b) => b === 0)) break;
      const entry = parseHeader(header, offset);
      const start = offset + BLOCK;
      if (start + entry.size > total) throw new Error(`the archive is truncated inside ${entry.name}`);
      if (entry.type === '0') {
        const target = resolve(join(root, entry.name));
        if (!target.startsWith(root + sep)) throw new Error(`the archive entry "${entry.name}" would be written outside ${outDir}`);
        await mkdir(dirname(target), { recursive: true, mode: 0o700 });
        const out = await open(target, 'w', 0o600);
        try {
          for (let done = 0; done < entry.size; ) {
            const { bytesRead } = await archive.read(chunk, 0, Math.min(chunk.length, entry.size - done), start + done);
            if (bytesRead === 0) throw new Error(`the archive ended inside ${entry.name}`);
            await out.write(chunk.subarray(0, bytesRead));
            done += bytesRead;
          }
        } finally {
          await out.close();
        }
        names.push(entry.name);
      }
      offset = start + Math.ceil(entry.size / BLOCK) * BLOCK;
    }
  } finally {
    await archive.close();
  }
  return names;
}
