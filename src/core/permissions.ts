// What the Action may need to do through the Kubernetes API, as RBAC sees it. Each adapter lists the
// permissions of the calls it makes next to those calls (READ_CLUSTER_ACCESS in read-cluster.ts, …); each
// phase says which of those lists it uses; a command needs the union over its phases. The same lists make
// the least-privilege ClusterRole and Role in README.md (rbacManifest) and the preflight access review.

/** One RBAC permission: a verb on a resource (or a non-resource path), and why the Action needs it. */
export type Permission =
  | {
      verb: string;
      /** API group, "" for the core group */
      group: string;
      /** plural resource, with its subresource: "pods", "pods/eviction" */
      resource: string;
      /** only in this namespace (granted by a Role there); absent: every namespace / cluster-scoped */
      namespace?: string;
      /** only these objects (resourceNames) */
      names?: readonly string[];
      why: string;
    }
  | { verb: string; path: string; why: string };

export function isPathPermission(p: Permission): p is Extract<Permission, { path: string }> {
  return 'path' in p;
}

function key(p: Permission): string {
  if (isPathPermission(p)) return `path|${p.verb}|${p.path}`;
  return `res|${p.verb}|${p.group}|${p.resource}|${p.namespace ?? ''}|${[...(p.names ?? [])].sort().join(',')}`;
}

/** The permissions once each, in first-seen order (the first `why` wins). */
export function uniquePermissions(lists: readonly (readonly Permission[])[]): Permission[] {
  const seen = new Map<string, Permission>();
  for (const list of lists) for (const p of list) if (!seen.has(key(p))) seen.set(key(p), p);
  return [...seen.values()];
}

/** "list pods (API group "", all namespaces)", "get configmaps kubeadm-config (API group "", namespace kube-system)", "get path /readyz" */
export function describePermission(p: Permission): string {
  if (isPathPermission(p)) return `${p.verb} path ${p.path}`;
  const names = p.names?.length ? ` ${p.names.join(', ')}` : '';
  const where = p.namespace ? `namespace ${p.namespace}` : 'all namespaces';
  return `${p.verb} ${p.resource}${names} (API group "${p.group}", ${where})`;
}

interface Rule {
  apiGroups?: string[];
  resources?: string[];
  resourceNames?: string[];
  nonResourceURLs?: string[];
  verbs: string[];
}

/** RBAC rules covering the permissions: one rule per group, resource and resourceNames, verbs merged. */
function rulesFor(permissions: readonly Permission[]): Rule[] {
  const rules = new Map<string, Rule>();
  const paths = new Map<string, Set<string>>();
  for (const p of permissions) {
    if (isPathPermission(p)) {
      const verbs = paths.get(p.path) ?? new Set<string>();
      verbs.add(p.verb);
      paths.set(p.path, verbs);
      continue;
    }
    const names = [...(p.names ?? [])].sort();
    const k = `${p.group}|${p.resource}|${names.join(',')}`;
    const rule = rules.get(k) ?? {
      apiGroups: [p.group],
      resources: [p.resource],
      ...(names.length > 0 ? { resourceNames: names } : {}),
      verbs: [],
    };
    if (!rule.verbs.includes(p.verb)) rule.verbs.push(p.verb);
    rules.set(k, rule);
  }
  const sorted = [...rules.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, r]) => ({ ...r, verbs: r.verbs.sort() }));
  const byVerbs = new Map<string, string[]>();
  for (const [path, verbs] of [...paths.entries()].sort()) {
    const v = [...verbs].sort().join(',');
    byVerbs.set(v, [...(byVerbs.get(v) ?? []), path]);
  }
  for (const [verbs, urls] of byVerbs) sorted.push({ nonResourceURLs: urls, verbs: verbs.split(',') });
  return sorted;
}

const q = (s: string) => JSON.stringify(s);

function ruleYaml(rule: Rule): string[] {
  const list = (name: string, values: string[] | undefined, first: boolean) =>
    values ? [`${first ? '  - ' : '    '}${name}: [${values.map(q).join(', ')}]`] : [];
  if (rule.nonResourceURLs) return [...list('nonResourceURLs', rule.nonResourceURLs, true), ...list('verbs', rule.verbs, false)];
  return [
    ...list('apiGroups', rule.apiGroups, true),
    ...list('resources', rule.resources, false),
    ...list('resourceNames', rule.resourceNames, false),
    ...list('verbs', rule.verbs, false),
  ];
}

export const RBAC_NAME = 'kubeadm-upgrade-action';

/**
 * The ClusterRole (cluster-wide permissions) and the Role in each namespace the Action only touches there,
 * with bindings to the user of the Action's kubeconfig (its client certificate's CN), as YAML documents.
 */
export function rbacManifest(permissions: readonly Permission[], user = RBAC_NAME): string {
  const clusterWide = permissions.filter((p) => isPathPermission(p) || !p.namespace);
  const namespaces = [...new Set(permissions.flatMap((p) => (!isPathPermission(p) && p.namespace ? [p.namespace] : [])))].sort();
  const subject = ['subjects:', '  - apiGroup: rbac.authorization.k8s.io', '    kind: User', `    name: ${user}`];
  const docs: string[][] = [
    [
      'apiVersion: rbac.authorization.k8s.io/v1',
      'kind: ClusterRole',
      'metadata:',
      `  name: ${RBAC_NAME}`,
      'rules:',
      ...rulesFor(clusterWide).flatMap(ruleYaml),
    ],
    [
      'apiVersion: rbac.authorization.k8s.io/v1',
      'kind: ClusterRoleBinding',
      'metadata:',
      `  name: ${RBAC_NAME}`,
      'roleRef:',
      '  apiGroup: rbac.authorization.k8s.io',
      '  kind: ClusterRole',
      `  name: ${RBAC_NAME}`,
      ...subject,
    ],
  ];
  for (const namespace of namespaces) {
    const here = permissions.filter((p) => !isPathPermission(p) && p.namespace === namespace);
    docs.push(
      [
        'apiVersion: rbac.authorization.k8s.io/v1',
        'kind: Role',
        'metadata:',
        `  name: ${RBAC_NAME}`,
        `  namespace: ${namespace}`,
        'rules:',
        ...rulesFor(here).flatMap(ruleYaml),
      ],
      [
        'apiVersion: rbac.authorization.k8s.io/v1',
        'kind: RoleBinding',
        'metadata:',
        `  name: ${RBAC_NAME}`,
        `  namespace: ${namespace}`,
        'roleRef:',
        '  apiGroup: rbac.authorization.k8s.io',
        '  kind: Role',
        `  name: ${RBAC_NAME}`,
        ...subject,
      ],
    );
  }
  return `${docs.map((d) => d.join('\n')).join('\n---\n')}\n`;
}
