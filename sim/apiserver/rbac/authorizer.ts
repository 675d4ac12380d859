// RBAC as kube-apiserver evaluates it (plugin/pkg/auth/authorizer/rbac): a request's attributes (user,
// verb, API group, resource/subresource, namespace, name, or a non-resource path) are allowed when some
// ClusterRoleBinding, or some RoleBinding in the request's namespace, binds a subject the user matches
// to a role with a rule that covers the request. Members of system:masters are allowed everything
// before RBAC is asked (the API server's privileged-group authorizer). Anything else is denied.
import type { Obj } from '../store.ts';

export interface UserInfo {
  name: string;
  groups: string[];
}

/** authorizer.Attributes: either a resource request or a non-resource path. */
export type Attributes =
  | {
      resourceRequest: true;
      verb: string;
      apiGroup: string;
      apiVersion: string;
      resource: string;
      subresource: string;
      namespace: string;
      name: string;
    }
  | { resourceRequest: false; verb: string; path: string };

export interface PolicyRule {
  verbs?: string[];
  apiGroups?: string[];
  resources?: string[];
  resourceNames?: string[];
  nonResourceURLs?: string[];
}

/** Where the authorizer finds roles and bindings (the store, or plain arrays in tests). */
export interface RbacSource {
  clusterRoleBindings(): Iterable<Obj>;
  roleBindings(namespace: string): Iterable<Obj>;
  clusterRole(name: string): Obj | undefined;
  role(namespace: string, name: string): Obj | undefined;
}

const SYSTEM_MASTERS = 'system:masters';
export const AUTHENTICATED = 'system:authenticated';
const UNAUTHENTICATED = 'system:unauthenticated';
export const ANONYMOUS: UserInfo = { name: 'system:anonymous', groups: [UNAUTHENTICATED] };

export interface Decision {
  allowed: boolean;
  /** "RBAC: allowed by ClusterRoleBinding …" when allowed, as the real authorizer says it; "" otherwise */
  reason: string;
}

const ALL = '*';

function has(list: string[] | undefined, value: string): boolean {
  return (list ?? []).some((v) => v === ALL || v === value);
}

/** rbac.ResourceMatches: "*", the exact "resource" or "resource/subresource", or "*\/subresource". */
function resourceMatches(rule: PolicyRule, resource: string, subresource: string): boolean {
  const combined = subresource ? `${resource}/${subresource}` : resource;
  for (const ruleResource of rule.resources ?? []) {
    if (ruleResource === ALL || ruleResource === combined) return true;
    if (subresource && ruleResource === `*/${subresource}`) return true;
  }
  return false;
}

/** rbac.NonResourceURLMatches: "*", the exact path, or a prefix ending in "*". */
function nonResourceUrlMatches(rule: PolicyRule, path: string): boolean {
  for (const url of rule.nonResourceURLs ?? []) {
    if (url === ALL || url === path) return true;
    if (url.endsWith('*') && path.startsWith(url.slice(0, -1))) return true;
  }
  return false;
}

export function ruleAllows(rule: PolicyRule, a: Attributes): boolean {
  if (!has(rule.verbs, a.verb)) return false;
  if (!a.resourceRequest) return nonResourceUrlMatches(rule, a.path);
  if (!has(rule.apiGroups, a.apiGroup)) return false;
  if (!resourceMatches(rule, a.resource, a.subresource)) return false;
  const names = rule.resourceNames ?? [];
  return names.length === 0 || names.includes(a.name);
}

/** rbac.appliesToUser: a subject names the user, one of its groups, or its service account. */
function subjectMatches(subject: Obj, user: UserInfo, bindingNamespace: string): boolean {
  switch (subject.kind) {
    case 'User':
      return subject.name === user.name;
    case 'Group':
      return user.groups.includes(subject.name);
    case 'ServiceAccount': {
      const namespace = subject.namespace || bindingNamespace;
      return namespace !== '' && user.name === `system:serviceaccount:${namespace}:${subject.name}`;
    }
    default:
      return false;
  }
}

function rulesOf(source: RbacSource, roleRef: Obj | undefined, bindingNamespace: string): PolicyRule[] {
  if (!roleRef) return [];
  if (roleRef.kind === 'ClusterRole') return (source.clusterRole(roleRef.name)?.rules ?? []) as PolicyRule[];
  if (roleRef.kind === 'Role' && bindingNamespace) return (source.role(bindingNamespace, roleRef.name)?.rules ?? []) as PolicyRule[];
  return [];
}

function describeSubject(user: UserInfo, subject: Obj): string {
  if (subject.kind === 'ServiceAccount') return `ServiceAccount "${subject.name}/${subject.namespace ?? ''}"`;
  return `${subject.kind} "${subject.name}"`;
}

function describeBinding(binding: Obj, namespace: string): string {
  const kind = namespace ? 'RoleBinding' : 'ClusterRoleBinding';
  const name = namespace ? `${binding.metadata?.name}/${namespace}` : binding.metadata?.name;
  return `${kind} "${name}" of ${binding.roleRef?.kind} "${binding.roleRef?.name}"`;
}

/** Visits every rule that applies to the user where the request is (cluster-wide and in `namespace`). */
export function visitRules(
  source: RbacSource,
  user: UserInfo,
  namespace: string,
  visit: (rule: PolicyRule, binding: Obj, bindingNamespace: string, subject: Obj) => boolean,
): void {
  const scopes: [Iterable<Obj>, string][] = [[source.clusterRoleBindings(), '']];
  if (namespace) scopes.push([source.roleBindings(namespace), namespace]);
  for (const [bindings, bindingNamespace] of scopes) {
    for (const binding of bindings) {
      const subject = ((binding.subjects ?? []) as Obj[]).find((s) => subjectMatches(s, user, bindingNamespace));
      if (!subject) continue;
      for (const rule of rulesOf(source, binding.roleRef, bindingNamespace)) {
        if (visit(rule, binding, bindingNamespace, subject)) return;
      }
    }
  }
}

/** The privileged-group authorizer, then RBAC. */
export function authorize(source: RbacSource, user: UserInfo, a: Attributes): Decision {
  if (user.groups.includes(SYSTEM_MASTERS)) return { allowed: true, reason: '' };
  let reason = '';
  visitRules(source, user, a.resourceRequest ? a.namespace : '', (rule, binding, bindingNamespace, subject) => {
    if (!ruleAllows(rule, a)) return false;
    reason = `RBAC: allowed by ${describeBinding(binding, bindingNamespace)} to ${describeSubject(user, subject)}`;
    return true;
  });
  return { allowed: reason !== '', reason };
}

/** What the real server says after "is forbidden: " (responsewriters.forbiddenMessage). */
export function forbiddenMessage(user: UserInfo, a: Attributes): string {
  if (!a.resourceRequest) return `User "${user.name}" cannot ${a.verb} path "${a.path}"`;
  const resource = a.subresource ? `${a.resource}/${a.subresource}` : a.resource;
  const where = a.namespace ? `in the namespace "${a.namespace}"` : 'at the cluster scope';
  return `User "${user.name}" cannot ${a.verb} resource "${resource}" in API group "${a.apiGroup}" ${where}`;
}
