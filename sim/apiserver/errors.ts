// Status objects worded as kube-apiserver words them (see shared/reference/kubernetes-api-semantics.md).
import type { ResourceDef } from './resources.ts';

export interface StatusCause {
  reason?: string;
  message?: string;
  field?: string;
}

export interface StatusBody {
  kind: 'Status';
  apiVersion: 'v1';
  metadata: Record<string, never>;
  status: 'Failure' | 'Success';
  message?: string;
  reason?: string;
  details?: { name?: string; group?: string; kind?: string; uid?: string; causes?: StatusCause[]; retryAfterSeconds?: number };
  code: number;
}

/** An error the HTTP layer turns into a Status response. */
export class ApiError extends Error {
  readonly status: StatusBody;
  constructor(status: StatusBody) {
    super(status.message ?? status.reason ?? `HTTP ${status.code}`);
    this.status = status;
  }
}

export function failure(code: number, reason: string, message: string, details?: StatusBody['details']): ApiError {
  const status: StatusBody = { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, code };
  if (details) status.details = details;
  return new ApiError(status);
}

export function success(code: number): StatusBody {
  return { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', code };
}

/** "leases.coordination.k8s.io", "pods" */
export function qualifiedResource(def: ResourceDef): string {
  return def.group ? `${def.plural}.${def.group}` : def.plural;
}

/** "Lease.coordination.k8s.io", "Pod" */
export function qualifiedKind(def: ResourceDef): string {
  return def.group ? `${def.kind}.${def.group}` : def.kind;
}

function details(def: ResourceDef, name: string): NonNullable<StatusBody['details']> {
  return def.group ? { name, group: def.group, kind: def.plural } : { name, kind: def.plural };
}

export function notFound(def: ResourceDef, name: string): ApiError {
  return failure(404, 'NotFound', `${qualifiedResource(def)} "${name}" not found`, details(def, name));
}

export function namespaceNotFound(namespace: string): ApiError {
  return failure(404, 'NotFound', `namespaces "${namespace}" not found`, { name: namespace, kind: 'namespaces' });
}

export function alreadyExists(def: ResourceDef, name: string): ApiError {
  return failure(409, 'AlreadyExists', `${qualifiedResource(def)} "${name}" already exists`, details(def, name));
}

export function conflict(def: ResourceDef, name: string): ApiError {
  return failure(
    409,
    'Conflict',
    `Operation cannot be fulfilled on ${qualifiedResource(def)} "${name}": the object has been modified; please apply your changes to the latest version and try again`,
    details(def, name),
  );
}

export function badRequest(message: string): ApiError {
  return failure(400, 'BadRequest', message);
}

/** 422 with field causes: `Pod "x" is invalid: spec.foo: Required value`. */
export function invalid(def: ResourceDef, name: string, causes: { field: string; message: string; type?: string }[]): ApiError {
  const text = causes.map((c) => `${c.field}: ${c.message}`);
  const joined = text.length === 1 ? text[0] : `[${text.join(', ')}]`;
  return failure(422, 'Invalid', `${qualifiedKind(def)} "${name}" is invalid: ${joined}`, {
    ...details(def, name),
    kind: def.kind,
    causes: causes.map((c) => ({ reason: c.type ?? 'FieldValueInvalid', message: c.message, field: c.field })),
  });
}

export function forbidden(def: ResourceDef, name: string, why: string): ApiError {
  return failure(403, 'Forbidden', `${qualifiedResource(def)} "${name}" is forbidden: ${why}`, details(def, name));
}

export function methodNotAllowed(): ApiError {
  return failure(405, 'MethodNotAllowed', 'the server does not allow this method on the requested resource');
}

export function unsupportedPatchType(contentType: string, strategic: boolean): ApiError {
  const types = ['application/json-patch+json', 'application/merge-patch+json', 'application/apply-patch+yaml'];
  if (strategic) types.push('application/strategic-merge-patch+json');
  return failure(
    415,
    'UnsupportedMediaType',
    `the body of the request was in an unknown format - accepted media types include: ${types.join(', ')}`,
  );
}

export function unauthorized(): ApiError {
  return failure(401, 'Unauthorized', 'Unauthorized');
}

export function serviceUnavailable(): ApiError {
  return failure(503, 'ServiceUnavailable', 'the server is currently unable to handle the request');
}

export function pageNotFound(): ApiError {
  return failure(404, 'NotFound', 'the server could not find the requested resource');
}

/** A bare 500 Status with no reason or details: what the eviction subresource answers for a pod under two budgets. */
export function bareServerError(message: string): ApiError {
  return new ApiError({ kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, code: 500 });
}
