// Least privilege end to end through the bundle: the README's ClusterRole and Role, applied as a user would,
// are enough for plan and a whole upgrade (with verify-workload and drain-fallback-delete); a kubeconfig whose
// user lacks them is refused in preflight, naming what is missing, before any node is contacted.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import type { Plan } from '../../src/core/plan-types.ts';
import { startCluster, type SimCluster } from '../../sim/index.ts';
import { createKubeClient, loadKubeconfig } from '../../sim/lib/kube-rest.ts';
import { buildBundle, repoRoot, runAction, type ActionResult } from '../support/action-runner.ts';
import { upgradeInputs } from './upgrade-helpers.ts';

const tail = (stdout: string) =>
  stdout
    .split('\n')
    .filter((l) => !l.startsWith('::add-mask::'))
    .join('\n')
    .slice(-3000);

/** The YAML of README.md's "Kubernetes permissions" block, as a user copies it. */
function readmeRole(): string {
  const readme = readFileSync(join(repoRoot, 'README.md'), 'utf8');
  const block = readme.slice(readme.indexOf('<!-- rbac:begin'), readme.indexOf('<!-- rbac:end -->'));
  return block.slice(block.indexOf('```yaml\n') + '```yaml\n'.length, block.lastIndexOf('```'));
}

const PATHS: Record<string, (ns?: string) => string> = {
  ClusterRole: () => '/apis/rbac.authorization.k8s.io/v1/clusterroles',
  ClusterRoleBinding: () => '/apis/rbac.authorization.k8s.io/v1/clusterrolebindings',
  Role: (ns) => `/apis/rbac.authorization.k8s.io/v1/namespaces/${ns}/roles`,
  RoleBinding: (ns) => `/apis/rbac.authorization.k8s.io/v1/namespaces/${ns}/rolebindings`,
};

function commandLines(cluster: SimCluster): number {
  return cluster.spec.nodes.reduce(
    (n, node) =>
      n +
      readFileSync(join(cluster.dir, 'nodes', node.name, 'commands.log'), 'utf8')
        .split('\n')
        .filter(Boolean).length,
    0,
  );
}

let bundle: string;
let cluster: SimCluster;
let readmeUser: string;
let nobody: string;

beforeAll(async () => {
  [bundle, cluster] = await Promise.all([
    buildBundle(),
    startCluster({ controlPlanes: 1, workers: 1, version: '1.30.5', workload: 'none', os: 'debian' }),
  ]);
  const admin = createKubeClient(loadKubeconfig(cluster.kubeconfigPath));
  for (const doc of parseAllDocuments(readmeRole())) {
    const object = doc.toJS();
    await admin.create(PATHS[object.kind]!(object.metadata.namespace), object);
  }
  admin.close();
  readmeUser = readFileSync(await cluster.userKubeconfig('kubeadm-upgrade-action'), 'utf8');
  nobody = readFileSync(await cluster.userKubeconfig('nobody', ['ops']), 'utf8');
}, 300_000);

afterAll(async () => {
  await cluster?.stop();
});

describe('a kubeconfig without the permissions', () => {
  let refused: ActionResult;
  let before: number;
  beforeAll(async () => {
    before = commandLines(cluster);
    refused = await runAction(upgradeInputs(cluster, { kubeconfig: nobody }), { bundle, timeoutMs: 120_000 });
  }, 180_000);

  it('is refused in preflight, naming each missing permission, why, and the fix', () => {
    expect(refused.exitCode, tail(refused.stdout)).toBe(1);
    const error = refused.stdout.split('\n').find((l) => l.startsWith('::error::')) ?? '';
    expect(error).toMatch(
      /^::error::Invalid input \(no node was contacted\):%0Akubeconfig: its user may not do \d+ thing\(s\) command upgrade needs/,
    );
    for (const missing of [
      'list nodes (API group "", all namespaces): reading the nodes',
      'get configmaps kubeadm-config (API group "", namespace kube-system)',
      'create leases (API group "coordination.k8s.io", namespace kube-system)',
      'patch nodes (API group "", all namespaces)',
      'create pods/eviction (API group "", all namespaces)',
    ])
      expect(error).toContain(missing);
    // /version and /readyz are open to every authenticated user (system:public-info-viewer)
    expect(error).not.toContain('path /version');
    expect(error).toContain('Fix: bind the kubeconfig');
  });

  it('touched no node', () => {
    expect(commandLines(cluster)).toBe(before);
  });
});

describe("exactly the README's role", () => {
  let planned: ActionResult;
  let upgraded: ActionResult;
  beforeAll(async () => {
    const inputs = upgradeInputs(cluster, {
      kubeconfig: readmeUser,
      'max-unavailable': '1',
      'verify-workload': 'registry.k8s.io/pause:3.10',
      'drain-fallback-delete': 'true',
    });
    planned = await runAction({ ...inputs, command: 'plan' }, { bundle, timeoutMs: 300_000 });
    upgraded = await runAction(inputs, { bundle, timeoutMs: 600_000 });
  }, 900_000);

  it('is enough for plan', () => {
    expect(planned.exitCode, tail(planned.stdout)).toBe(0);
    const plan = JSON.parse(planned.outputs.plan!) as Plan;
    expect(plan.verdict, plan.verdictReason).toBe('ready');
  });

  it('is enough for a whole upgrade: lock, drains, progress records, verify with the smoke workload', async () => {
    expect(upgraded.exitCode, tail(upgraded.stdout)).toBe(0);
    expect(JSON.parse(upgraded.outputs['upgraded-nodes']!).sort()).toEqual(['cp-1', 'worker-1']);
    expect(upgraded.stdout).toMatch(/smoke pod \(registry\.k8s\.io\/pause:3\.10\) became Ready/);
    for (const node of (await cluster.status()).nodes) expect(node.kubeletVersion).toMatch(/^v1\.31\./);
  });
});
