// LIST with label/field selectors and limit/continue pagination, in etcd key order.
// Like the real server, a page with a selector reads on until it has `limit` matches and then
// hands out a continue token if any key is left (the next page may come back empty), and
// remainingItemCount is only given without selectors.
import { failure } from './errors.ts';
import { apiVersionOf, R, type ResourceDef } from './resources.ts';
import { fieldsMatch, parseFieldSelector, parseLabelSelector, type FieldRequirement, type LabelMatcher } from './selectors.ts';
import { compareKeys, lowerBound, type Obj, type Store } from './store.ts';

export interface ListQuery {
  namespace?: string;
  labelSelector?: string | null;
  fieldSelector?: string | null;
  limit?: number;
  continueToken?: string | null;
}

export interface ListPage {
  items: Obj[];
  resourceVersion: string;
  continueToken: string;
  remainingItemCount?: number;
}

export interface Filter {
  labels: LabelMatcher;
  fields: FieldRequirement[];
  selective: boolean;
}

export function makeFilter(def: ResourceDef, labelSelector?: string | null, fieldSelector?: string | null): Filter {
  return {
    labels: parseLabelSelector(labelSelector),
    fields: parseFieldSelector(fieldSelector, def.plural),
    selective: Boolean(labelSelector) || Boolean(fieldSelector),
  };
}

export function filterMatches(filter: Filter, obj: Obj): boolean {
  return filter.labels(obj.metadata?.labels) && fieldsMatch(filter.fields, obj);
}

function encodeContinue(rv: number, lastKey: string): string {
  return Buffer.from(JSON.stringify({ v: 'meta.k8s.io/v1', rv, start: `${lastKey}\u0000` })).toString('base64url');
}

function decodeContinue(token: string): { rv: number; start: string } {
  try {
    const parsed = JSON.parse(Buffer.from(token, 'base64url').toString('utf8'));
    if (parsed.v !== 'meta.k8s.io/v1' || typeof parsed.start !== 'string') throw new Error('bad');
    return parsed;
  } catch {
    throw failure(400, 'BadRequest', `continue key is not valid: ${token}`);
  }
}

/** Candidate keys in order; a spec.nodeName=X selector on pods uses the node index. */
function candidateKeys(store: Store, def: ResourceDef, namespace: string | undefined, filter: Filter): string[] {
  const byNode = def === R.pods ? filter.fields.find((f) => f.field === 'spec.nodeName' && !f.negate) : undefined;
  if (byNode) {
    const keys = [...(store.podsByNode.get(byNode.value) ?? [])];
    return (namespace ? keys.filter((k) => k.startsWith(`${namespace}/`)) : keys).sort(compareKeys);
  }
  const byName = filter.fields.find((f) => f.field === 'metadata.name' && !f.negate);
  if (byName) {
    const key = def.namespaced && namespace ? `${namespace}/${byName.value}` : byName.value;
    if (!def.namespaced || namespace) return store.getByKey(def, key) ? [key] : [];
  }
  return store.keysInNamespace(def, namespace);
}

export function listObjects(store: Store, def: ResourceDef, query: ListQuery): ListPage {
  const filter = makeFilter(def, query.labelSelector, query.fieldSelector);
  const keys = candidateKeys(store, def, query.namespace, filter);
  const rv = store.currentRv();
  let start = 0;
  if (query.continueToken) start = lowerBound(keys, decodeContinue(query.continueToken).start);
  const limit = query.limit && query.limit > 0 ? query.limit : Infinity;
  const items: Obj[] = [];
  let i = start;
  for (; i < keys.length && items.length < limit; i++) {
    const obj = store.getByKey(def, keys[i]!);
    if (obj && filterMatches(filter, obj)) items.push(obj);
  }
  const more = i < keys.length;
  const page: ListPage = { items, resourceVersion: String(rv), continueToken: more ? encodeContinue(rv, keys[i - 1]!) : '' };
  if (more && !filter.selective) page.remainingItemCount = keys.length - i;
  return page;
}

/** Serializes a list response without copying every object into a new structure first. */
export function listJson(def: ResourceDef, page: ListPage): string {
  const metadata: Obj = { resourceVersion: page.resourceVersion };
  if (page.continueToken) metadata.continue = page.continueToken;
  if (page.remainingItemCount !== undefined) metadata.remainingItemCount = page.remainingItemCount;
  const head = `{"kind":${JSON.stringify(`${def.kind}List`)},"apiVersion":${JSON.stringify(apiVersionOf(def))},"metadata":${JSON.stringify(metadata)},"items":[`;
  return `${head}${page.items.map((o) => JSON.stringify(o)).join(',')}]}`;
}
