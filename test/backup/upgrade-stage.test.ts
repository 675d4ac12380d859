// When the upgrade takes its backup: only while the first control plane's apply is still to come, and never
// once the cluster was changed for the target (a backup then would record a half-upgraded cluster).
import { describe, expect, test } from 'vitest';
import type { NodeProgress } from '../../src/adapters/cluster/progress.ts';
import { applyPending, upgradeStartedBecause } from '../../src/commands/upgrade-backup.ts';
import type { Schedule, ScheduledNode } from '../../src/upgrade/schedule.ts';

const progress = (entries: [string, NodeProgress | undefined][]) => new Map(entries);
const node = (name: string, kubeadmAction: 'apply' | 'node', doneBefore: ScheduledNode['doneBefore'] = []): ScheduledNode => ({
  job: { name, role: 'control-plane', packageManager: 'apt', kubeadmAction },
  stages: ['repo-switch', 'kubeadm-install', 'kubeadm-upgrade'],
  doneBefore,
});
const schedule = (controlPlanes: ScheduledNode[]): Schedule => ({
  target: '1.31.4',
  controlPlanes,
  workerBatches: [],
  skipped: [],
  problems: [],
});

describe('the backup stage of the upgrade', () => {
  test('a fresh cluster has not started: nothing recorded for the target, kubeadm-config at the old version', () => {
    const old: NodeProgress = { target: '1.30.5', doneStages: ['repo-switch', 'uncordon'] };
    expect(
      upgradeStartedBecause(
        '1.31.4',
        'v1.30.5',
        progress([
          ['cp-1', undefined],
          ['w-1', old],
        ]),
      ),
    ).toBeUndefined();
  });

  test('a node with a stage recorded for the target, or kubeadm-config at the target, means half-upgraded', () => {
    expect(
      upgradeStartedBecause(
        '1.31.4',
        'v1.30.5',
        progress([['cp-1', { target: '1.31.4', stage: 'repo-switch', stageStatus: 'failed', doneStages: [] }]]),
      ),
    ).toMatch(/earlier run already worked on cp-1 for 1\.31\.4/);
    expect(upgradeStartedBecause('1.31.4', 'v1.31.4', progress([]))).toMatch(/kubeadm-config already holds 1\.31\.4/);
  });

  test('runs only while the apply is still to come on a control plane this command upgrades', () => {
    expect(applyPending(schedule([node('cp-1', 'apply'), node('cp-2', 'node')]), true)).toBe(true);
    expect(applyPending(schedule([node('cp-1', 'apply'), node('cp-2', 'node')]), false)).toBe(false);
    expect(applyPending(schedule([node('cp-1', 'apply', ['repo-switch', 'kubeadm-install', 'kubeadm-upgrade'])]), true)).toBe(false);
    expect(applyPending(schedule([node('cp-2', 'node')]), true)).toBe(false);
  });
});
