// Preflight: may the kubeconfig's user do what the command needs? One SelfSubjectAccessReview per
// permission (and per resourceName), asked before any node is touched. Missing permissions end the run
// with an InputError naming each (verb, resource, API group, namespace) and the README's role as the fix.
import { ApiException, AuthorizationV1Api, type KubeConfig, type V1SelfSubjectAccessReviewSpec } from '@kubernetes/client-node';
import pLimit from 'p-limit';
import { InputError } from '../../core/errors.ts';
import { describePermission, isPathPermission, RBAC_NAME, type Permission } from '../../core/permissions.ts';
import { describeApiError } from './read-cluster.ts';
import { apiRetrier, retryingClient, retryPolicyOf } from './api-retry.ts';

const REVIEWS_AT_ONCE = 8;

type AccessReview = { reachable: true; missing: Permission[] } | { reachable: false; error: string };

const SSAR: Permission = {
  verb: 'create',
  group: 'authorization.k8s.io',
  resource: 'selfsubjectaccessreviews',
  why: 'checking these permissions before anything is touched',
};

/** Asks the API server about each permission; `reachable: false` when it cannot answer (unreachable, timed out, 5xx). */
export async function reviewAccess(kc: KubeConfig, needed: readonly Permission[]): Promise<AccessReview> {
  // retried through transient faults like every call; an API server refusing connections fails fast (a wrong server)
  const api = retryingClient(kc.makeApiClient(AuthorizationV1Api), apiRetrier({ policy: retryPolicyOf(kc), connections: false }));
  const limit = pLimit(REVIEWS_AT_ONCE);
  const checks = needed.flatMap((p): { p: Permission; spec: V1SelfSubjectAccessReviewSpec }[] => {
    if (isPathPermission(p)) return [{ p, spec: { nonResourceAttributes: { verb: p.verb, path: p.path } } }];
    const [resource, subresource] = p.resource.split('/');
    const base = {
      verb: p.verb,
      group: p.group,
      resource: resource!,
      ...(subresource ? { subresource } : {}),
      ...(p.namespace ? { namespace: p.namespace } : {}),
    };
    const names = p.names?.length ? p.names : [undefined];
    return names.map((name) => ({ p, spec: { resourceAttributes: { ...base, ...(name ? { name } : {}) } } }));
  });
  let unreachable: string | undefined;
  let reviewForbidden = false;
  const allowed = await Promise.all(
    checks.map(({ spec }) =>
      limit(async () => {
        if (unreachable || reviewForbidden) return false;
        try {
          const review = await api.createSelfSubjectAccessReview({ body: { spec } });
          return review.status?.allowed === true;
        } catch (error) {
          // 403: the user may not even ask; anything else (refused, timed out, 5xx, no such API) means the
          // server cannot answer now, and the command's own first call reports that better
          if (error instanceof ApiException && error.code === 403) reviewForbidden = true;
          else unreachable ??= describeApiError(error);
          return false;
        }
      }),
    ),
  );
  if (unreachable) return { reachable: false, error: unreachable };
  if (reviewForbidden) return { reachable: true, missing: [SSAR] };
  const missing = new Set<Permission>();
  checks.forEach((c, i) => {
    if (!allowed[i]) missing.add(c.p);
  });
  return { reachable: true, missing: [...missing] };
}

/** The error for missing permissions: each one, why the command needs it, and the fix. */
function accessError(command: string, missing: readonly Permission[]): InputError {
  const lines = missing.map((p) => `\n  - ${describePermission(p)}: ${p.why}`).join('');
  return new InputError([
    {
      input: 'kubeconfig',
      problem: `its user may not do ${missing.length} thing(s) command ${command} needs through the Kubernetes API:${lines}\nNothing was changed and no node was contacted`,
      fix: `bind the kubeconfig's user to the ClusterRole and Role "${RBAC_NAME}" from README.md (section "Kubernetes permissions"): kubectl apply -f that manifest with the subject set to this user`,
    },
  ]);
}

/**
 * Checks the permissions; throws accessError when any is missing. When the API server cannot be reached
 * this says nothing: the command's own first read reports that (and plan, backup and rollback go on without it).
 */
export async function requireAccess(kc: KubeConfig, command: string, needed: readonly Permission[]): Promise<void> {
  if (needed.length === 0) return;
  const review = await reviewAccess(kc, needed);
  if (review.reachable && review.missing.length > 0) throw accessError(command, review.missing);
}
