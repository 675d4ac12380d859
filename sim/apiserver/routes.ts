// Resource requests: /api/v1/… and /apis/GROUP/VERSION/…, mapped to get/list/watch/create/update/
// patch/delete and the status, eviction and binding subresources.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { deleteObject, parseDeleteOptions } from './deletion.ts';
import { badRequest, failure, methodNotAllowed, pageNotFound, success } from './errors.ts';
import { evictPod, type EvictionHooks } from './eviction.ts';
import { listJson, listObjects, makeFilter } from './list.ts';
import type { ObjectApi } from './objects.ts';
import { isPlainObject } from './patch.ts';
import { findResource, R, resources, type ResourceDef } from './resources.ts';
import type { Obj } from './store.ts';
import { renderTable, wantsTable } from './table.ts';
import { timeNow } from './util.ts';
import { serveWatch } from './watch.ts';
import { patchScale, scaleOf, updateScale } from './scale.ts';

export interface ResourceRequest {
  def: ResourceDef;
  namespace?: string;
  name?: string;
  subresource?: string;
  watch: boolean;
}

export interface Reply {
  code: number;
  body: unknown;
  contentType?: string;
  /** extra response headers (Retry-After of an api-error fault) */
  headers?: Record<string, string>;
}

/** Parses the part after /api/v1 or /apis/G/V. Returns undefined for paths no resource serves. */
export function parseResourcePath(group: string, version: string, segments: string[]): ResourceRequest | undefined {
  let watch = false;
  if (segments[0] === 'watch') {
    watch = true;
    segments = segments.slice(1);
  }
  let namespace: string | undefined;
  let rest = segments;
  const namespaceSub = segments.length === 3 && ['status', 'finalize'].includes(segments[2]!);
  if (segments[0] === 'namespaces' && segments.length >= 3 && !namespaceSub) {
    namespace = segments[1];
    rest = segments.slice(2);
  }
  const [plural, name, subresource, ...extra] = rest;
  if (!plural || extra.length > 0) return undefined;
  const def = findResource(group, version, plural);
  if (!def || (namespace && !def.namespaced)) return undefined;
  if (subresource && !def.subresources.includes(subresource)) return undefined;
  return { def, namespace, name, subresource, watch };
}

function parseJson(raw: string): unknown {
  if (!raw) throw badRequest('the body of the request is empty');
  try {
    return JSON.parse(raw);
  } catch (error) {
    throw badRequest(`couldn't get version/kind; json parse error: ${(error as Error).message}`);
  }
}

function dryRun(query: URLSearchParams): boolean {
  return query.getAll('dryRun').includes('All');
}

function bindPod(api: ObjectApi, namespace: string, name: string, body: unknown): Reply {
  if (!isPlainObject(body) || !body.target?.name) throw badRequest('Binding target is required');
  const pod = api.get(R.pods, namespace, name);
  if (pod.spec?.nodeName) {
    throw failure(
      409,
      'Conflict',
      `Operation cannot be fulfilled on pods/binding "${name}": pod ${name} is already assigned to node "${pod.spec.nodeName}"`,
      {
        name,
        kind: 'pods/binding',
      },
    );
  }
  const conditions = ((pod.status?.conditions ?? []) as Obj[]).filter((c) => c.type !== 'PodScheduled');
  conditions.push({ type: 'PodScheduled', status: 'True', lastProbeTime: null, lastTransitionTime: timeNow() });
  api.write(R.pods, { ...pod, spec: { ...pod.spec, nodeName: body.target.name }, status: { ...pod.status, conditions } });
  return { code: 201, body: success(201) };
}

/** Removes the owner from its dependents' ownerReferences (propagationPolicy=Orphan). */
function orphanDependents(api: ObjectApi, owner: Obj): void {
  for (const def of resources) {
    for (const dep of api.store.ownedBy(def, owner.metadata.uid)) {
      const refs = (dep.metadata.ownerReferences as Obj[]).filter((r) => r.uid !== owner.metadata.uid);
      const metadata = { ...dep.metadata, ownerReferences: refs };
      if (refs.length === 0) delete metadata.ownerReferences;
      api.write(def, { ...dep, metadata });
    }
  }
}

function deleteOne(api: ObjectApi, r: ResourceRequest, body: unknown, query: URLSearchParams): Reply {
  const options = parseDeleteOptions(body, query);
  const obj = api.get(r.def, r.namespace, r.name!);
  const policy = options.propagationPolicy ?? (r.def === R.pods ? undefined : 'Background');
  if (policy === 'Orphan' && !options.dryRun) orphanDependents(api, obj);
  const result = deleteObject(api, r.def, r.namespace, r.name!, options);
  return { code: result.code, body: result.body };
}

function deleteCollection(api: ObjectApi, r: ResourceRequest, body: unknown, query: URLSearchParams): Reply {
  const page = listObjects(api.store, r.def, {
    namespace: r.namespace,
    labelSelector: query.get('labelSelector'),
    fieldSelector: query.get('fieldSelector'),
  });
  const options = parseDeleteOptions(body, query);
  const items = page.items.map((o) => deleteObject(api, r.def, o.metadata.namespace, o.metadata.name, options).body);
  return { code: 200, body: JSON.parse(listJson(r.def, { ...page, items: items as Obj[], continueToken: '' })) };
}

function getReply(api: ObjectApi, r: ResourceRequest, req: IncomingMessage, query: URLSearchParams): Reply {
  const obj = api.get(r.def, r.namespace, r.name!);
  if (wantsTable(req.headers.accept) && !r.subresource) {
    const table = renderTable(
      r.def.kind,
      [obj],
      { resourceVersion: obj.metadata.resourceVersion },
      query.get('includeObject') ?? 'Metadata',
    );
    return { code: 200, body: table, contentType: 'application/json;as=Table;v=v1;g=meta.k8s.io' };
  }
  return { code: 200, body: obj };
}

function listReply(api: ObjectApi, r: ResourceRequest, req: IncomingMessage, query: URLSearchParams): Reply {
  const limit = Number(query.get('limit') ?? 0);
  const page = listObjects(api.store, r.def, {
    namespace: r.namespace,
    labelSelector: query.get('labelSelector'),
    fieldSelector: query.get('fieldSelector'),
    limit: Number.isFinite(limit) ? limit : 0,
    continueToken: query.get('continue'),
  });
  if (wantsTable(req.headers.accept)) {
    const meta: Obj = { resourceVersion: page.resourceVersion };
    if (page.continueToken) meta.continue = page.continueToken;
    if (page.remainingItemCount !== undefined) meta.remainingItemCount = page.remainingItemCount;
    const table = renderTable(r.def.kind, page.items, meta, query.get('includeObject') ?? 'Metadata');
    return { code: 200, body: table, contentType: 'application/json;as=Table;v=v1;g=meta.k8s.io' };
  }
  return { code: 200, body: listJson(r.def, page) };
}

export interface RouteContext {
  api: ObjectApi;
  eviction: EvictionHooks;
  onWatchClose: (fn: () => void) => () => void;
}

/** Handles one resource request. Returns undefined when it already streamed the answer (watch). */
export function handleResource(
  ctx: RouteContext,
  r: ResourceRequest,
  req: IncomingMessage,
  res: ServerResponse,
  url: URL,
  raw: string,
): Reply | undefined {
  const { api } = ctx;
  const query = url.searchParams;
  const method = req.method ?? 'GET';
  const options = { dryRun: dryRun(query), subresource: r.subresource };
  if (method === 'GET' && (r.watch || query.get('watch') === 'true' || query.get('watch') === '1')) {
    const filter = makeFilter(r.def, query.get('labelSelector'), query.get('fieldSelector'));
    if (r.name) filter.fields.push({ field: 'metadata.name', value: r.name, negate: false });
    const timeout = query.get('timeoutSeconds');
    serveWatch(
      api.store,
      {
        def: r.def,
        namespace: r.namespace,
        filter,
        resourceVersion: query.get('resourceVersion'),
        timeoutSeconds: timeout ? Number(timeout) : undefined,
      },
      res,
      ctx.onWatchClose,
    );
    return undefined;
  }
  if (!r.name) {
    if (method === 'GET') return listReply(api, r, req, query);
    if (method === 'POST') {
      if (r.def.namespaced && !r.namespace) throw methodNotAllowed();
      return { code: 201, body: api.create(r.def, r.namespace, parseJson(raw), options) };
    }
    if (method === 'DELETE') return deleteCollection(api, r, raw ? parseJson(raw) : undefined, query);
    throw methodNotAllowed();
  }
  if (r.def.namespaced && !r.namespace) throw pageNotFound();
  if (r.subresource === 'eviction') {
    if (method !== 'POST') throw methodNotAllowed();
    return { code: 201, body: evictPod(api, r.namespace!, r.name, parseJson(raw), query, ctx.eviction) };
  }
  if (r.subresource === 'binding') {
    if (method !== 'POST') throw methodNotAllowed();
    return bindPod(api, r.namespace!, r.name, parseJson(raw));
  }
  if (r.subresource === 'scale') {
    if (method === 'GET') return { code: 200, body: scaleOf(api.get(r.def, r.namespace, r.name)) };
    if (method === 'PUT') return { code: 200, body: updateScale(api, r.def, r.namespace!, r.name, parseJson(raw)) };
    if (method === 'PATCH')
      return { code: 200, body: patchScale(api, r.def, r.namespace!, r.name, req.headers['content-type'] ?? '', raw) };
    throw methodNotAllowed();
  }
  switch (method) {
    case 'GET':
      return getReply(api, r, req, query);
    case 'PUT':
      return { code: 200, body: api.update(r.def, r.namespace, r.name, parseJson(raw), options) };
    case 'PATCH': {
      if (query.get('fieldManager') === null && /apply-patch/.test(req.headers['content-type'] ?? '')) {
        throw failure(422, 'Invalid', 'PatchOptions.meta.k8s.io "" is invalid: fieldManager: Required value: is required for apply patch', {
          group: 'meta.k8s.io',
          kind: 'PatchOptions',
          causes: [{ reason: 'FieldValueRequired', message: 'Required value: is required for apply patch', field: 'fieldManager' }],
        });
      }
      const result = api.patch(r.def, r.namespace, r.name, req.headers['content-type'] ?? '', raw, options);
      return { code: result.created ? 201 : 200, body: result.object };
    }
    case 'DELETE':
      return deleteOne(api, r, raw ? parseJson(raw) : undefined, query);
    default:
      throw methodNotAllowed();
  }
}
