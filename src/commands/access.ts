// Which Kubernetes API permissions each command needs: the union of its phases' `access`, which list
// the adapters' own permission lists. The README's least-privilege ClusterRole and Role are every
// command's needs with every option on (EVERY_OPTION), made by rbacManifest and checked by a test.
import { parseSettings } from '../core/settings.ts';
import { uniquePermissions, type Permission } from '../core/permissions.ts';
import { controlPlanePhases } from './control-plane.ts';
import { nodePhases } from './node.ts';
import { PLAN_ACCESS } from './phases/plan.ts';
import { phasesAccess, type PhaseDeps } from './phases/phase.ts';
import { BACKUP_PHASES, ROLLBACK_PHASES } from './recovery.ts';
import { upgradePhases } from './upgrade.ts';
import { verifyPhases } from './verify.ts';
import { workersPhases } from './workers.ts';

/** The inputs that widen what the Action does through the API. */
const EVERY_OPTION: Record<string, string> = {
  'target-version': '1.31',
  'drain-fallback-delete': 'true',
  'verify-workload': 'registry.k8s.io/pause:3.10',
  kubeconfig: 'apiVersion: v1',
  batch: '0',
  'confirm-rollback': 'sim',
};

/** What the command needs with these inputs. */
export function commandAccess(command: string, deps: PhaseDeps): Permission[] {
  const needs = { settings: deps.settings, options: deps.options };
  switch (command) {
    case 'plan':
      return [...PLAN_ACCESS];
    case 'backup':
      return phasesAccess(BACKUP_PHASES, needs);
    case 'rollback':
      return phasesAccess(ROLLBACK_PHASES, needs);
    case 'upgrade':
      return phasesAccess(upgradePhases(deps), needs);
    case 'control-plane':
      return phasesAccess(controlPlanePhases(deps), needs);
    case 'workers':
      return phasesAccess(workersPhases(deps), needs);
    case 'node':
      return phasesAccess(nodePhases(deps), needs);
    case 'verify':
      return phasesAccess(verifyPhases(deps), needs);
    default:
      throw new Error(`unknown command ${command}`);
  }
}

const ALL_COMMANDS = ['plan', 'upgrade', 'control-plane', 'workers', 'node', 'verify', 'backup', 'rollback'] as const;

/** Every permission any command may need (the README's role). */
export function everyPermission(): Permission[] {
  return uniquePermissions(
    ALL_COMMANDS.map((command) => {
      const settings = parseSettings((name) => (name === 'command' ? command : (EVERY_OPTION[name] ?? '')));
      return commandAccess(command, { settings, options: settings.upgrade });
    }),
  );
}
