// The plan is the promise: node by node, the command lines `command: plan` shows are the command lines the
// upgrade then runs on the node (read from the node's own command log, as sshd received them), and the API
// actions it shows are the ones the run's stage logs announce. First control plane, another control plane and a
// worker, on Debian and RHEL-family nodes (os: mixed alternates them), with the drain inputs at their defaults and
// with every drain input set.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Plan, Step } from '../../src/core/plan-types.ts';
import { startCluster, type SimCluster } from '../../sim/index.ts';
import { buildBundle, runAction } from '../support/action-runner.ts';
import { logGroups, upgradeInputs } from './upgrade-helpers.ts';

interface SshEntry {
  command: string;
  via?: string;
}

function sshCommands(cluster: SimCluster, node: string): string[] {
  const text = readFileSync(join(cluster.dir, 'nodes', node, 'commands.log'), 'utf8');
  return text
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as SshEntry)
    .filter((e) => e.via === 'ssh')
    .map((e) => e.command);
}

/** The plan's "report the backup folders kubeadm left" step reads them with find and du (shown as that step's text). */
const REPORT_READS = /^(find|du -sk --) \/etc\/kubernetes\/tmp[ /]/;

interface Outcome {
  plan: Plan;
  /** per node: the node commands of its procedure, in order */
  planned: Map<string, string[]>;
  /** per node: what sshd received from the upgrade run, from its first planned command on */
  ran: Map<string, string[]>;
  /** per node and stage: the lines the run's stage log announced ($ command / → action) */
  announced: Map<string, string[]>;
  steps: (node: string) => Step[];
}

/** The end of the action's log for a failure message, without the runner's mask commands (they carry the secrets). */
const tail = (stdout: string) =>
  stdout
    .split('\n')
    .filter((l) => !l.startsWith('::add-mask::'))
    .join('\n')
    .slice(-3000);

async function planThenUpgrade(bundle: string, cluster: SimCluster, extra: Record<string, string>): Promise<Outcome> {
  const inputs = upgradeInputs(cluster, { 'max-unavailable': '1', ...extra });
  const planned = await runAction({ ...inputs, command: 'plan' }, { bundle, timeoutMs: 300_000 });
  expect(planned.exitCode, tail(planned.stdout)).toBe(0);
  const plan = JSON.parse(planned.outputs.plan!) as Plan;
  expect(plan.verdict, plan.verdictReason).toBe('ready');
  const before = new Map(cluster.spec.nodes.map((n) => [n.name, sshCommands(cluster, n.name).length]));
  const upgraded = await runAction(inputs, { bundle, timeoutMs: 600_000 });
  expect(upgraded.exitCode, tail(upgraded.stdout)).toBe(0);

  const steps = (node: string): Step[] => plan.procedures[plan.nodes.find((n) => n.name === node)!.procedure!]!;
  const out: Outcome = { plan, planned: new Map(), ran: new Map(), announced: new Map(), steps };
  const groups = logGroups(upgraded.stdout);
  for (const { name } of cluster.spec.nodes) {
    const commands = steps(name).flatMap((s) => s.actions.filter((a) => a.on === 'node').map((a) => a.text));
    out.planned.set(name, commands);
    const log = sshCommands(cluster, name).slice(before.get(name));
    const first = log.indexOf(commands[0]!);
    out.ran.set(name, first < 0 ? log : log.slice(first).filter((c) => !REPORT_READS.test(c)));
    for (const step of steps(name)) {
      const group = groups.find((g) => g.title.startsWith(`${name} · ${step.id} · `));
      out.announced.set(
        `${name}/${step.id}`,
        (group?.lines ?? []).filter((l) => l.startsWith('$ ') || l.startsWith('→ ')),
      );
    }
  }
  return out;
}

function expectPlanEqualsRun(outcome: Outcome, cluster: SimCluster): void {
  for (const node of cluster.spec.nodes) {
    expect(outcome.planned.get(node.name)!.length, node.name).toBeGreaterThan(5);
    expect(outcome.ran.get(node.name), `${node.name} (${node.os}, ${node.role})`).toEqual(outcome.planned.get(node.name));
    for (const step of outcome.steps(node.name)) {
      const shown = step.actions.map((a) => (a.on === 'node' ? `$ ${a.text}` : `→ ${a.text}`));
      expect(outcome.announced.get(`${node.name}/${step.id}`), `${node.name} ${step.id}`).toEqual(shown);
    }
  }
}

let bundle: string;
beforeAll(async () => {
  bundle = await buildBundle();
}, 120_000);

describe('plan = run, drain inputs at their defaults', () => {
  let cluster: SimCluster;
  let outcome: Outcome;
  beforeAll(async () => {
    cluster = await startCluster({ controlPlanes: 2, workers: 2, version: '1.30.5', workload: 'demo', os: 'mixed' });
    outcome = await planThenUpgrade(bundle, cluster, {});
  }, 900_000);
  afterAll(async () => {
    await cluster?.stop();
  });

  it('covers the first control plane, another control plane and a worker, Debian and RHEL', () => {
    const kinds = cluster.spec.nodes.map((n) => `${n.role}/${n.os}`);
    expect(new Set(kinds).size).toBe(4);
    expect(outcome.steps('cp-1').flatMap((s) => s.actions.map((a) => a.text))).toContainEqual(
      expect.stringMatching(/^kubeadm upgrade apply v1\.31\.\d+ --yes/),
    );
    expect(outcome.steps('cp-2').flatMap((s) => s.actions.map((a) => a.text))).toContain(
      'kubeadm upgrade node --certificate-renewal=true --etcd-upgrade=true',
    );
  });

  it('every node ran exactly the commands its plan showed, in order, and its stage logs announced the same actions', () => {
    expectPlanEqualsRun(outcome, cluster);
  });
});

describe('plan = run, with every drain input set', () => {
  let cluster: SimCluster;
  let outcome: Outcome;
  const drainInputs = {
    'delete-emptydir-data': 'true',
    'force-drain-unmanaged': 'true',
    'drain-pod-selector': 'app!=never-drained',
    'drain-grace-period': '2',
    'drain-timeout': '3m',
    'drain-fallback-delete': 'true',
    'certificate-renewal': 'false',
    'etcd-upgrade': 'false',
  };
  beforeAll(async () => {
    cluster = await startCluster({ controlPlanes: 2, workers: 2, version: '1.30.5', workload: 'demo', os: 'mixed' });
    outcome = await planThenUpgrade(bundle, cluster, drainInputs);
  }, 900_000);
  afterAll(async () => {
    await cluster?.stop();
  });

  it("the plan's drain step names the inputs", () => {
    const drain = outcome.steps('worker-1').find((s) => s.id === 'drain')!.actions[0]!.text;
    expect(drain).toMatch(/only pods matching app!=never-drained/);
    expect(drain).toMatch(/grace period 2s/);
    expect(drain).toMatch(/give up after 3m, then DELETE pods whose budget still refuses/);
  });

  it('every node ran exactly the commands its plan showed, in order, and its stage logs announced the same actions', () => {
    expectPlanEqualsRun(outcome, cluster);
  });
});
