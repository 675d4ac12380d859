// The object store: one table per resource, a global resourceVersion, indexes for the hot paths
// (pods by node, objects by owner uid, unbound pods), change listeners and a short event history
// for watches.
//
// With etcd storage (etcd-storage.ts) every write also goes to a write hook, and `resetTo` replaces
// everything with what etcd holds, as a restarted kube-apiserver rebuilds its cache.
//
// Stored objects are never mutated: every write stores a new object. Readers may share them freely
// (bulk pods share sub-objects), and writers clone before changing anything.
import { resourceKey, type ResourceDef } from './resources.ts';

export type Obj = Record<string, any>;
export type EventType = 'ADDED' | 'MODIFIED' | 'DELETED';

export interface ChangeEvent {
  def: ResourceDef;
  type: EventType;
  object: Obj;
  old?: Obj;
  rv: number;
}

const HISTORY_LIMIT = 20_000;

/** Sees every write, bulk ones too: the new stored object, or undefined for a removal. */
export type WriteHook = (def: ResourceDef, key: string, stored: Obj | undefined) => void;

class Table {
  readonly items = new Map<string, Obj>();
  /** keys in lexicographic order (etcd's order), rebuilt lazily after bulk loads */
  private sorted: string[] | null = [];

  sortedKeys(): string[] {
    if (!this.sorted) this.sorted = [...this.items.keys()].sort(compareKeys);
    return this.sorted;
  }

  insertKey(key: string, bulk: boolean): void {
    if (bulk || !this.sorted) {
      this.sorted = null;
      return;
    }
    this.sorted.splice(lowerBound(this.sorted, key), 0, key);
  }

  removeKey(key: string): void {
    if (!this.sorted) return;
    const i = lowerBound(this.sorted, key);
    if (this.sorted[i] === key) this.sorted.splice(i, 1);
  }
}

export function compareKeys(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** First index whose key is >= key. */
export function lowerBound(keys: string[], key: string): number {
  let lo = 0;
  let hi = keys.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (keys[mid]! < key) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

export function objectKey(namespace: string | undefined, name: string): string {
  return namespace ? `${namespace}/${name}` : name;
}

export function keyOf(obj: Obj): string {
  return objectKey(obj.metadata?.namespace, obj.metadata.name);
}

export class Store {
  private rv = 100;
  private readonly tables = new Map<string, Table>();
  private readonly listeners = new Set<(event: ChangeEvent) => void>();
  private readonly resetListeners = new Set<() => void>();
  private readonly defs = new Map<string, ResourceDef>();
  private writeHook: WriteHook | undefined;
  private readonly history: ChangeEvent[] = [];
  /** resourceVersion of the newest event dropped from the history */
  private trimmedRv = 0;
  /** pod keys by spec.nodeName ('' = unbound) */
  readonly podsByNode = new Map<string, Set<string>>();
  /** "resourceKey|objectKey" of objects by their owners' uids */
  readonly byOwner = new Map<string, Set<string>>();
  /** uids of every stored object (the garbage collector asks whether owners still exist) */
  readonly uids = new Set<string>();

  currentRv(): number {
    return this.rv;
  }

  table(def: ResourceDef): Table {
    const key = resourceKey(def.group, def.plural);
    let t = this.tables.get(key);
    if (!t) {
      t = new Table();
      this.tables.set(key, t);
      this.defs.set(key, def);
    }
    return t;
  }

  setWriteHook(hook: WriteHook | undefined): void {
    this.writeHook = hook;
  }

  /** Called before `resetTo` changes anything (watches end there: their clients re-list); returns the unsubscribe function. */
  onReset(listener: () => void): () => void {
    this.resetListeners.add(listener);
    return () => this.resetListeners.delete(listener);
  }

  /** Every stored object with its resource (for a full write to etcd). */
  *everything(): Generator<{ def: ResourceDef; key: string; object: Obj }> {
    for (const [rk, t] of this.tables) {
      const def = this.defs.get(rk)!;
      for (const [key, object] of t.items) yield { def, key, object };
    }
  }

  /**
   * Replaces every object with `objects` (what etcd holds). When anything differs: reset listeners run first
   * (watches end), the history is dropped so a watch resuming from an older resourceVersion gets 410 Gone,
   * resourceVersions continue above every one used so far, and change listeners (the controllers) see one event
   * per difference. Returns the number of differences; none changes nothing.
   */
  resetTo(objects: Map<ResourceDef, Obj[]>): number {
    const changes: { def: ResourceDef; type: EventType; key: string; object: Obj; old?: Obj }[] = [];
    const defs = new Map<string, ResourceDef>(this.defs);
    for (const def of objects.keys()) defs.set(resourceKey(def.group, def.plural), def);
    let newest = 0;
    for (const [rk, def] of defs) {
      const current = this.tables.get(rk)?.items ?? new Map<string, Obj>();
      const next = new Map((objects.get(def) ?? []).map((o) => [keyOf(o), o]));
      for (const [key, old] of current) if (!next.has(key)) changes.push({ def, type: 'DELETED', key, object: old, old });
      for (const [key, object] of next) {
        newest = Math.max(newest, Number(object.metadata?.resourceVersion) || 0);
        const old = current.get(key);
        if (!old) changes.push({ def, type: 'ADDED', key, object });
        else if (JSON.stringify(old) !== JSON.stringify(object)) changes.push({ def, type: 'MODIFIED', key, object, old });
      }
    }
    if (changes.length === 0) return 0;
    for (const listener of [...this.resetListeners]) listener();
    for (const c of changes) {
      const t = this.table(c.def);
      if (c.type === 'DELETED') {
        t.items.delete(c.key);
        t.removeKey(c.key);
        this.index(c.def, c.key, c.old, undefined);
      } else {
        t.items.set(c.key, c.object);
        if (c.type === 'ADDED') t.insertKey(c.key, true);
        this.index(c.def, c.key, c.old, c.object);
      }
    }
    this.rv = Math.max(this.rv, newest) + 1;
    this.history.length = 0;
    this.trimmedRv = this.rv;
    for (const c of changes) {
      const event: ChangeEvent = { def: c.def, type: c.type, object: c.object, rv: this.rv, ...(c.old ? { old: c.old } : {}) };
      for (const listener of this.listeners) listener(event);
    }
    return changes.length;
  }

  /** Calls listener synchronously after every write; returns the unsubscribe function. */
  onChange(listener: (event: ChangeEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  get(def: ResourceDef, namespace: string | undefined, name: string): Obj | undefined {
    return this.table(def).items.get(objectKey(def.namespaced ? namespace : undefined, name));
  }

  getByKey(def: ResourceDef, key: string): Obj | undefined {
    return this.table(def).items.get(key);
  }

  count(def: ResourceDef): number {
    return this.table(def).items.size;
  }

  /** All objects of a resource (or of one namespace) in no particular order. */
  *iterate(def: ResourceDef, namespace?: string): Generator<Obj> {
    const items = this.table(def).items;
    if (!namespace) {
      yield* items.values();
      return;
    }
    for (const key of this.keysInNamespace(def, namespace)) yield items.get(key)!;
  }

  /** Sorted keys of a resource, all of them or one namespace's (a contiguous range). */
  keysInNamespace(def: ResourceDef, namespace?: string): string[] {
    const all = this.table(def).sortedKeys();
    if (!namespace || !def.namespaced) return all;
    const prefix = `${namespace}/`;
    const start = lowerBound(all, prefix);
    let end = start;
    while (end < all.length && all[end]!.startsWith(prefix)) end++;
    return all.slice(start, end);
  }

  /** Objects owned (ownerReferences) by uid, of one resource. */
  ownedBy(def: ResourceDef, uid: string): Obj[] {
    const refs = this.byOwner.get(uid);
    if (!refs) return [];
    const prefix = `${resourceKey(def.group, def.plural)}|`;
    const items = this.table(def).items;
    const out: Obj[] = [];
    for (const ref of refs) {
      if (!ref.startsWith(prefix)) continue;
      const obj = items.get(ref.slice(prefix.length));
      if (obj) out.push(obj);
    }
    return out;
  }

  podsOnNode(podsDef: ResourceDef, node: string): Obj[] {
    const keys = this.podsByNode.get(node);
    if (!keys) return [];
    const items = this.table(podsDef).items;
    return [...keys].map((k) => items.get(k)!).filter(Boolean);
  }

  /** Stores a new object (the caller checked it does not exist). bulk: no events, no history. */
  add(def: ResourceDef, obj: Obj, options: { bulk?: boolean } = {}): Obj {
    const stored = this.stamp(obj);
    const key = keyOf(stored);
    const t = this.table(def);
    t.items.set(key, stored);
    t.insertKey(key, options.bulk === true);
    this.index(def, key, undefined, stored);
    this.writeHook?.(def, key, stored);
    if (!options.bulk) this.emit({ def, type: 'ADDED', object: stored, rv: this.rv });
    return stored;
  }

  /** Replaces an existing object with a new version. */
  replace(def: ResourceDef, obj: Obj): Obj {
    const key = keyOf(obj);
    const t = this.table(def);
    const old = t.items.get(key);
    if (!old) throw new Error(`store: replace of missing ${def.plural} ${key}`);
    const stored = this.stamp(obj);
    t.items.set(key, stored);
    this.index(def, key, old, stored);
    this.writeHook?.(def, key, stored);
    this.emit({ def, type: 'MODIFIED', object: stored, old, rv: this.rv });
    return stored;
  }

  /** Removes an object for good. Returns the removed object with a fresh resourceVersion. */
  remove(def: ResourceDef, namespace: string | undefined, name: string): Obj | undefined {
    const key = objectKey(def.namespaced ? namespace : undefined, name);
    const t = this.table(def);
    const old = t.items.get(key);
    if (!old) return undefined;
    t.items.delete(key);
    t.removeKey(key);
    this.index(def, key, old, undefined);
    const last = this.stamp({ ...old });
    this.writeHook?.(def, key, undefined);
    this.emit({ def, type: 'DELETED', object: last, old, rv: this.rv });
    return last;
  }

  /** Events after rv, for a watch resuming there; undefined when rv is older than the history. */
  eventsSince(rv: number): ChangeEvent[] | undefined {
    if (rv < this.trimmedRv) return undefined;
    const start = lowerBoundRv(this.history, rv + 1);
    return this.history.slice(start);
  }

  private stamp(obj: Obj): Obj {
    this.rv += 1;
    return { ...obj, metadata: { ...obj.metadata, resourceVersion: String(this.rv) } };
  }

  private emit(event: ChangeEvent): void {
    this.history.push(event);
    if (this.history.length > HISTORY_LIMIT) {
      const dropped = this.history.splice(0, this.history.length - HISTORY_LIMIT);
      this.trimmedRv = dropped[dropped.length - 1]!.rv;
    }
    for (const listener of this.listeners) listener(event);
  }

  private index(def: ResourceDef, key: string, old: Obj | undefined, next: Obj | undefined): void {
    const rk = `${resourceKey(def.group, def.plural)}|${key}`;
    if (old?.metadata?.uid !== next?.metadata?.uid) {
      if (old?.metadata?.uid) this.uids.delete(old.metadata.uid);
      if (next?.metadata?.uid) this.uids.add(next.metadata.uid);
    }
    const oldOwners = (old?.metadata?.ownerReferences ?? []) as Obj[];
    const newOwners = (next?.metadata?.ownerReferences ?? []) as Obj[];
    if (oldOwners !== newOwners) {
      for (const ref of oldOwners) {
        const set = this.byOwner.get(ref.uid);
        set?.delete(rk);
        if (set?.size === 0) this.byOwner.delete(ref.uid);
      }
      for (const ref of newOwners) {
        let set = this.byOwner.get(ref.uid);
        if (!set) {
          set = new Set();
          this.byOwner.set(ref.uid, set);
        }
        set.add(rk);
      }
    }
    if (def.plural === 'pods' && def.group === '') {
      const oldNode = old ? (old.spec?.nodeName ?? '') : undefined;
      const newNode = next ? (next.spec?.nodeName ?? '') : undefined;
      if (oldNode === newNode) return;
      if (oldNode !== undefined) this.podsByNode.get(oldNode)?.delete(key);
      if (newNode !== undefined) {
        let set = this.podsByNode.get(newNode);
        if (!set) {
          set = new Set();
          this.podsByNode.set(newNode, set);
        }
        set.add(key);
      }
    }
  }
}

function lowerBoundRv(events: ChangeEvent[], rv: number): number {
  let lo = 0;
  let hi = events.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (events[mid]!.rv < rv) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
