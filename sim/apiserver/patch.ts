// JSON merge patch (RFC 7386) and JSON patch (RFC 6902) as kube-apiserver applies them.
import { failure } from './errors.ts';
import type { Obj } from './store.ts';

export function isPlainObject(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** RFC 7386: objects merge recursively, null deletes, everything else (lists too) replaces. */
export function mergePatch(target: unknown, patch: unknown): unknown {
  if (!isPlainObject(patch)) return structuredClone(patch);
  const result: Obj = isPlainObject(target) ? { ...target } : {};
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete result[key];
    else result[key] = mergePatch(result[key], value);
  }
  return result;
}

/** Every json-patch failure answers 422 with this generic wording and empty details. */
function rejected(): Error {
  return failure(422, 'Invalid', 'the server rejected our request due to an error in our request', {});
}

function parsePointer(path: unknown): string[] {
  if (typeof path !== 'string') throw rejected();
  if (path === '') return [];
  if (!path.startsWith('/')) throw rejected();
  return path
    .slice(1)
    .split('/')
    .map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'));
}

function arrayIndex(list: unknown[], token: string, forAdd: boolean): number {
  if (forAdd && token === '-') return list.length;
  if (!/^(0|[1-9][0-9]*)$/.test(token)) throw rejected();
  const i = Number(token);
  if (i > list.length || (!forAdd && i === list.length)) throw rejected();
  return i;
}

function parentOf(doc: unknown, tokens: string[]): unknown {
  let node = doc;
  for (const token of tokens.slice(0, -1)) {
    if (Array.isArray(node)) node = node[arrayIndex(node, token, false)];
    else if (isPlainObject(node) && Object.hasOwn(node, token)) node = node[token];
    else throw rejected();
  }
  return node;
}

function getAt(doc: unknown, tokens: string[]): unknown {
  if (tokens.length === 0) return doc;
  const parent = parentOf(doc, tokens);
  const last = tokens[tokens.length - 1]!;
  if (Array.isArray(parent)) return parent[arrayIndex(parent, last, false)];
  if (isPlainObject(parent) && Object.hasOwn(parent, last)) return parent[last];
  throw rejected();
}

function addAt(doc: unknown, tokens: string[], value: unknown): unknown {
  if (tokens.length === 0) return value;
  const parent = parentOf(doc, tokens);
  const last = tokens[tokens.length - 1]!;
  if (Array.isArray(parent)) parent.splice(arrayIndex(parent, last, true), 0, value);
  else if (isPlainObject(parent)) parent[last] = value;
  else throw rejected();
  return doc;
}

/** kube-apiserver's json-patch library: removing a missing map key is a no-op. */
function removeAt(doc: unknown, tokens: string[]): unknown {
  if (tokens.length === 0) throw rejected();
  const parent = parentOf(doc, tokens);
  const last = tokens[tokens.length - 1]!;
  if (Array.isArray(parent)) parent.splice(arrayIndex(parent, last, false), 1);
  else if (isPlainObject(parent)) delete parent[last];
  else throw rejected();
  return doc;
}

/** replace of a missing map key adds it (observed on a real server). */
function replaceAt(doc: unknown, tokens: string[], value: unknown): unknown {
  if (tokens.length === 0) return value;
  const parent = parentOf(doc, tokens);
  const last = tokens[tokens.length - 1]!;
  if (Array.isArray(parent)) parent[arrayIndex(parent, last, false)] = value;
  else if (isPlainObject(parent)) parent[last] = value;
  else throw rejected();
  return doc;
}

function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((v, i) => deepEqual(v, b[i]));
  if (isPlainObject(a) && isPlainObject(b)) {
    const ka = Object.keys(a);
    return ka.length === Object.keys(b).length && ka.every((k) => Object.hasOwn(b, k) && deepEqual(a[k], b[k]));
  }
  return false;
}

/** Applies an RFC 6902 patch to a copy of doc. The body must be an array (else 400, as the real server). */
export function jsonPatch(doc: Obj, operations: unknown): Obj {
  if (!Array.isArray(operations)) {
    const what = isPlainObject(operations) ? 'object' : typeof operations;
    throw failure(400, 'BadRequest', `json: cannot unmarshal ${what} into Go value of type jsonpatch.Patch`);
  }
  let result: unknown = structuredClone(doc);
  for (const op of operations) {
    if (!isPlainObject(op)) throw rejected();
    const path = parsePointer(op.path);
    switch (op.op) {
      case 'add':
        result = addAt(result, path, structuredClone(op.value));
        break;
      case 'remove':
        result = removeAt(result, path);
        break;
      case 'replace':
        result = replaceAt(result, path, structuredClone(op.value));
        break;
      case 'move': {
        const from = parsePointer(op.from);
        const value = getAt(result, from);
        result = addAt(removeAt(result, from), path, value);
        break;
      }
      case 'copy':
        result = addAt(result, path, structuredClone(getAt(result, parsePointer(op.from))));
        break;
      case 'test':
        if (!deepEqual(getAt(result, path), op.value)) throw rejected();
        break;
      default:
        throw rejected();
    }
  }
  if (!isPlainObject(result)) throw rejected();
  return result;
}
