// The backup as a stage of the upgrade runner: runs once, not after the run has already upgraded a node,
// and its dry run says what it would do and where the files would go.
import { describe, expect, test } from 'vitest';
import { parseBackupSettings } from './settings.ts';
import { createBackupStage, type BackupCommandContext } from '../../src/commands/backup.ts';
import type { InventoryNode } from '../../src/core/inventory.ts';

const node = (name: string, role: 'control-plane' | 'worker'): InventoryNode => ({
  name,
  address: '10.0.0.1',
  role,
  user: 'root',
  port: 22,
  transport: 'ssh',
  labels: {},
});
const ctx = (upgraded: boolean): BackupCommandContext => ({
  cluster: 'prod',
  runId: '5',
  nodes: [node('cp-1', 'control-plane'), node('w-1', 'worker'), node('w-2', 'worker')],
  runnerTemp: '/tmp',
  openShell: () => Promise.reject(new Error('a dry run must not connect')),
  log: () => {},
  warn: () => {},
  upgradeStarted: () => upgraded,
});

describe('backup stage', () => {
  test('dry run names the snapshot node, counts and destination', () => {
    const stage = createBackupStage(
      parseBackupSettings(() => ''),
      ctx(false),
    );
    expect(stage.shouldRun()).toBe(true);
    expect(stage.dryRun()).toBe(
      'would snapshot etcd on cp-1, save kubeadm files on 1 control plane(s) and kubelet files on 2 worker(s), keep the last 3 on each node, kept on the nodes (no backup-encryption-recipients)',
    );
  });

  test('does not run when backup is false or the run already upgraded a node', () => {
    expect(
      createBackupStage(
        parseBackupSettings((n) => (n === 'backup' ? 'false' : '')),
        ctx(false),
      ).shouldRun(),
    ).toBe(false);
    const resumed = createBackupStage(
      parseBackupSettings(() => ''),
      ctx(true),
    );
    expect(resumed.shouldRun()).toBe(false);
    expect(resumed.dryRun()).toMatch(/would not back up/);
  });

  test('unencrypted upload is called out in the dry run', () => {
    expect(
      createBackupStage(
        parseBackupSettings((n) => (n === 'backup-upload' ? 'unencrypted' : '')),
        ctx(false),
      ).dryRun(),
    ).toContain('UNENCRYPTED artifact');
  });
});
