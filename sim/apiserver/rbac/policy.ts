// The default roles and bindings a fresh kube-apiserver creates (bootstrappolicy), the subset this
// simulator's clients meet: cluster-admin for system:masters, discovery and public info for everyone,
// self-reviews for authenticated users, and system:node bound to the group system:nodes.
//
// The real server authorizes kubelets with the Node authorizer (each kubelet only for its own Node, the
// pods bound to it and what they reference) and leaves the system:node ClusterRoleBinding without
// subjects; the simulator approximates that by binding system:node to the group system:nodes, which lets
// a kubelet do what the role allows on every node, not only its own.
import type { PolicyRule } from './authorizer.ts';

const READ = ['get', 'list', 'watch'];
const RBAC_GROUP = 'rbac.authorization.k8s.io';

interface DefaultRole {
  name: string;
  rules: PolicyRule[];
  /** groups the same-named ClusterRoleBinding binds */
  groups: string[];
}

export const defaultClusterRoles: DefaultRole[] = [
  {
    name: 'cluster-admin',
    rules: [
      { apiGroups: ['*'], resources: ['*'], verbs: ['*'] },
      { nonResourceURLs: ['*'], verbs: ['*'] },
    ],
    groups: ['system:masters'],
  },
  {
    name: 'system:discovery',
    rules: [
      {
        nonResourceURLs: [
          '/api',
          '/api/*',
          '/apis',
          '/apis/*',
          '/healthz',
          '/livez',
          '/openapi',
          '/openapi/*',
          '/readyz',
          '/version',
          '/version/',
        ],
        verbs: ['get'],
      },
    ],
    groups: ['system:authenticated'],
  },
  {
    name: 'system:public-info-viewer',
    rules: [{ nonResourceURLs: ['/healthz', '/livez', '/readyz', '/version', '/version/'], verbs: ['get'] }],
    groups: ['system:authenticated', 'system:unauthenticated'],
  },
  {
    name: 'system:basic-user',
    rules: [
      { apiGroups: ['authorization.k8s.io'], resources: ['selfsubjectaccessreviews', 'selfsubjectrulesreviews'], verbs: ['create'] },
      { apiGroups: ['authentication.k8s.io'], resources: ['selfsubjectreviews'], verbs: ['create'] },
    ],
    groups: ['system:authenticated'],
  },
  {
    name: 'system:node',
    rules: [
      { apiGroups: ['authentication.k8s.io'], resources: ['tokenreviews'], verbs: ['create'] },
      { apiGroups: ['authorization.k8s.io'], resources: ['subjectaccessreviews', 'localsubjectaccessreviews'], verbs: ['create'] },
      { apiGroups: [''], resources: ['services'], verbs: READ },
      { apiGroups: [''], resources: ['nodes'], verbs: ['create', 'get', 'list', 'watch'] },
      { apiGroups: [''], resources: ['nodes/status'], verbs: ['update', 'patch'] },
      { apiGroups: [''], resources: ['nodes'], verbs: ['update', 'patch'] },
      { apiGroups: [''], resources: ['events'], verbs: ['create', 'update', 'patch'] },
      { apiGroups: [''], resources: ['pods'], verbs: READ },
      { apiGroups: [''], resources: ['pods'], verbs: ['create', 'delete'] },
      { apiGroups: [''], resources: ['pods/status'], verbs: ['update', 'patch'] },
      { apiGroups: [''], resources: ['pods/eviction'], verbs: ['create'] },
      { apiGroups: [''], resources: ['secrets', 'configmaps'], verbs: READ },
      { apiGroups: [''], resources: ['persistentvolumeclaims', 'persistentvolumes', 'endpoints'], verbs: ['get'] },
      { apiGroups: ['coordination.k8s.io'], resources: ['leases'], verbs: ['get', 'create', 'update', 'patch', 'delete'] },
      { apiGroups: [''], resources: ['serviceaccounts/token'], verbs: ['create'] },
    ],
    // the simulator's stand-in for the Node authorizer (see the top of this file)
    groups: ['system:nodes'],
  },
];

export function clusterRoleObject(role: DefaultRole): Record<string, unknown> {
  return {
    apiVersion: `${RBAC_GROUP}/v1`,
    kind: 'ClusterRole',
    metadata: {
      name: role.name,
      labels: { 'kubernetes.io/bootstrapping': 'rbac-defaults' },
      annotations: { 'rbac.authorization.kubernetes.io/autoupdate': 'true' },
    },
    rules: role.rules,
  };
}

export function clusterRoleBindingObject(role: DefaultRole): Record<string, unknown> {
  return {
    apiVersion: `${RBAC_GROUP}/v1`,
    kind: 'ClusterRoleBinding',
    metadata: {
      name: role.name,
      labels: { 'kubernetes.io/bootstrapping': 'rbac-defaults' },
      annotations: { 'rbac.authorization.kubernetes.io/autoupdate': 'true' },
    },
    roleRef: { apiGroup: RBAC_GROUP, kind: 'ClusterRole', name: role.name },
    subjects: role.groups.map((name) => ({ apiGroup: RBAC_GROUP, kind: 'Group', name })),
  };
}
