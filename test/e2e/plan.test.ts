// command: plan end to end: the bundle, run exactly as the runner runs it, against the simulated cluster
// (3 control planes + 6 workers at 1.30, the demo workload with web-pdb) and a local GitHub API stand-in.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import semver from 'semver';
import { startCluster, type SimCluster, type ClusterStatus } from '../../sim/index.ts';
import { buildBundle, runAction, type ActionOptions, type ActionResult } from '../support/action-runner.ts';
import { startGitHubApi, type GitHubApiStandIn } from '../support/github-api.ts';

const PR = 7;
const TOKEN = 'ghs_e2eTokenValue0123456789';
let cluster: SimCluster;
let github: GitHubApiStandIn;
let bundle: string;
let inputs: Record<string, string>;

beforeAll(async () => {
  [bundle, cluster, github] = await Promise.all([
    buildBundle(),
    startCluster({ controlPlanes: 3, workers: 6, version: '1.30.5', workload: 'demo' }),
    startGitHubApi(),
  ]);
  inputs = {
    command: 'plan',
    'target-version': '1.31',
    inventory: readFileSync(cluster.inventoryPath, 'utf8'),
    kubeconfig: readFileSync(cluster.kubeconfigPath, 'utf8'),
    'ssh-private-key': readFileSync(cluster.sshKeyPath, 'utf8'),
    'ssh-known-hosts': readFileSync(cluster.knownHostsPath, 'utf8'),
    'max-unavailable': '2',
  };
}, 300_000);

afterAll(async () => {
  await github?.close();
  await cluster?.stop();
});

function pullRequest(head = 'octo-org/clusters'): ActionOptions {
  return {
    bundle,
    apiUrl: github.url,
    githubToken: TOKEN,
    repository: 'octo-org/clusters',
    workflow: 'cluster plan',
    event: { name: 'pull_request', payload: { number: PR, pull_request: { number: PR, head: { repo: { full_name: head } } } } },
  };
}

function commandCount(status: ClusterStatus): number {
  return status.nodes.reduce((n, node) => n + node.commands.length, 0);
}

const workers = () => cluster.spec.nodes.filter((n) => n.role === 'worker').map((n) => n.name);
const controlPlanes = () => cluster.spec.nodes.filter((n) => n.role === 'control-plane').map((n) => n.name);

describe('command: plan on a pull request', () => {
  let first: ActionResult;
  let plan: any; // the plan output, parsed

  beforeAll(async () => {
    first = await runAction(inputs, pullRequest());
    plan = JSON.parse(first.outputs.plan ?? 'null');
  }, 300_000);

  it('sets every output, resolving 1.31 to the newest published 1.31 patch', () => {
    expect(plan, `no plan output; stdout:\n${first.stdout}`).not.toBeNull();
    for (const name of [
      'plan',
      'upgrade-needed',
      'current-version',
      'target-version',
      'control-plane-matrix',
      'worker-matrix',
      'blockers',
    ]) {
      expect(first.outputs, `output ${name}`).toHaveProperty(name);
    }
    const newest = cluster.spec.published
      .filter((v) => v.startsWith('1.31.'))
      .sort(semver.compare)
      .at(-1);
    expect(first.outputs['target-version']).toBe(newest);
    expect(first.outputs['current-version']).toBe('1.30.5');
    expect(first.outputs['upgrade-needed']).toBe('true');
  });

  it('orders the first control plane, the other control planes, then workers in batches of 2', () => {
    const order = plan.order;
    expect(controlPlanes()).toContain(order.firstControlPlane.node);
    expect(order.controlPlanes[0]).toBe(order.firstControlPlane.node);
    expect([...order.controlPlanes].sort()).toEqual(controlPlanes().sort());
    expect(order.workerBatches.map((b: { nodes: string[] }) => b.nodes.length)).toEqual([2, 2, 2]);
    expect(order.workerBatches.flatMap((b: { nodes: string[] }) => b.nodes).sort()).toEqual(workers().sort());
    const matrix = JSON.parse(first.outputs['worker-matrix']!);
    const entries: unknown[] = Array.isArray(matrix) ? matrix : matrix.include;
    expect(entries).toHaveLength(3);
    expect(JSON.stringify(entries)).toContain(order.workerBatches[0].nodes[0]);
    const cpMatrix = JSON.parse(first.outputs['control-plane-matrix']!);
    expect(JSON.stringify(cpMatrix)).toContain(order.firstControlPlane.node);
  });

  it('forecasts the drains, with the web-pdb budget in the way', () => {
    const budgets = plan.forecast.batches.flatMap((b: { budgets: { name: string }[] }) => b.budgets.map((x) => x.name));
    expect(budgets).toContain('web-pdb');
    expect(first.summary).toContain('web-pdb');
  });

  it('writes the verdict first in the job summary, and exits 1 only when the plan is blocked', () => {
    // the title, then the verdict before anything else
    const head = first.summary
      .split('\n')
      .filter((l) => l.trim() !== '')
      .slice(0, 2)
      .join('\n');
    expect(head).toMatch(plan.verdict === 'blocked' ? /blocked/i : plan.verdict === 'ready' ? /ready|can upgrade/i : /up.to.date/i);
    expect(first.exitCode).toBe(plan.verdict === 'blocked' ? 1 : 0);
    expect(first.outputs.blockers).toBe(String(plan.blockers.length));
  });

  it('posts one sticky PR comment and updates it on the next run', async () => {
    const ours = () => github.comments('octo-org', 'clusters', PR).filter((c) => c.body.includes('kubeadm-upgrade-action:plan:'));
    expect(ours()).toHaveLength(1);
    const firstId = ours()[0]!.id;
    const second = await runAction(inputs, pullRequest());
    expect(second.exitCode).toBe(first.exitCode);
    expect(ours()).toHaveLength(1);
    expect(ours()[0]!.id).toBe(firstId);
    expect(github.requests.filter((r) => r.method === 'PATCH')).toHaveLength(1);
    expect(github.requests.filter((r) => r.method === 'POST')).toHaveLength(1);
    expect(github.requests.every((r) => r.authorization === `token ${TOKEN}`)).toBe(true);
  }, 300_000);

  it('changes nothing on any node and never prints the secrets', async () => {
    const status = await cluster.status();
    for (const node of status.nodes) {
      expect(node.packages, node.name).toEqual({ kubeadm: '1.30.5', kubelet: '1.30.5', kubectl: '1.30.5' });
      expect(node.repoMinor, node.name).toBe('1.30');
      expect(node.cordoned, node.name).toBe(false);
    }
    // the runner consumes ::add-mask:: lines itself; no other line may carry a secret
    const printed =
      (first.stdout + first.stderr)
        .split('\n')
        .filter((l) => !l.startsWith('::add-mask::'))
        .join('\n') + first.summary;
    expect(first.stdout).toContain('::add-mask::ghs_');
    expect(printed).not.toContain(inputs['ssh-private-key']!.split('\n')[1]!);
    expect(printed).not.toContain(TOKEN);
    const clientKey = /client-key-data: (\S+)/.exec(inputs.kubeconfig!)?.[1] ?? '';
    expect(clientKey.length).toBeGreaterThan(100);
    expect(printed).not.toContain(clientKey.slice(60, 100));
  });

  it('has a post step that exits 0', async () => {
    const post = await first.runPost();
    expect(post.exitCode).toBe(0);
  });
});

describe('command: plan refuses hostile inputs before touching any node', () => {
  const cases: [string, () => Record<string, string>, RegExp][] = [
    ['target-version', () => ({ ...inputs, 'target-version': '1.31;rm -rf /' }), /target-version/],
    [
      'inventory address',
      () => ({ ...inputs, inventory: inputs.inventory!.replace(/address: [0-9.]+/, 'address: $(id)') }),
      /inventory: nodes\[0\]\.address/,
    ],
    ['ssh-user', () => ({ ...inputs, inventory: inputs.inventory!.replace(/user: root, /, ''), 'ssh-user': 'root;id' }), /ssh-user/],
  ];

  it.each(cases)(
    '%s',
    async (_name, hostile, named) => {
      const before = commandCount(await cluster.status());
      const result = await runAction(hostile(), { bundle, apiUrl: github.url });
      expect(result.exitCode).toBe(1);
      expect(result.stdout).toMatch(named);
      expect(result.stdout).toContain('Fix:');
      expect(commandCount(await cluster.status())).toBe(before);
    },
    120_000,
  );
});

describe('command: plan with an unknown host key', () => {
  it('fails, naming the node whose key is not known', async () => {
    const cp1 = cluster.spec.nodes.find((n) => n.name === 'cp-1')!;
    const knownHosts = inputs['ssh-known-hosts']!.split('\n')
      .filter((line) => !line.startsWith(`${cp1.address} `))
      .join('\n');
    const result = await runAction({ ...inputs, 'ssh-known-hosts': knownHosts }, { bundle, apiUrl: github.url });
    expect(result.exitCode).toBe(1);
    expect(result.stdout).toContain('host key of node cp-1');
    expect(result.stdout).toContain('ssh-known-hosts');
  }, 300_000);
});

describe('command: plan with host certificates (@cert-authority only, issue #10 item 11)', () => {
  // every node's sshd serves a certificate from the cluster's host CA (sim/cluster/node-files.ts)
  const caOnly = () => readFileSync(join(cluster.dir, 'ssh', 'known_hosts_ca'), 'utf8');

  it('reaches every node through the OpenSSH client, which checks the certificates', async () => {
    expect(caOnly()).toMatch(/^@cert-authority \S+ ssh-ed25519 \S+\n$/);
    const result = await runAction({ ...inputs, 'ssh-known-hosts': caOnly() }, { bundle, apiUrl: github.url });
    expect(result.outputs.plan, `no plan output; stdout:\n${result.stdout}`).toBeDefined();
    const reached = JSON.parse(result.outputs.plan!);
    expect([...reached.order.controlPlanes].sort()).toEqual(controlPlanes().sort());
    expect(result.stdout).not.toMatch(/host key of node|could not be read|cannot connect|not reachable/);
    expect(result.outputs['target-version']).toMatch(/^1\.31\.\d+$/); // read from the nodes' package lists
  }, 300_000);

  it('refuses nodes whose certificates another CA signed, naming the node and the fix', async () => {
    const other = execFileSync(
      'sh',
      ['-c', `ssh-keygen -q -t ed25519 -N '' -f "$1" && cat "$1.pub"`, 'sh', join(cluster.dir, 'other-ca')],
      {
        encoding: 'utf8',
      },
    ).trim();
    const knownHosts = caOnly().replace(/ssh-ed25519 \S+/, other.split(' ').slice(0, 2).join(' '));
    const result = await runAction({ ...inputs, 'ssh-known-hosts': knownHosts }, { bundle, apiUrl: github.url });
    expect(result.exitCode).toBe(1);
    expect(result.stdout).toMatch(/host key of node cp-1 .* was refused: the node showed neither a host certificate signed by a CA/);
    expect(result.stdout).toContain('Fix: add the @cert-authority line of the CA that signed');
  }, 300_000);
});

describe('command: plan on a fork pull request', () => {
  it('skips the PR comment with a notice in the summary', async () => {
    const before = github.requests.length;
    const result = await runAction(inputs, pullRequest('mallory/clusters'));
    expect(result.outputs).toHaveProperty('plan');
    expect(github.requests.length).toBe(before);
    expect(result.summary).toContain('fork mallory/clusters');
  }, 300_000);
});
