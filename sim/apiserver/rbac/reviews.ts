// The authorizer's wiring in the API server: roles and bindings read from the store, the default
// policy created at start, and the self reviews (authorization.k8s.io/v1 SelfSubjectAccessReview and
// SelfSubjectRulesReview, POST only, nothing stored).
import { failure } from '../errors.ts';
import type { ObjectApi } from '../objects.ts';
import { isPlainObject } from '../patch.ts';
import { mustResource } from '../resources.ts';
import type { Obj, Store } from '../store.ts';
import { authorize, forbiddenMessage, visitRules, type Attributes, type PolicyRule, type RbacSource, type UserInfo } from './authorizer.ts';
import { clusterRoleBindingObject, clusterRoleObject, defaultClusterRoles } from './policy.ts';

const RBAC = 'rbac.authorization.k8s.io';
const AUTHZ = 'authorization.k8s.io';
export const REVIEW_PATHS = {
  access: `/apis/${AUTHZ}/v1/selfsubjectaccessreviews`,
  rules: `/apis/${AUTHZ}/v1/selfsubjectrulesreviews`,
};

export function storeRbacSource(store: Store): RbacSource {
  const defs = {
    clusterRoles: mustResource(RBAC, 'clusterroles'),
    clusterRoleBindings: mustResource(RBAC, 'clusterrolebindings'),
    roles: mustResource(RBAC, 'roles'),
    roleBindings: mustResource(RBAC, 'rolebindings'),
  };
  return {
    clusterRoleBindings: () => store.iterate(defs.clusterRoleBindings),
    roleBindings: (namespace) => store.iterate(defs.roleBindings, namespace),
    clusterRole: (name) => store.get(defs.clusterRoles, undefined, name),
    role: (namespace, name) => store.get(defs.roles, namespace, name),
  };
}

/** What a fresh kube-apiserver creates: the default ClusterRoles and their bindings (kept if present). */
export function bootstrapRbac(api: ObjectApi): void {
  const roles = mustResource(RBAC, 'clusterroles');
  const bindings = mustResource(RBAC, 'clusterrolebindings');
  for (const role of defaultClusterRoles) {
    if (!api.store.get(roles, undefined, role.name)) api.create(roles, undefined, clusterRoleObject(role));
    if (!api.store.get(bindings, undefined, role.name)) api.create(bindings, undefined, clusterRoleBindingObject(role));
  }
}

/** 403 with the real Status: `pods is forbidden: User "x" cannot list resource "pods" in API group "" at the cluster scope`. */
export function forbiddenError(user: UserInfo, a: Attributes) {
  const why = forbiddenMessage(user, a);
  if (!a.resourceRequest) return failure(403, 'Forbidden', `forbidden: ${why}`, {});
  const qualified = a.apiGroup ? `${a.resource}.${a.apiGroup}` : a.resource;
  const message = a.name ? `${qualified} "${a.name}" is forbidden: ${why}` : `${qualified} is forbidden: ${why}`;
  const details: Obj = { kind: a.resource };
  if (a.name) details.name = a.name;
  if (a.apiGroup) details.group = a.apiGroup;
  return failure(403, 'Forbidden', message, details);
}

function str(value: unknown): string {
  return typeof value === 'string' ? value : '';
}

function invalidReview(kind: string, field: string, message: string) {
  return failure(422, 'Invalid', `${kind}.${AUTHZ} "" is invalid: ${field}: ${message}`, {
    group: AUTHZ,
    kind,
    causes: [{ reason: 'FieldValueInvalid', message, field }],
  });
}

export function selfSubjectAccessReview(source: RbacSource, user: UserInfo, body: unknown): Obj {
  const spec: Obj = isPlainObject(body) && isPlainObject(body.spec) ? body.spec : {};
  const resource = isPlainObject(spec.resourceAttributes) ? spec.resourceAttributes : undefined;
  const nonResource = isPlainObject(spec.nonResourceAttributes) ? spec.nonResourceAttributes : undefined;
  if ((resource === undefined) === (nonResource === undefined)) {
    throw invalidReview(
      'SelfSubjectAccessReview',
      'spec.resourceAttributes',
      'Invalid value: "null": exactly one of nonResourceAttributes or resourceAttributes must be specified',
    );
  }
  const attributes: Attributes = resource
    ? {
        resourceRequest: true,
        verb: str(resource.verb),
        apiGroup: str(resource.group),
        apiVersion: str(resource.version),
        resource: str(resource.resource),
        subresource: str(resource.subresource),
        namespace: str(resource.namespace),
        name: str(resource.name),
      }
    : { resourceRequest: false, verb: str(nonResource!.verb), path: str(nonResource!.path) };
  const decision = authorize(source, user, attributes);
  const status: Obj = { allowed: decision.allowed };
  if (decision.reason) status.reason = decision.reason;
  return {
    kind: 'SelfSubjectAccessReview',
    apiVersion: `${AUTHZ}/v1`,
    metadata: { creationTimestamp: null },
    spec,
    status,
  };
}

export function selfSubjectRulesReview(source: RbacSource, user: UserInfo, body: unknown): Obj {
  const spec: Obj = isPlainObject(body) && isPlainObject(body.spec) ? body.spec : {};
  const namespace = str(spec.namespace);
  if (!namespace) throw invalidReview('SelfSubjectRulesReview', 'spec.namespace', 'Required value: no namespace on request');
  const rules: PolicyRule[] = [];
  if (user.groups.includes('system:masters')) {
    rules.push({ verbs: ['*'], apiGroups: ['*'], resources: ['*'] }, { verbs: ['*'], nonResourceURLs: ['*'] });
  }
  visitRules(source, user, namespace, (rule) => {
    rules.push(rule);
    return false;
  });
  const resourceRules = rules
    .filter((r) => !r.nonResourceURLs?.length)
    .map((r) => ({
      verbs: r.verbs ?? [],
      apiGroups: r.apiGroups ?? [],
      resources: r.resources ?? [],
      ...(r.resourceNames?.length ? { resourceNames: r.resourceNames } : {}),
    }));
  const nonResourceRules = rules
    .filter((r) => r.nonResourceURLs?.length)
    .map((r) => ({ verbs: r.verbs ?? [], nonResourceURLs: r.nonResourceURLs ?? [] }));
  return {
    kind: 'SelfSubjectRulesReview',
    apiVersion: `${AUTHZ}/v1`,
    metadata: { creationTimestamp: null },
    spec,
    status: { resourceRules, nonResourceRules, incomplete: false },
  };
}
