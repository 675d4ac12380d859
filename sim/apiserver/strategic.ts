// Strategic merge patch with the patch strategies of the built-in types this server serves.
// Lists with a merge key merge item by item; lists marked "merge" without a key are unions of
// primitives; every other list is replaced, exactly as the Go types' struct tags say (for
// instance Node spec.taints and Pod spec.tolerations have no strategy: they are replaced).
import { isPlainObject } from './patch.ts';
import type { Obj } from './store.ts';

const PRIMITIVE = '';
/** patchStrategy "replace" on a map: the patch's value replaces the whole field */
const REPLACE = '$replace';

const containerLists: Record<string, string> = {
  env: 'name',
  ports: 'containerPort',
  volumeMounts: 'mountPath',
  volumeDevices: 'devicePath',
};

function podSpecStrategies(prefix: string): Record<string, string> {
  const out: Record<string, string> = {
    [`${prefix}volumes`]: 'name',
    [`${prefix}imagePullSecrets`]: 'name',
    [`${prefix}hostAliases`]: 'ip',
  };
  for (const list of ['containers', 'initContainers', 'ephemeralContainers']) {
    out[`${prefix}${list}`] = 'name';
    for (const [field, key] of Object.entries(containerLists)) out[`${prefix}${list}.*.${field}`] = key;
  }
  return out;
}

const metadataStrategies = { 'metadata.ownerReferences': 'uid', 'metadata.finalizers': PRIMITIVE };
const conditionsByType = { 'status.conditions': 'type' };

/** Merge keys by kind and path ('*' stands for a list item); PRIMITIVE marks a primitive set. */
const strategies: Record<string, Record<string, string>> = {
  Pod: { ...podSpecStrategies('spec.'), ...conditionsByType, 'status.podIPs': 'ip' },
  Node: { ...conditionsByType, 'status.addresses': 'type', 'spec.podCIDRs': PRIMITIVE },
  Deployment: { ...podSpecStrategies('spec.template.spec.'), ...conditionsByType },
  ReplicaSet: { ...podSpecStrategies('spec.template.spec.'), ...conditionsByType },
  DaemonSet: { ...podSpecStrategies('spec.template.spec.'), ...conditionsByType },
  Job: { ...podSpecStrategies('spec.template.spec.'), ...conditionsByType },
  PodDisruptionBudget: { ...conditionsByType, 'spec.selector': REPLACE },
  Namespace: { ...conditionsByType },
  Service: { 'spec.ports': 'port' },
};

function strategyFor(kind: string, path: string): string | undefined {
  return (metadataStrategies as Record<string, string>)[path] ?? strategies[kind]?.[path];
}

function stripDirectives(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(stripDirectives);
  if (!isPlainObject(value)) return value;
  const out: Obj = {};
  for (const [k, v] of Object.entries(value)) {
    if (k.startsWith('$')) continue;
    out[k] = stripDirectives(v);
  }
  return out;
}

function reorder(items: unknown[], order: unknown[], mergeKey: string | undefined): unknown[] {
  const keyOf = (v: unknown) => (mergeKey && isPlainObject(v) ? v[mergeKey] : v);
  const position = new Map(order.map((v, i) => [keyOf(v), i]));
  const ranked = items.map((item, i) => ({ item, rank: position.get(keyOf(item)) ?? order.length + i }));
  return ranked.sort((a, b) => a.rank - b.rank).map((r) => r.item);
}

function mergeKeyedList(original: unknown[], patch: unknown[], kind: string, path: string, mergeKey: string): unknown[] {
  if (patch.some((p) => isPlainObject(p) && p.$patch === 'replace')) {
    return patch.filter((p) => !(isPlainObject(p) && p.$patch === 'replace')).map(stripDirectives);
  }
  const result = [...original];
  for (const item of patch) {
    if (!isPlainObject(item)) continue;
    const index = result.findIndex((o) => isPlainObject(o) && o[mergeKey] === item[mergeKey]);
    if (item.$patch === 'delete') {
      if (index >= 0) result.splice(index, 1);
    } else if (index >= 0) {
      result[index] = mergeObject(result[index] as Obj, item, kind, `${path}.*`);
    } else {
      result.push(stripDirectives(item));
    }
  }
  return result;
}

function mergeList(original: unknown, patch: unknown[], kind: string, path: string): unknown[] {
  const strategy = strategyFor(kind, path);
  const base = Array.isArray(original) ? original : [];
  if (strategy === undefined) return stripDirectives(patch) as unknown[];
  if (strategy === PRIMITIVE) return [...base, ...patch.filter((p) => !base.includes(p))];
  return mergeKeyedList(base, patch, kind, path, strategy);
}

/** Merges patch into original (neither is changed). */
function mergeObject(original: Obj, patch: Obj, kind: string, path: string): Obj {
  if (patch.$patch === 'replace') return stripDirectives(patch) as Obj;
  const result: Obj = { ...original };
  const orders: [string, unknown[]][] = [];
  for (const [key, value] of Object.entries(patch)) {
    const childPath = path ? `${path}.${key}` : key;
    if (key === '$patch' || key === '$retainKeys') continue;
    if (key.startsWith('$setElementOrder/')) {
      if (Array.isArray(value)) orders.push([key.slice('$setElementOrder/'.length), value]);
    } else if (key.startsWith('$deleteFromPrimitiveList/')) {
      const field = key.slice('$deleteFromPrimitiveList/'.length);
      if (Array.isArray(result[field]) && Array.isArray(value)) result[field] = result[field].filter((v: unknown) => !value.includes(v));
    } else if (value === null) {
      delete result[key];
    } else if (isPlainObject(value)) {
      if (value.$patch === 'delete') delete result[key];
      else if (strategyFor(kind, childPath) === REPLACE) result[key] = stripDirectives(value);
      else result[key] = mergeObject(isPlainObject(result[key]) ? result[key] : {}, value, kind, childPath);
    } else if (Array.isArray(value)) {
      result[key] = mergeList(result[key], value, kind, childPath);
    } else {
      result[key] = value;
    }
  }
  for (const [field, order] of orders) {
    if (Array.isArray(result[field])) {
      const strategy = strategyFor(kind, path ? `${path}.${field}` : field);
      result[field] = reorder(result[field], order, strategy || undefined);
    }
  }
  if (Array.isArray(patch.$retainKeys)) {
    const keep = new Set(patch.$retainKeys as string[]);
    for (const key of Object.keys(result)) if (!keep.has(key)) delete result[key];
  }
  return result;
}

/** Applies a strategic merge patch to an object of the given kind. */
export function strategicMergePatch(original: Obj, patch: Obj, kind: string): Obj {
  return structuredClone(mergeObject(original, patch, kind, ''));
}
