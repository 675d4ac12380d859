// Turning a downloaded backup artifact back into files: decrypt the .age archive with an age identity,
// unpack it, and check every file against the manifest inside (size and SHA-256). Used by
// scripts/decrypt-backup.ts and by `command: rollback` with a runner source.
import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { localFileFacts } from '../adapters/transport/fetch.ts';
import { MANIFEST_FILE } from './backup.ts';
import { decryptFile } from './encrypt.ts';
import { extractTarFile } from './tar.ts';
import type { BackupManifest } from './types.ts';

/** Reads identities from age identity file text (AGE-SECRET-KEY-1… lines; # comments and blank lines skipped). */
export function parseIdentityFile(text: string): string[] {
  const ids = text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l.startsWith('AGE-SECRET-KEY-'));
  if (ids.length === 0) throw new Error('the identity file holds no AGE-SECRET-KEY-1… line (make one with age-keygen)');
  return ids;
}

/** Every file the manifest lists is present with the recorded size and SHA-256. */
export async function checkUnpacked(dir: string, manifest: BackupManifest): Promise<void> {
  for (const node of manifest.nodes) {
    for (const file of [node.files, ...(node.etcd ? [node.etcd.file] : [])]) {
      const path = join(dir, node.node, file.name);
      const facts = await localFileFacts(path).catch(() => undefined);
      if (!facts) throw new Error(`${path} is missing from the backup archive`);
      if (facts.sha256 !== file.sha256 || facts.size !== file.size)
        throw new Error(`${path} does not match the manifest (sha256 ${facts.sha256}, recorded ${file.sha256})`);
    }
  }
}

/** Decrypts `ageFile` into outDir and checks it; returns the manifest. The plaintext tar is removed. */
export async function decryptBackup(ageFile: string, identities: readonly string[], outDir: string): Promise<BackupManifest> {
  const { mkdir } = await import('node:fs/promises');
  await mkdir(outDir, { recursive: true, mode: 0o700 });
  const tarPath = join(outDir, '.backup.tar');
  try {
    await decryptFile(ageFile, identities, tarPath);
    await extractTarFile(tarPath, outDir);
  } finally {
    await rm(tarPath, { force: true });
  }
  const manifest = JSON.parse(await readFile(join(outDir, MANIFEST_FILE), 'utf8')) as BackupManifest;
  await checkUnpacked(outDir, manifest);
  return manifest;
}
