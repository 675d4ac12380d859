// command: verify — read-only checks that the cluster runs the target everywhere (nodes Ready at the target
// kubelet, control-plane pods, CoreDNS and kube-proxy, kubeadm-config), plus an optional smoke workload.
import type { RunEvent } from '../core/run-record.ts';
import type { CommandDeps, CommandResult } from './deps.ts';
import { runPhases } from './phases/manager.ts';
import type { Phase, PhaseDeps } from './phases/phase.ts';
import { verifyTargetPhase } from './phases/verify.ts';

type EventBody = RunEvent extends infer E ? (E extends RunEvent ? Omit<E, 'at'> : never) : never;

const RECHECK_MS = 5000;

/**
 * Runs the checks and records them; true when every check passed. Right after an upgrade the kube-proxy
 * DaemonSet is still rolling, so failing checks are read again until node-ready-timeout before they count.
 */
export async function runVerify(
  deps: CommandDeps,
  version: string,
  emit: (event: EventBody) => void,
  waitMs = 0,
  coreDNSVersion?: string,
): Promise<boolean> {
  deps.reporter.info(`Verifying that the cluster runs ${version}`);
  const smoke = deps.options.verifyWorkload
    ? { smoke: { image: deps.options.verifyWorkload, timeoutMs: deps.options.nodeReadyTimeoutMs } }
    : {};
  // CoreDNS is checked against the version kubeadm announced in this run's `kubeadm upgrade plan`, when it was read
  const expectation = { version, ...(coreDNSVersion ? { coreDNSVersion } : {}) };
  const deadline = deps.clock.now() + waitMs;
  let result = await deps.verify(expectation);
  while (!result.ok && deps.clock.now() + RECHECK_MS <= deadline) {
    deps.reporter.info(
      `waiting for: ${result.checks
        .filter((c) => !c.ok)
        .map((c) => c.name)
        .join(', ')}`,
    );
    await deps.clock.sleep(RECHECK_MS);
    result = await deps.verify(expectation);
  }
  // the smoke workload runs once, after the read-only checks settled
  if (smoke.smoke) result = await deps.verify({ ...expectation, ...smoke });
  emit({ type: 'verify', ok: result.ok, checks: result.checks });
  deps.reporter.group(
    'verify',
    result.checks.map((c) => `${c.ok ? '✔' : '✖'} ${c.name}: ${c.message}`),
  );
  return result.ok;
}

/** command: verify, as one phase run by the phase manager. */
export function verifyPhases(_deps: PhaseDeps): Phase[] {
  return [verifyTargetPhase];
}

export function verifyCommand(deps: CommandDeps): Promise<CommandResult> {
  return runPhases('verify', verifyPhases(deps), deps);
}
