// `kubeadm upgrade apply vX` on the first control plane (after `kubeadm upgrade plan`, whose CoreDNS target the
// verification checks later), `kubeadm upgrade node` everywhere else. With etcd-upgrade, kube-apiserver may first
// be stopped gracefully so it finishes in-flight requests before etcd restarts under it (the documented workaround).
import {
  coreDNSTargetFromPlan,
  kubeadmApplyCommand,
  kubeadmNodeCommand,
  kubeadmPlanCommand,
  stopApiserverCommand,
} from '../node-ops/kubeadm.ts';
import type { Stage, StageInput, StageStep } from '../types.ts';

/** kubeadm waits up to 5 minutes per static pod; give it room for all of them. */
const KUBEADM_UPGRADE_TIMEOUT_MS = 20 * 60_000;
const KUBEADM_PLAN_TIMEOUT_MS = 5 * 60_000;

function upgradeCommand({ job, target }: StageInput): string[] {
  const flags = { certificateRenewal: target.certificateRenewal, etcdUpgrade: target.etcdUpgrade, extra: target.kubeadmFlags };
  return job.kubeadmAction === 'apply' ? kubeadmApplyCommand(target.version, flags) : kubeadmNodeCommand(job.role, flags);
}

export const kubeadmUpgrade: Stage = {
  name: 'kubeadm-upgrade',
  title: 'kubeadm upgrade apply / node',
  steps(input) {
    const { job, target } = input;
    const steps: StageStep[] = [];
    if (job.kubeadmAction === 'apply') {
      steps.push({
        kind: 'command',
        argv: kubeadmPlanCommand(),
        rerunOnDrop: true,
        allowFailure: true,
        timeoutMs: KUBEADM_PLAN_TIMEOUT_MS,
        after(result, ctx) {
          const coreDNS = coreDNSTargetFromPlan(result.stdout, target.version);
          if (coreDNS) ctx.facts.coreDNSTarget = coreDNS;
          const failed = result.code === 0 ? '' : ` exited ${result.code} (the upgrade goes on: apply runs the same checks)`;
          ctx.note(
            result.code === 0 ? 'info' : 'warning',
            `kubeadm upgrade plan on ${job.name}${failed}`,
            `${result.stdout}${result.stderr}`.trim(),
          );
        },
      });
    }
    if (job.role === 'control-plane' && target.etcdUpgrade && target.gracefulApiserverStopMs > 0) {
      const seconds = Math.round(target.gracefulApiserverStopMs / 1000);
      steps.push({ kind: 'command', argv: stopApiserverCommand(), rerunOnDrop: true, allowFailure: true });
      steps.push({
        kind: 'cluster',
        text: `wait ${seconds} s for kube-apiserver to finish in-flight requests`,
        async run(ctx) {
          ctx.say(`waiting ${seconds} s for kube-apiserver to finish in-flight requests`);
          await ctx.clock.sleep(target.gracefulApiserverStopMs);
        },
      });
    }
    // Not re-run on a dropped connection: kubeadm may still be running on the node.
    steps.push({ kind: 'command', argv: upgradeCommand(input), timeoutMs: KUBEADM_UPGRADE_TIMEOUT_MS });
    steps.push({
      kind: 'cluster',
      text:
        input.kubeadmBackups === 'collect'
          ? "pack the backup folders kubeadm left under /etc/kubernetes/tmp into this run's backup folder on the node (find, du, tar) and report them"
          : 'report the backup folders kubeadm left under /etc/kubernetes/tmp (read-only: find, du)',
      run: (ctx) => ctx.reportKubeadmBackups(),
    });
    return steps;
  },
};
