// The post step's cleanup: incomplete archives (`*.partial`) a killed backup left under RUNNER_TEMP go, and the
// snapshot copy a killed rollback left; the
// finished archive and its manifest stay.
import { existsSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, test } from 'vitest';
import { removeIncompleteArchives, removeRollbackCopies } from '../../src/backup/backup.ts';

test('removes only the .partial files under RUNNER_TEMP/kubeadm-upgrade-backup', async () => {
  const temp = mkdtempSync(join(tmpdir(), 'partial-'));
  const artifact = join(temp, 'kubeadm-upgrade-backup', '42', 'artifact');
  mkdirSync(artifact, { recursive: true });
  const files = ['kubeadm-backup-c-run-42.tar.age.partial', 'kubeadm-backup-c-run-41.tar.age', 'manifest.json'].map((f) =>
    join(artifact, f),
  );
  for (const file of files) writeFileSync(file, 'x');
  writeFileSync(join(temp, 'other.partial'), 'not ours');
  expect(await removeIncompleteArchives(temp)).toEqual([files[0]]);
  expect(files.map((f) => existsSync(f))).toEqual([false, true, true]);
  expect(existsSync(join(temp, 'other.partial'))).toBe(true);
  expect(await removeIncompleteArchives(join(temp, 'missing'))).toEqual([]);
});

test('removes the etcd snapshot a killed rollback copied to RUNNER_TEMP/kubeadm-upgrade-rollback, and nothing else', async () => {
  const temp = mkdtempSync(join(tmpdir(), 'partial-'));
  const staging = join(temp, 'kubeadm-upgrade-rollback');
  mkdirSync(staging, { recursive: true });
  writeFileSync(join(staging, 'etcd-snapshot.db'), 'every secret of the cluster');
  writeFileSync(join(temp, 'etcd-snapshot.db'), 'not ours');
  expect(await removeRollbackCopies(temp)).toEqual([join(staging, 'etcd-snapshot.db')]);
  expect(existsSync(staging)).toBe(false);
  expect(existsSync(join(temp, 'etcd-snapshot.db'))).toBe(true);
  expect(await removeRollbackCopies(join(temp, 'missing'))).toEqual([]);
});
