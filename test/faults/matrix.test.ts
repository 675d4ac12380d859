// The fault matrix is generated from the Action's stage and phase lists: every kind meets every stage on every role,
// either as a scenario or as a skip with a reason; command faults match the command the stage really sends.
import { describe, expect, it } from 'vitest';
import { upgradePhases } from '../../src/commands/upgrade.ts';
import type { PhaseDeps } from '../../src/commands/phases/phase.ts';
import { NODE_STAGES } from '../../src/upgrade/stages/index.ts';
import { ciSubset, FAULT_KINDS, faultMatrix, HOSTILE_OUTPUT, ROLES, stageCommands, type Role } from './matrix.ts';
import { fromNodeOutput, runnerCommands } from './scenario.ts';

const matrix = faultMatrix();

describe('the fault matrix', () => {
  it('covers every kind × stage × role, as a scenario or a skip with its reason', () => {
    for (const role of Object.keys(ROLES) as Role[]) {
      for (const { stage } of stageCommands(role)) {
        for (const kind of FAULT_KINDS) {
          const id = `${kind}@${stage}@${role}`;
          const scenario = matrix.scenarios.some((s) => s.id === id);
          const skipped = matrix.skipped.filter((s) => s.kind === kind && s.stage === stage && s.role === role);
          expect(Number(scenario) + skipped.length, id).toBe(1);
          for (const s of skipped) expect(s.reason.length, id).toBeGreaterThan(10);
        }
      }
    }
    // every stage of the list is in it (a new stage is covered without new code)
    const stages = new Set(matrix.scenarios.map((s) => s.stage));
    for (const stage of NODE_STAGES) expect(stages.has(stage.name), stage.name).toBe(true);
    // and every phase of the upgrade command is either a point or skipped with a reason
    for (const { title } of upgradePhases({} as PhaseDeps)) {
      if (title === 'control planes' || title === 'workers') continue;
      expect(matrix.scenarios.some((s) => s.stage === title) || matrix.skipped.some((s) => s.stage === title), title).toBe(true);
    }
  });

  it('kills and API outages strike every stage; never-ready only the wait after the kubelet restart', () => {
    for (const role of Object.keys(ROLES) as Role[]) {
      for (const { stage } of stageCommands(role)) {
        expect(matrix.scenarios.some((s) => s.id === `kill@${stage}@${role}`)).toBe(true);
        expect(matrix.scenarios.some((s) => s.id === `api-503@${stage}@${role}`)).toBe(true);
      }
    }
    expect(matrix.scenarios.filter((s) => s.kind === 'never-ready').map((s) => s.id)).toEqual([
      'never-ready@wait-ready@first-cp',
      'never-ready@wait-ready@other-cp',
      'never-ready@wait-ready@worker',
    ]);
  });

  it('strikes the command after a stage’s first change, matched on the words the Action sends', () => {
    const byId = (id: string) => matrix.scenarios.find((s) => s.id === id)!;
    expect(byId('command-fails@kubeadm-install@worker').faults[0]).toMatchObject({
      node: 'worker-1',
      match: 'env DEBIAN_FRONTEND=noninteractive apt-get update',
      times: 1,
    });
    expect(byId('ssh-drop@kubeadm-upgrade@first-cp').faults[0]).toMatchObject({ match: 'kubeadm upgrade apply' });
    // the only command of a worker's kubeadm-upgrade is its first: armed when the previous stage starts
    expect(String(byId('ssh-drop@kubeadm-upgrade@worker').armOn)).toContain('worker-1: kubeadm-install');
    // the node's first command: armed before the run
    expect(byId('command-fails@repo-switch@other-cp').armOn).toBeUndefined();
    expect(matrix.skipped.some((s) => s.kind === 'command-fails' && s.stage === 'drain')).toBe(true);
  });

  it('the CI subset has one scenario per kind and covers every role', () => {
    const subset = ciSubset(matrix);
    expect(subset.map((s) => s.kind)).toEqual([...FAULT_KINDS]);
    expect(new Set(subset.map((s) => s.role))).toEqual(new Set(Object.keys(ROLES)));
    // an excluded scenario gives way to the nearest stage of the same kind and role
    const other = ciSubset(matrix, [/^kill@kubelet-install@/]).find((s) => s.kind === 'kill')!;
    expect(other.role).toBe(subset.find((s) => s.kind === 'kill')!.role);
    expect(other.stage).not.toBe('kubelet-install');
    // a kind excluded everywhere is left out
    expect(ciSubset(matrix, [/^command-fails@/]).map((s) => s.kind)).toEqual(FAULT_KINDS.filter((k) => k !== 'command-fails'));
  });

  it('the hostile node output holds workflow commands a runner would execute', () => {
    expect(runnerCommands(HOSTILE_OUTPUT).length).toBeGreaterThanOrEqual(3);
    // behind ::stop-commands:: nothing runs until the token comes back
    expect(runnerCommands('::stop-commands::tok\n::set-output name=a::b\n::tok::\n::warning::x')).toEqual([
      '::stop-commands::tok',
      '::warning::x',
    ]);
    expect(runnerCommands('  ::add-mask::x\nfoo ##[add-mask]y')).toEqual(['::add-mask::x', '##[add-mask]y']);
    // what the node printed, executed as it stands, counts; the Action's own escaped error message with it does not
    expect(
      runnerCommands(`::error::it failed: ${HOSTILE_OUTPUT.replaceAll('\n', '%0A')}\n${HOSTILE_OUTPUT}`).filter(fromNodeOutput),
    ).toEqual(runnerCommands(HOSTILE_OUTPUT));
    expect(runnerCommands(`::error::it failed: ${HOSTILE_OUTPUT.replaceAll('\n', '%0A')}`).filter(fromNodeOutput)).toEqual([]);
  });
});
