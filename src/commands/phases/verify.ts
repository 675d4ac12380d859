// Verify: read-only checks that the cluster runs the target everywhere (nodes Ready at the target kubelet,
// control-plane pods, CoreDNS and kube-proxy, kubeadm-config), plus an optional smoke workload.
import { runVerify } from '../verify.ts';
import type { Phase } from './phase.ts';

/** After an upgrade: the version the run upgraded to, waiting up to node-ready-timeout for checks to settle. */
export const verifyAfterUpgradePhase: Phase = {
  title: 'verify',
  async run(run) {
    const version = run.target!.version;
    run.verifyVersion = version;
    const ok = await runVerify(run.deps, version, run.emit, run.deps.options.nodeReadyTimeoutMs, run.facts.coreDNSTarget);
    return ok ? undefined : { outcome: 'failed', reason: 'Every node was upgraded, but the verification found problems (see Checks).' };
  },
  dryRun: async () => undefined,
};

/** command: verify — the target-version input when exact, else the version the plan resolves it to. */
export const verifyTargetPhase: Phase = {
  title: 'verify',
  async run(run) {
    const { deps } = run;
    let version = deps.settings.target.patch !== undefined ? deps.settings.target.raw.replace(/^v/, '') : undefined;
    if (!version) version = (await deps.preparePlan()).plan.target.version;
    if (!version)
      return { outcome: 'failed', reason: `target-version ${deps.settings.target.raw} could not be resolved to a published version` };
    run.verifyVersion = version;
    run.emit({ type: 'run-started', command: 'verify', target: version });
    const ok = await runVerify(deps, version, run.emit);
    return ok ? undefined : { outcome: 'failed' };
  },
};
