// A dropped connection: safe commands run again on a new connection, kubeadm upgrade is not re-run. The
// report of a failed run says where each node stands and what a re-run does.
import { describe, expect, it } from 'vitest';
import { foldRun, type RunEvent } from '../../src/core/run-record.ts';
import { runOutputs, runSummaryMarkdown } from '../../src/report/run-report.ts';
import { CommandFailedError, NodeSession } from '../../src/upgrade/session.ts';
import { parseUpgradeOptions } from '../../src/core/upgrade-options.ts';
import { InputError } from '../../src/core/errors.ts';
import { Recorder, fakeClock } from './fakes.ts';

describe('NodeSession', () => {
  function dropping(times: number) {
    const recorder = new Recorder();
    let drops = times;
    recorder.responders.push(() => (drops-- > 0 ? new Error('connection to worker-1 closed before the command finished') : undefined));
    return { recorder, session: new NodeSession('worker-1', () => recorder.open('worker-1'), fakeClock()) };
  }

  it('reconnects and runs a command marked safe to repeat again', async () => {
    const { recorder, session } = dropping(1);
    const result = await session.run(['apt-get', 'update'], () => {}, { rerunOnDrop: true });
    expect(result.code).toBe(0);
    expect(recorder.opened).toEqual(['worker-1', 'worker-1']);
    expect(recorder.calls.map((c) => c.argv.join(' '))).toEqual(['apt-get update', 'apt-get update']);
  });

  it('does not run kubeadm upgrade again after a drop: it fails the stage and says why', async () => {
    const { recorder, session } = dropping(1);
    const run = session.run(['kubeadm', 'upgrade', 'node'], () => {});
    await expect(run).rejects.toThrow(/dropped while running `kubeadm upgrade node`.*not run again automatically/);
    expect(recorder.calls).toHaveLength(1);
  });

  it('turns a non-zero exit into an error with the output tail', async () => {
    const recorder = new Recorder();
    recorder.responders.push(() => ({
      code: 100,
      stdout: 'Reading package lists...\n',
      stderr: "E: Version '1.31.9-1.1' for 'kubeadm' was not found\n",
    }));
    const session = new NodeSession('cp-1', () => recorder.open('cp-1'), fakeClock());
    const error = await session.run(['apt-get', 'install', '-y', 'kubeadm=1.31.9-1.1'], () => {}).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CommandFailedError);
    expect((error as CommandFailedError).message).toBe('`apt-get install -y kubeadm=1.31.9-1.1` failed on cp-1 with exit code 100');
    expect((error as CommandFailedError).tail).toContain("Version '1.31.9-1.1' for 'kubeadm' was not found");
  });
});

describe('the run report', () => {
  const at = (s: number) => 1_700_000_000_000 + s * 1000;
  const events: RunEvent[] = [
    { type: 'run-started', at: at(0), command: 'upgrade', target: '1.31.4', holder: 'octo/clusters run 42 attempt 1' },
    {
      type: 'node-skipped',
      at: at(0),
      node: 'cp-1',
      role: 'control-plane',
      reason: 'upgraded to 1.31.4 by an earlier run (every stage recorded done)',
    },
    {
      type: 'node-scheduled',
      at: at(0),
      node: 'worker-1',
      role: 'worker',
      batch: 0,
      stages: ['kubeadm-install', 'kubeadm-upgrade', 'drain', 'kubelet-install'],
      doneBefore: ['kubeadm-install'],
    },
    { type: 'node-scheduled', at: at(0), node: 'worker-2', role: 'worker', batch: 1, stages: ['kubeadm-install', 'drain'], doneBefore: [] },
    { type: 'stage-started', at: at(1), node: 'worker-1', stage: 'kubeadm-upgrade' },
    { type: 'stage-finished', at: at(4), node: 'worker-1', stage: 'kubeadm-upgrade' },
    { type: 'stage-started', at: at(4), node: 'worker-1', stage: 'drain' },
    { type: 'cordon', at: at(9), node: 'worker-1', cordoned: false, reason: 'the drain failed, so it was uncordoned again' },
    {
      type: 'stage-failed',
      at: at(9),
      node: 'worker-1',
      stage: 'drain',
      message:
        'drain of node worker-1 did not finish within drain-timeout 5m: PodDisruptionBudget demo/web-pdb (needs 3 healthy pods and has 3) blocks demo/web-1',
      tail: 'evicting demo/web-1',
    },
    { type: 'run-finished', at: at(10), outcome: 'failed', reason: 'worker-1 failed: no new node was started after that.' },
  ];

  it('puts the outcome first, then each node, where it stands, and what a re-run does', () => {
    const record = foldRun(events);
    const markdown = runSummaryMarkdown(record);
    expect(markdown.split('\n')[0]).toBe('## Upgrade to 1.31.4 ❌ failed — 0 node(s) upgraded in 10s');
    expect(markdown).toContain('| worker-1 | worker | 0 | ❌ failed at drain |');
    expect(markdown).toContain(
      '**worker-1** failed at **drain**: drain of node worker-1 did not finish within drain-timeout 5m: PodDisruptionBudget demo/web-pdb',
    );
    expect(markdown).toContain('schedulable. A re-run resumes it at **drain**');
    expect(markdown).toContain('**worker-2** was not started; schedulable. A re-run resumes it at **kubeadm-install**');
    expect(markdown).toContain('No node is left cordoned by this run.');
    expect(markdown).toContain('- worker-1: resumed; done by an earlier run: kubeadm-install');
    expect(markdown).toContain('- cp-1: upgraded to 1.31.4 by an earlier run');
    expect(markdown).toMatch(
      /```mermaid\ngantt\n {2}dateFormat x[\s\S]*section worker-1\n {2}kubeadm-upgrade :done, t0, 1700000001000, 1700000004000\n {2}drain :crit, t1, /,
    );
    expect(runOutputs(record)['upgraded-nodes']).toBe('[]');
    expect(JSON.parse(runOutputs(record).result!).nodes).toHaveLength(3);
  });
});

describe('upgrade inputs', () => {
  const parse = (inputs: Record<string, string>, command = 'upgrade') => parseUpgradeOptions((n) => inputs[n] ?? '', command);

  it('has the documented defaults', () => {
    expect(parse({})).toMatchObject({
      drain: { timeoutMs: 300_000, deleteEmptyDirData: true, forceUnmanaged: false, fallbackDelete: false },
      lockTtlMs: 1_800_000,
      apiRetryBudgetMs: 120_000,
      gracefulApiserverStopMs: 0,
      certificateRenewal: true,
      etcdUpgrade: true,
    });
    expect(parse({ 'graceful-apiserver-stop': 'true', 'drain-timeout': '90s' })).toMatchObject({
      gracefulApiserverStopMs: 20_000,
      drain: { timeoutMs: 90_000 },
    });
  });

  it('names the input, the problem and the fix', () => {
    const error = (() => {
      try {
        parse({ 'drain-timeout': 'soon', 'delete-emptydir-data': 'yes' });
      } catch (e) {
        return e;
      }
    })() as InputError;
    expect(error).toBeInstanceOf(InputError);
    expect(error.problems.map((p) => p.input)).toEqual(['drain-timeout', 'delete-emptydir-data']);
    expect(error.problems[0]!.fix).toMatch(/5m/);
    expect(() => parse({}, 'workers')).toThrow(/batch/);
  });

  it('api-retry-budget: a duration of at least 1s', () => {
    expect(parse({ 'api-retry-budget': '10s' }).apiRetryBudgetMs).toBe(10_000);
    expect(() => parse({ 'api-retry-budget': '500ms' })).toThrow(/"500ms" is shorter than 1s/);
    expect(() => parse({ 'api-retry-budget': 'forever' })).toThrow(/"forever" is not a duration/);
  });
});
