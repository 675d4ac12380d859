// Validation and decoding checks the real server applies and clients run into.
import { badRequest, failure, invalid, type ApiError } from './errors.ts';
import type { ResourceDef } from './resources.ts';
import { stableJson } from './util.ts';
import type { Obj } from './store.ts';

const SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const SUBDOMAIN_MESSAGE =
  "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')";

const MICRO_LAYOUT = '2006-01-02T15:04:05.000000Z07:00';

/** Go's time.Parse error for a MicroTime value, or undefined when it parses. */
export function microTimeError(value: unknown): string | undefined {
  if (value === null || value === undefined) return undefined;
  const text = String(value);
  const head = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}/.exec(text);
  if (!head) return `parsing time "${text}" as "${MICRO_LAYOUT}": cannot parse "${text}" as "2006"`;
  const rest = text.slice(head[0].length);
  const fraction = /^\.\d{6}/.exec(rest);
  if (!fraction) return `parsing time "${text}" as "${MICRO_LAYOUT}": cannot parse "${rest}" as ".000000"`;
  const zone = rest.slice(fraction[0].length);
  if (!/^(Z|[+-]\d{2}:\d{2})$/.test(zone)) return `parsing time "${text}" as "${MICRO_LAYOUT}": cannot parse "${zone}" as "Z07:00"`;
  return undefined;
}

const microTimeFields: Record<string, string[]> = {
  Lease: ['acquireTime', 'renewTime'],
};

/** The decode error of an object whose MicroTime fields do not parse, if any. */
function decodeError(kind: string, obj: Obj): string | undefined {
  for (const field of microTimeFields[kind] ?? []) {
    const error = microTimeError(obj.spec?.[field]);
    if (error) return error;
  }
  return undefined;
}

/** Create/update bodies: 400 "X in version v cannot be handled as a X: …". */
export function checkDecodable(def: ResourceDef, obj: Obj): void {
  const error = decodeError(def.kind, obj);
  if (error) throw badRequest(`${def.kind} in version "${def.version}" cannot be handled as a ${def.kind}: ${error}`);
}

/** Patched objects: 422 ` "" is invalid: patch: Invalid value: "<patched json>": …`. */
export function checkPatchedDecodable(def: ResourceDef, obj: Obj): void {
  const error = decodeError(def.kind, obj);
  if (!error) return;
  const message = ` "" is invalid: patch: Invalid value: ${JSON.stringify(JSON.stringify(obj))}: ${error}`;
  throw failure(422, 'Invalid', message, {
    causes: [{ reason: 'FieldValueInvalid', message: `Invalid value: ${JSON.stringify(JSON.stringify(obj))}: ${error}`, field: 'patch' }],
  });
}

export function checkName(def: ResourceDef, obj: Obj): void {
  const name = obj.metadata?.name;
  if (!name) {
    throw invalid(def, '', [
      { field: 'metadata.name', message: 'Required value: name or generateName is required', type: 'FieldValueRequired' },
    ]);
  }
  if (def.group === 'rbac.authorization.k8s.io') {
    // RBAC names are path segment names (ValidateRBACName): "system:node" is valid
    const problem =
      name === '.' || name === '..'
        ? `may not be '${name}'`
        : name.includes('/')
          ? "may not contain '/'"
          : name.includes('%')
            ? "may not contain '%'"
            : undefined;
    if (problem) throw invalid(def, name, [{ field: 'metadata.name', message: `Invalid value: ${JSON.stringify(name)}: ${problem}` }]);
    return;
  }
  if (name.length > 253 || !SUBDOMAIN.test(name)) {
    throw invalid(def, name, [{ field: 'metadata.name', message: `Invalid value: ${JSON.stringify(name)}: ${SUBDOMAIN_MESSAGE}` }]);
  }
}

function required(def: ResourceDef, name: string, field: string): ApiError {
  return invalid(def, name, [{ field, message: 'Required value', type: 'FieldValueRequired' }]);
}

/** Per-kind checks on what a create or update would store. */
export function validateObject(def: ResourceDef, obj: Obj): void {
  const name = obj.metadata.name;
  if (def.kind === 'Pod' && !(obj.spec?.containers?.length > 0)) throw required(def, name, 'spec.containers');
  if ((def.kind === 'RoleBinding' || def.kind === 'ClusterRoleBinding') && !obj.roleRef?.name) throw required(def, name, 'roleRef.name');
  if (['Deployment', 'ReplicaSet', 'DaemonSet'].includes(def.kind)) {
    const selector = obj.spec?.selector;
    if (!selector || (!selector.matchLabels && !selector.matchExpressions)) throw required(def, name, 'spec.selector');
    const labels = obj.spec?.template?.metadata?.labels ?? {};
    const mismatch = Object.entries((selector.matchLabels ?? {}) as Record<string, string>).some(([k, v]) => labels[k] !== v);
    if (mismatch) {
      throw invalid(def, name, [
        {
          field: 'spec.template.metadata.labels',
          message: `Invalid value: ${JSON.stringify(labels)}: \`selector\` does not match template \`labels\``,
        },
      ]);
    }
    if (!(obj.spec?.template?.spec?.containers?.length > 0)) throw required(def, name, 'spec.template.spec.containers');
  }
}

/** Fields of a pod spec an update may change: images, activeDeadlineSeconds, added tolerations. */
function mutablePart(spec: Obj): string {
  const copy = structuredClone(spec ?? {});
  for (const list of ['containers', 'initContainers']) for (const c of (copy[list] ?? []) as Obj[]) delete c.image;
  delete copy.activeDeadlineSeconds;
  delete copy.tolerations;
  return stableJson(copy);
}

export function validatePodUpdate(def: ResourceDef, oldPod: Obj, newPod: Obj): void {
  const oldTolerations = stableJson(oldPod.spec?.tolerations ?? []);
  const kept = ((oldPod.spec?.tolerations ?? []) as Obj[]).every((t) =>
    ((newPod.spec?.tolerations ?? []) as Obj[]).some((n) => stableJson(n) === stableJson(t)),
  );
  if (mutablePart(oldPod.spec) === mutablePart(newPod.spec) && (kept || oldTolerations === '[]')) return;
  throw invalid(def, oldPod.metadata.name, [
    {
      field: 'spec',
      type: 'FieldValueForbidden',
      message:
        'Forbidden: pod updates may not change fields other than `spec.containers[*].image`,`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,`spec.tolerations` (only additions to existing tolerations),`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)',
    },
  ]);
}
