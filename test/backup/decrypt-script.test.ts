// scripts/decrypt-backup.ts as a person runs it: the identity from a file, the archive unpacked and checked
// against the manifest; the wrong identity fails with a message and exit code 1.
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, test } from 'vitest';
import { generateIdentity, identityToRecipient } from 'age-encryption';
import { encryptToFile } from '../../src/backup/encrypt.ts';
import { tarStream } from '../../src/backup/tar.ts';
import type { BackupManifest } from '../../src/backup/types.ts';

const run = promisify(execFile);
const dir = mkdtempSync(join(tmpdir(), 'decrypt-script-'));
const script = join(import.meta.dirname, '../../scripts/decrypt-backup.ts');
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

let identity: string;
const snapshot = Buffer.alloc(5000, 9);
const files = Buffer.alloc(2048, 4);

beforeAll(async () => {
  identity = await generateIdentity();
  mkdirSync(join(dir, 'src', 'cp-1'), { recursive: true });
  writeFileSync(join(dir, 'src', 'cp-1', 'etcd-snapshot.db'), snapshot);
  writeFileSync(join(dir, 'src', 'cp-1', 'files.tar'), files);
  const manifest: BackupManifest = {
    format: 'kubeadm-upgrade-action/backup@1',
    id: '20260101T000000Z-7',
    cluster: 'prod',
    runId: '7',
    createdAt: '2026-01-01T00:00:00Z',
    nodes: [
      {
        node: 'cp-1',
        role: 'control-plane',
        nodeDir: '/var/lib/kubeadm-upgrade-action/backups/20260101T000000Z-7',
        fetched: true,
        paths: [],
        files: { name: 'files.tar', size: files.length, sha256: sha(files) },
        etcd: {
          file: { name: 'etcd-snapshot.db', size: snapshot.length, sha256: sha(snapshot) },
          status: { hash: 1, revision: 42, totalKey: 9, totalSize: 5000 },
          via: 'host',
          endpoint: 'https://127.0.0.1:2379',
          external: false,
        },
        versions: { manager: 'apt', packages: { kubeadm: '1.30.5-1.1' } },
      },
    ],
  };
  writeFileSync(join(dir, 'src', 'manifest.json'), JSON.stringify(manifest));
  const entries = ['manifest.json', 'cp-1/etcd-snapshot.db', 'cp-1/files.tar'].map((name) => ({ name, file: join(dir, 'src', name) }));
  await encryptToFile(tarStream(entries), [await identityToRecipient(identity)], join(dir, 'backup.tar.age'));
  writeFileSync(join(dir, 'key.txt'), `# created: now\n# public key: x\n${identity}\n`, { mode: 0o600 });
  writeFileSync(join(dir, 'other.txt'), `${await generateIdentity()}\n`, { mode: 0o600 });
});

describe('scripts/decrypt-backup.ts', () => {
  test('decrypts with the matching identity file and checks every file', async () => {
    const { stdout } = await run(process.execPath, [
      script,
      '--identity',
      join(dir, 'key.txt'),
      '--in',
      join(dir, 'backup.tar.age'),
      '--out',
      join(dir, 'out'),
    ]);
    expect(stdout).toContain('unpacked backup 20260101T000000Z-7 of cluster prod');
    expect(stdout).toContain('etcd snapshot revision 42 (9 keys)');
    expect(readFileSync(join(dir, 'out', 'cp-1', 'etcd-snapshot.db')).equals(snapshot)).toBe(true);
    expect(stdout).not.toContain(identity);
  });

  test('fails with another identity, naming the cause', async () => {
    const failed = await run(process.execPath, [
      script,
      '--identity',
      join(dir, 'other.txt'),
      '--in',
      join(dir, 'backup.tar.age'),
      '--out',
      join(dir, 'out2'),
    ]).catch((e: { code: number; stderr: string }) => e);
    expect(failed).toMatchObject({ code: 1 });
    expect((failed as { stderr: string }).stderr).toMatch(/cannot decrypt .*no identity matched/);
  });

  test('reads the identity from standard input with --identity -', async () => {
    const child = execFile(process.execPath, [script, '--identity', '-', '--in', join(dir, 'backup.tar.age'), '--out', join(dir, 'out3')]);
    child.stdin?.end(`${identity}\n`);
    const code = await new Promise((resolve) => child.on('close', resolve));
    expect(code).toBe(0);
    expect(readFileSync(join(dir, 'out3', 'cp-1', 'files.tar')).equals(files)).toBe(true);
  });
});
