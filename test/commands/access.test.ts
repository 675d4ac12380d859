// The permissions each command needs (the union of its phases' lists), the README's role made from them,
// and the preflight access review against the simulator's RBAC: a user with only the plan's permissions may
// plan, and an upgrade with it is refused naming exactly what is missing.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { startStandaloneApiServer, type StandaloneApiServer } from '../../sim/apiserver/standalone.ts';
import { createKubeClient, loadKubeconfig } from '../../sim/lib/kube-rest.ts';
import { requireAccess } from '../../src/adapters/cluster/access-review.ts';
import { kubeConfigFromText } from '../../src/adapters/cluster/read-cluster.ts';
import { InputError } from '../../src/core/errors.ts';
import { describePermission, isPathPermission, rbacManifest, type Permission } from '../../src/core/permissions.ts';
import { commandAccess, everyPermission } from '../../src/commands/access.ts';
import { readmeBlock } from '../../scripts/rbac.ts';
import { settingsFrom } from '../core/fixtures.ts';

const needs = (command: string, inputs: Record<string, string> = {}) => {
  const settings = settingsFrom({ command, kubeconfig: 'x', batch: '0', 'confirm-rollback': 'c', ...inputs });
  return commandAccess(command, { settings, options: settings.upgrade });
};
const writes = (ps: Permission[]) => ps.filter((p) => !['get', 'list'].includes(p.verb)).map(describePermission);

describe('what each command needs', () => {
  it('plan only reads; a dry run of upgrade too; a real upgrade locks, cordons, evicts and records progress', () => {
    expect(writes(needs('plan'))).toEqual([]);
    expect(writes(needs('upgrade', { 'dry-run': 'true' }))).toEqual([]);
    expect(writes(needs('upgrade'))).toEqual(
      expect.arrayContaining([
        'create leases (API group "coordination.k8s.io", namespace kube-system)',
        'update leases (API group "coordination.k8s.io", namespace kube-system)',
        'patch nodes (API group "", all namespaces)',
        'create pods/eviction (API group "", all namespaces)',
      ]),
    );
    expect(writes(needs('upgrade'))).not.toContain('delete pods (API group "", all namespaces)');
    expect(writes(needs('upgrade', { 'drain-fallback-delete': 'true' }))).toContain('delete pods (API group "", all namespaces)');
    expect(writes(needs('verify'))).toEqual([]);
    expect(writes(needs('verify', { 'verify-workload': 'registry.k8s.io/pause:3.10' }))).toContain(
      'create namespaces (API group "", all namespaces)',
    );
    expect(writes(needs('rollback'))).toEqual([
      'create leases (API group "coordination.k8s.io", namespace kube-system)',
      'update leases (API group "coordination.k8s.io", namespace kube-system)',
      'delete leases (API group "coordination.k8s.io", namespace kube-system)',
    ]);
  });

  it('README.md holds the role generated from every command with every option (node scripts/rbac.ts --write)', () => {
    const readme = readFileSync(join(import.meta.dirname, '..', '..', 'README.md'), 'utf8');
    expect(readme).toContain(readmeBlock());
  });
});

describe('the preflight access review against RBAC', () => {
  let server: StandaloneApiServer;
  const admin = () => createKubeClient(loadKubeconfig(server.kubeconfigPath));

  beforeAll(async () => {
    server = await startStandaloneApiServer();
  });
  afterAll(() => server.close());

  /** Creates the manifest's objects (the README's way: one ClusterRole/Role + binding per scope) for `user`. */
  async function grant(permissions: Permission[], user: string, name: string): Promise<void> {
    const client = admin();
    const paths: Record<string, (ns?: string) => string> = {
      ClusterRole: () => '/apis/rbac.authorization.k8s.io/v1/clusterroles',
      ClusterRoleBinding: () => '/apis/rbac.authorization.k8s.io/v1/clusterrolebindings',
      Role: (ns) => `/apis/rbac.authorization.k8s.io/v1/namespaces/${ns}/roles`,
      RoleBinding: (ns) => `/apis/rbac.authorization.k8s.io/v1/namespaces/${ns}/rolebindings`,
    };
    for (const doc of parseAllDocuments(rbacManifest(permissions, user).replaceAll('kubeadm-upgrade-action', name))) {
      const object = doc.toJS();
      await client.create(paths[object.kind]!(object.metadata.namespace), object);
    }
    client.close();
  }

  it('allows plan with exactly the plan permissions and refuses upgrade naming each missing permission', async () => {
    await grant(needs('plan'), 'planner', 'planner');
    const kc = kubeConfigFromText(await server.userKubeconfig('planner'));
    await expect(requireAccess(kc, 'plan', needs('plan'))).resolves.toBeUndefined();
    const error = await requireAccess(kc, 'upgrade', needs('upgrade')).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(InputError);
    const message = (error as InputError).message;
    // what the plan role lacks, each with why; "list pods in kube-system" is covered by the plan's list in every namespace
    expect(message).toBe(
      [
        'kubeconfig: its user may not do 9 thing(s) command upgrade needs through the Kubernetes API:',
        '  - get leases (API group "coordination.k8s.io", namespace kube-system): the cluster lock (a Lease in kube-system)',
        '  - create leases (API group "coordination.k8s.io", namespace kube-system): the cluster lock (a Lease in kube-system)',
        '  - update leases (API group "coordination.k8s.io", namespace kube-system): the cluster lock (a Lease in kube-system)',
        '  - delete leases (API group "coordination.k8s.io", namespace kube-system): the cluster lock (a Lease in kube-system)',
        '  - get nodes (API group "", all namespaces): reading the upgrade progress recorded on each Node',
        '  - patch nodes (API group "", all namespaces): cordoning and uncordoning nodes',
        '  - get pods (API group "", all namespaces): waiting for evicted pods to go',
        '  - create pods/eviction (API group "", all namespaces): evicting pods (the Eviction API respects disruption budgets)',
        '  - get daemonsets (API group "apps", all namespaces): telling DaemonSet pods from orphans, as kubectl drain does',
        'Nothing was changed and no node was contacted. Fix: bind the kubeconfig\'s user to the ClusterRole and Role "kubeadm-upgrade-action" from README.md (section "Kubernetes permissions"): kubectl apply -f that manifest with the subject set to this user',
      ].join('\n'),
    );
  });

  it("the README's role allows every command with every option", async () => {
    await grant(everyPermission(), 'kubeadm-upgrade-action', 'kubeadm-upgrade-action');
    const kc = kubeConfigFromText(await server.userKubeconfig('kubeadm-upgrade-action'));
    for (const command of ['plan', 'upgrade', 'control-plane', 'workers', 'node', 'verify', 'backup', 'rollback']) {
      await expect(
        requireAccess(kc, command, needs(command, { 'drain-fallback-delete': 'true', 'verify-workload': 'x' })),
      ).resolves.toBeUndefined();
    }
  });

  it('leaves the verdict to the command when the API server cannot answer (503): a rollback must still run then', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'access-503-'));
    const faultsFile = join(dir, 'faults.json');
    writeFileSync(faultsFile, JSON.stringify([{ type: 'api-unavailable', durationMs: 600_000 }]));
    const down = await startStandaloneApiServer({ faultsFile });
    try {
      // (a short api-retry-budget: the review waits out a 503 as every call does, then leaves it to the command)
      const kc = kubeConfigFromText(await down.userKubeconfig('nobody-503'), undefined, 2000);
      await expect(requireAccess(kc, 'rollback', needs('rollback'))).resolves.toBeUndefined();
    } finally {
      await down.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
