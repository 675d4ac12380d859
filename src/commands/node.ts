// command: node — the node this runner runs on (transport: local on a self-hosted runner per node). Its role
// comes from the inventory / Node object. The upstream order is enforced: a worker waits until every control
// plane runs the target; while kubeadm-config is not at the target, the control plane that runs first does
// `kubeadm upgrade apply` (run the control-plane legs one at a time: max-parallel: 1).
import type { CommandDeps, CommandResult } from './deps.ts';
import { backupPhase } from './phases/backup.ts';
import { lockPhase } from './phases/lock.ts';
import { runPhases } from './phases/manager.ts';
import type { Phase, PhaseDeps } from './phases/phase.ts';
import { controlPlanesPhase, workersPhase } from './phases/nodes.ts';
import { planPhase } from './phases/plan.ts';
import { schedulePhase } from './phases/schedule.ts';
import { controlPlanesPending } from './workers.ts';

/** The command's phases in order (their `access` is what the preflight review asks for). */
export function nodePhases(deps: PhaseDeps): Phase[] {
  const name = deps.options.nodeName ?? '';
  return [
    planPhase(() => name),
    lockPhase(` (node ${name})`),
    schedulePhase({
      select: (schedule, prepared) => {
        const planned = prepared.plan.nodes.find((n) => n.name === name);
        if (!planned) return { refuse: `This runner's node ${name} is not in the inventory; set node-name to the Node's name` };
        if (planned.role === 'worker') {
          // The plan here holds only this node: look at the cluster for control planes not yet at the target.
          const target = prepared.plan.target.version;
          const behind = prepared.state.nodes.filter(
            (n) =>
              n.role === 'control-plane' &&
              (n.kubeletVersion !== target ||
                prepared.state.controlPlanePods.some((p) => p.node === n.name && p.component === 'kube-apiserver' && p.version !== target)),
          );
          if (behind.length > 0)
            return {
              refuse: `Control plane(s) not yet at ${target}: ${behind.map((n) => n.name).join(', ')}. A worker is upgraded only after every control plane.`,
            };
          const pending = controlPlanesPending(schedule);
          if (pending) return { refuse: pending };
        }
        const apply = schedule.controlPlanes.find((c) => c.job.kubeadmAction === 'apply');
        if (planned.role === 'control-plane' && apply && apply.job.name !== name)
          return { refuse: `${apply.job.name} must run kubeadm upgrade apply first` };
        return { schedule, parts: { controlPlanes: planned.role === 'control-plane', workers: planned.role === 'worker' } };
      },
    }),
    backupPhase,
    controlPlanesPhase,
    workersPhase,
  ];
}

export function nodeCommand(deps: CommandDeps): Promise<CommandResult> {
  return runPhases('node', nodePhases(deps), deps);
}
