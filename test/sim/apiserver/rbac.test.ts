// RBAC in the simulator's API server: the authorizer's matching rules (pure), then the server: roles and
// bindings as API objects, 403 Status bodies, SelfSubjectAccessReview/RulesReview, kubelets via system:nodes.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { authorize, ruleAllows, type Attributes, type RbacSource, type UserInfo } from '../../../sim/apiserver/rbac/authorizer.ts';
import { requestAttributes } from '../../../sim/apiserver/rbac/attributes.ts';
import { startStandaloneApiServer, type StandaloneApiServer } from '../../../sim/apiserver/standalone.ts';
import { createKubeClient, type KubeClient } from '../../../sim/lib/kube-rest.ts';
import type { Obj } from '../../../sim/apiserver/store.ts';
import { parse as parseYaml } from 'yaml';

function resource(
  verb: string,
  group: string,
  res: string,
  extra: Partial<Extract<Attributes, { resourceRequest: true }>> = {},
): Attributes {
  return {
    resourceRequest: true,
    verb,
    apiGroup: group,
    apiVersion: 'v1',
    resource: res,
    subresource: '',
    namespace: '',
    name: '',
    ...extra,
  };
}

function source(objects: { clusterRoles?: Obj[]; roles?: Obj[]; clusterRoleBindings?: Obj[]; roleBindings?: Obj[] }): RbacSource {
  return {
    clusterRoleBindings: () => objects.clusterRoleBindings ?? [],
    roleBindings: (ns) => (objects.roleBindings ?? []).filter((b) => b.metadata.namespace === ns),
    clusterRole: (name) => objects.clusterRoles?.find((r) => r.metadata.name === name),
    role: (ns, name) => objects.roles?.find((r) => r.metadata.namespace === ns && r.metadata.name === name),
  };
}

const alice: UserInfo = { name: 'alice', groups: ['team', 'system:authenticated'] };

describe('rule matching', () => {
  it('matches verbs, groups and resources with "*" and exact values', () => {
    const rule = { verbs: ['get', 'list'], apiGroups: [''], resources: ['pods'] };
    expect(ruleAllows(rule, resource('list', '', 'pods'))).toBe(true);
    expect(ruleAllows(rule, resource('delete', '', 'pods'))).toBe(false);
    expect(ruleAllows(rule, resource('list', 'apps', 'pods'))).toBe(false);
    expect(ruleAllows(rule, resource('list', '', 'nodes'))).toBe(false);
    expect(ruleAllows({ verbs: ['*'], apiGroups: ['*'], resources: ['*'] }, resource('patch', 'apps', 'deployments'))).toBe(true);
  });

  it('needs the subresource spelled out: "pods" does not cover pods/eviction; "pods/eviction" and "*/eviction" do', () => {
    const eviction = resource('create', '', 'pods', { subresource: 'eviction', namespace: 'ns', name: 'p' });
    expect(ruleAllows({ verbs: ['create'], apiGroups: [''], resources: ['pods'] }, eviction)).toBe(false);
    expect(ruleAllows({ verbs: ['create'], apiGroups: [''], resources: ['pods/eviction'] }, eviction)).toBe(true);
    expect(ruleAllows({ verbs: ['create'], apiGroups: [''], resources: ['*/eviction'] }, eviction)).toBe(true);
    expect(ruleAllows({ verbs: ['create'], apiGroups: [''], resources: ['pods/eviction'] }, resource('create', '', 'pods'))).toBe(false);
    expect(
      ruleAllows({ verbs: ['patch'], apiGroups: [''], resources: ['nodes'] }, resource('patch', '', 'nodes', { subresource: 'status' })),
    ).toBe(false);
  });

  it('limits by resourceNames when the rule has them (a list, with no name, is not covered)', () => {
    const rule = { verbs: ['get', 'list'], apiGroups: [''], resources: ['configmaps'], resourceNames: ['kubeadm-config'] };
    expect(ruleAllows(rule, resource('get', '', 'configmaps', { name: 'kubeadm-config', namespace: 'kube-system' }))).toBe(true);
    expect(ruleAllows(rule, resource('get', '', 'configmaps', { name: 'other', namespace: 'kube-system' }))).toBe(false);
    expect(ruleAllows(rule, resource('list', '', 'configmaps', { namespace: 'kube-system' }))).toBe(false);
  });

  it('matches nonResourceURLs exactly or by a trailing "*" prefix, and never a resource request', () => {
    const rule = { verbs: ['get'], nonResourceURLs: ['/readyz', '/apis/*'] };
    expect(ruleAllows(rule, { resourceRequest: false, verb: 'get', path: '/readyz' })).toBe(true);
    expect(ruleAllows(rule, { resourceRequest: false, verb: 'get', path: '/readyz/etcd' })).toBe(false);
    expect(ruleAllows(rule, { resourceRequest: false, verb: 'get', path: '/apis/apps' })).toBe(true);
    expect(ruleAllows(rule, { resourceRequest: false, verb: 'post', path: '/readyz' })).toBe(false);
    expect(ruleAllows(rule, resource('get', '', 'pods'))).toBe(false);
  });
});

describe('bindings', () => {
  const reader = { metadata: { name: 'reader' }, rules: [{ verbs: ['get', 'list'], apiGroups: [''], resources: ['pods'] }] };
  const leaseRole = {
    metadata: { name: 'leases', namespace: 'kube-system' },
    rules: [{ verbs: ['get'], apiGroups: ['coordination.k8s.io'], resources: ['leases'] }],
  };

  it('a ClusterRoleBinding grants everywhere; a RoleBinding only in its namespace, to the subjects it names', () => {
    const s = source({
      clusterRoles: [reader],
      roles: [leaseRole],
      clusterRoleBindings: [
        { metadata: { name: 'b' }, roleRef: { kind: 'ClusterRole', name: 'reader' }, subjects: [{ kind: 'Group', name: 'team' }] },
      ],
      roleBindings: [
        {
          metadata: { name: 'rb', namespace: 'kube-system' },
          roleRef: { kind: 'Role', name: 'leases' },
          subjects: [{ kind: 'User', name: 'alice' }],
        },
      ],
    });
    expect(authorize(s, alice, resource('list', '', 'pods'))).toEqual({
      allowed: true,
      reason: 'RBAC: allowed by ClusterRoleBinding "b" of ClusterRole "reader" to Group "team"',
    });
    expect(authorize(s, { name: 'bob', groups: ['system:authenticated'] }, resource('list', '', 'pods')).allowed).toBe(false);
    const lease = (ns: string) => resource('get', 'coordination.k8s.io', 'leases', { namespace: ns, name: 'l' });
    expect(authorize(s, alice, lease('kube-system')).allowed).toBe(true);
    expect(authorize(s, alice, lease('default')).allowed).toBe(false);
    expect(authorize(s, alice, resource('get', 'coordination.k8s.io', 'leases', { name: 'l' })).allowed).toBe(false);
  });

  it('a RoleBinding to a ClusterRole grants the ClusterRole only in the binding namespace; system:masters needs no binding', () => {
    const s = source({
      clusterRoles: [reader],
      roleBindings: [
        {
          metadata: { name: 'rb', namespace: 'demo' },
          roleRef: { kind: 'ClusterRole', name: 'reader' },
          subjects: [{ kind: 'User', name: 'alice' }],
        },
      ],
    });
    expect(authorize(s, alice, resource('list', '', 'pods', { namespace: 'demo' })).allowed).toBe(true);
    expect(authorize(s, alice, resource('list', '', 'pods')).allowed).toBe(false);
    expect(authorize(s, { name: 'root', groups: ['system:masters'] }, resource('delete', '', 'nodes', { name: 'x' })).allowed).toBe(true);
  });
});

describe('request attributes (RequestInfo)', () => {
  const at = (method: string, path: string) => requestAttributes(method, new URL(path, 'https://x'));
  it('derives verb, group, resource, subresource, namespace and name from the method and URL', () => {
    expect(at('GET', '/api/v1/pods?limit=500')).toMatchObject({ verb: 'list', apiGroup: '', resource: 'pods', namespace: '', name: '' });
    expect(at('GET', '/api/v1/namespaces/kube-system/configmaps/kubeadm-config')).toMatchObject({
      verb: 'get',
      resource: 'configmaps',
      namespace: 'kube-system',
      name: 'kubeadm-config',
    });
    expect(at('POST', '/api/v1/namespaces/ns/pods/p/eviction')).toMatchObject({
      verb: 'create',
      resource: 'pods',
      subresource: 'eviction',
      name: 'p',
    });
    expect(at('PATCH', '/api/v1/nodes/n1/status')).toMatchObject({ verb: 'patch', resource: 'nodes', subresource: 'status', name: 'n1' });
    expect(at('DELETE', '/apis/apps/v1/namespaces/ns/deployments')).toMatchObject({ verb: 'deletecollection', apiGroup: 'apps' });
    expect(at('GET', '/api/v1/pods?watch=true')).toMatchObject({ verb: 'watch' });
    expect(at('GET', '/api/v1/namespaces/demo')).toMatchObject({ verb: 'get', resource: 'namespaces', name: 'demo', namespace: 'demo' });
    expect(at('GET', '/readyz')).toEqual({ resourceRequest: false, verb: 'get', path: '/readyz' });
    expect(at('GET', '/apis/apps')).toEqual({ resourceRequest: false, verb: 'get', path: '/apis/apps' });
  });
});

describe('the API server authorizes with RBAC', () => {
  let server: StandaloneApiServer;
  let admin: KubeClient;
  const clients: KubeClient[] = [];
  const clientFor = async (user: string, groups: string[] = []) => {
    const config = parseYaml(await server.userKubeconfig(user, groups));
    const b = (s: string) => Buffer.from(s, 'base64');
    const client = createKubeClient({
      server: server.url,
      ca: b(config.clusters[0].cluster['certificate-authority-data']),
      cert: b(config.users[0].user['client-certificate-data']),
      key: b(config.users[0].user['client-key-data']),
    });
    clients.push(client);
    return client;
  };

  beforeAll(async () => {
    server = await startStandaloneApiServer();
    admin = createKubeClient({ server: server.url, ca: Buffer.from(server.caPem), ...certOf(server) });
  });
  afterAll(async () => {
    for (const c of clients) c.close();
    admin.close();
    await server.close();
  });

  function certOf(s: StandaloneApiServer) {
    const config = parseYaml(s.kubeconfigText);
    return {
      cert: Buffer.from(config.users[0].user['client-certificate-data'], 'base64'),
      key: Buffer.from(config.users[0].user['client-key-data'], 'base64'),
    };
  }

  it('answers 403 with the real Status for a user without bindings, and allows what a stored binding grants', async () => {
    const carol = await clientFor('carol', ['auditors']);
    const denied = await carol.request('GET', '/api/v1/pods');
    expect(denied.status).toBe(403);
    expect(denied.body).toEqual({
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message: 'pods is forbidden: User "carol" cannot list resource "pods" in API group "" at the cluster scope',
      reason: 'Forbidden',
      details: { kind: 'pods' },
      code: 403,
    });
    const named = await carol.request('GET', '/apis/apps/v1/namespaces/kube-system/deployments/coredns');
    expect((named.body as Obj).message).toBe(
      'deployments.apps "coredns" is forbidden: User "carol" cannot get resource "deployments" in API group "apps" in the namespace "kube-system"',
    );
    await admin.create('/apis/rbac.authorization.k8s.io/v1/clusterroles', {
      metadata: { name: 'pod-reader' },
      rules: [{ apiGroups: [''], resources: ['pods'], verbs: ['list'] }],
    });
    await admin.create('/apis/rbac.authorization.k8s.io/v1/clusterrolebindings', {
      metadata: { name: 'auditors-read-pods' },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'pod-reader' },
      subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'Group', name: 'auditors' }],
    });
    expect((await carol.request('GET', '/api/v1/pods')).status).toBe(200);
    expect((await admin.get('/apis/rbac.authorization.k8s.io/v1/clusterrolebindings/auditors-read-pods')).roleRef.name).toBe('pod-reader');
    await admin.request('DELETE', '/apis/rbac.authorization.k8s.io/v1/clusterrolebindings/auditors-read-pods');
    expect((await carol.request('GET', '/api/v1/pods')).status).toBe(403);
    const path = await carol.request('GET', '/sim-nothing');
    expect((path.body as Obj).message).toBe('forbidden: User "carol" cannot get path "/sim-nothing"');
    expect((await carol.request('GET', '/version')).status).toBe(200);
    expect((await carol.request('GET', '/api')).status).toBe(200);
  });

  it('answers SelfSubjectAccessReview and SelfSubjectRulesReview for the caller', async () => {
    const dave = await clientFor('dave');
    await admin.create('/apis/rbac.authorization.k8s.io/v1/namespaces/kube-system/roles', {
      metadata: { name: 'lease-writer' },
      rules: [{ apiGroups: ['coordination.k8s.io'], resources: ['leases'], verbs: ['get', 'update'] }],
    });
    await admin.create('/apis/rbac.authorization.k8s.io/v1/namespaces/kube-system/rolebindings', {
      metadata: { name: 'dave-leases' },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'lease-writer' },
      subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'User', name: 'dave' }],
    });
    const review = async (resourceAttributes: Obj) =>
      (await dave.request('POST', '/apis/authorization.k8s.io/v1/selfsubjectaccessreviews', { spec: { resourceAttributes } })).body as Obj;
    const allowed = await review({ verb: 'update', group: 'coordination.k8s.io', resource: 'leases', namespace: 'kube-system' });
    expect(allowed.status).toEqual({
      allowed: true,
      reason: 'RBAC: allowed by RoleBinding "dave-leases/kube-system" of Role "lease-writer" to User "dave"',
    });
    expect((await review({ verb: 'update', group: 'coordination.k8s.io', resource: 'leases', namespace: 'default' })).status).toEqual({
      allowed: false,
    });
    const nonResource = await dave.request('POST', '/apis/authorization.k8s.io/v1/selfsubjectaccessreviews', {
      spec: { nonResourceAttributes: { verb: 'get', path: '/readyz' } },
    });
    expect(nonResource.status).toBe(201);
    expect((nonResource.body as Obj).status.allowed).toBe(true);
    const rules = (
      await dave.request('POST', '/apis/authorization.k8s.io/v1/selfsubjectrulesreviews', { spec: { namespace: 'kube-system' } })
    ).body as Obj;
    expect(rules.status.resourceRules).toContainEqual({
      verbs: ['get', 'update'],
      apiGroups: ['coordination.k8s.io'],
      resources: ['leases'],
    });
  });

  it('lets a kubelet (system:node:NAME in system:nodes) register its Node and report status, but not delete namespaces', async () => {
    const kubelet = await clientFor('system:node:w1', ['system:nodes']);
    expect((await kubelet.request('POST', '/api/v1/nodes', { metadata: { name: 'w1' } })).status).toBe(201);
    const patched = await kubelet.request(
      'PATCH',
      '/api/v1/nodes/w1/status',
      { status: { phase: 'Running' } },
      { contentType: 'application/merge-patch+json' },
    );
    expect(patched.status).toBe(200);
    const denied = await kubelet.request('DELETE', '/api/v1/namespaces/default');
    expect((denied.body as Obj).message).toBe(
      'namespaces "default" is forbidden: User "system:node:w1" cannot delete resource "namespaces" in API group "" in the namespace "default"',
    );
  });
});
