// Verify: read-only checks that the cluster runs the target everywhere (nodes Ready at the target kubelet,
// control-plane pods, CoreDNS and kube-proxy, kubeadm-config), plus an optional smoke workload.
import { runVerify } from '../verify.ts';
import { SMOKE_ACCESS, VERIFY_ACCESS } from '../../adapters/cluster/verify-api.ts';
import type { AccessNeeds, Phase } from './phase.ts';
import { PLAN_ACCESS } from './plan.ts';

/** verifyCluster's calls, with the smoke workload's when verify-workload is set. */
function verifyAccess({ options }: AccessNeeds) {
  return [...VERIFY_ACCESS, ...(options.verifyWorkload ? SMOKE_ACCESS : [])];
}

/** After an upgrade: the version the run upgraded to, waiting up to node-ready-timeout for checks to settle. */
export const verifyAfterUpgradePhase: Phase = {
  title: 'verify',
  access: (needs) => (needs.options.dryRun ? [] : verifyAccess(needs)),
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
  // a target-version that is not an exact patch is resolved by the plan command's read
  access: (needs) => [...verifyAccess(needs), ...(needs.settings.target.patch === undefined ? PLAN_ACCESS : [])],
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
