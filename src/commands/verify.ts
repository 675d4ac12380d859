// command: verify — read-only checks that the cluster runs the target everywhere (nodes Ready at the target
// kubelet, control-plane pods, CoreDNS and kube-proxy, kubeadm-config), plus an optional smoke workload.
import { foldRun, type RunEvent } from '../core/run-record.ts';
import { runOutputs, runSummaryMarkdown } from '../report/run-report.ts';
import type { CommandDeps, CommandResult } from './deps.ts';

type EventBody = RunEvent extends infer E ? (E extends RunEvent ? Omit<E, 'at'> : never) : never;

const RECHECK_MS = 5000;

/**
 * Runs the checks and records them; true when every check passed. Right after an upgrade the kube-proxy
 * DaemonSet is still rolling, so failing checks are read again until node-ready-timeout before they count.
 */
export async function runVerify(deps: CommandDeps, version: string, emit: (event: EventBody) => void, waitMs = 0, coreDNSVersion?: string): Promise<boolean> {
  deps.reporter.info(`Verifying that the cluster runs ${version}`);
  const smoke = deps.options.verifyWorkload ? { smoke: { image: deps.options.verifyWorkload, timeoutMs: deps.options.nodeReadyTimeoutMs } } : {};
  // CoreDNS is checked against the version kubeadm announced in this run's `kubeadm upgrade plan`, when it was read
  const expectation = { version, ...(coreDNSVersion ? { coreDNSVersion } : {}) };
  const deadline = deps.clock.now() + waitMs;
  let result = await deps.verify(expectation);
  while (!result.ok && deps.clock.now() + RECHECK_MS <= deadline) {
    deps.reporter.info(`waiting for: ${result.checks.filter((c) => !c.ok).map((c) => c.name).join(', ')}`);
    await deps.clock.sleep(RECHECK_MS);
    result = await deps.verify(expectation);
  }
  // the smoke workload runs once, after the read-only checks settled
  if (smoke.smoke) result = await deps.verify({ ...expectation, ...smoke });
  emit({ type: 'verify', ok: result.ok, checks: result.checks });
  deps.reporter.group('verify', result.checks.map((c) => `${c.ok ? '✔' : '✖'} ${c.name}: ${c.message}`));
  return result.ok;
}

export async function verifyCommand(deps: CommandDeps): Promise<CommandResult> {
  const events: RunEvent[] = [];
  const emit = (event: EventBody) => events.push({ ...event, at: deps.clock.now() } as RunEvent);
  let version = deps.settings.target.patch !== undefined ? deps.settings.target.raw.replace(/^v/, '') : undefined;
  if (!version) version = (await deps.preparePlan()).plan.target.version;
  emit({ type: 'run-started', command: 'verify', target: version ?? deps.settings.target.raw });
  const ok = version ? await runVerify(deps, version, emit) : false;
  emit({ type: 'run-finished', outcome: ok ? 'succeeded' : 'failed', ...(version ? {} : { reason: `target-version ${deps.settings.target.raw} could not be resolved to a published version` }) });
  const record = foldRun(events);
  const markdown = runSummaryMarkdown(record);
  deps.reporter.setOutputs(runOutputs(record));
  await deps.reporter.writeSummary(markdown);
  return { record, exitCode: ok ? 0 : 1 };
}
