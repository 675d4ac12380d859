// The API server's objects in the control planes' etcd, under kube-apiserver's /registry/… keys (values are
// the objects as JSON; a real kube-apiserver writes protobuf for built-in types).
//
// The store stays the server's cache; this writes every change through to etcd: writes queue (the newest
// per key wins) and go out in transactions of up to 128 operations, one batch at a time. A mutating request
// is answered only once its write is in etcd (`durable`), so a snapshot taken after a client saw the answer
// holds the change. The cache is rebuilt from etcd (Store.resetTo: watches end, clients re-list) when
//  - etcd answers with a revision below the last one seen: it was restored from a snapshot (pending writes,
//    made while no etcd answered, are dropped: their kube-apiserver had no etcd either);
//  - a kube-apiserver static pod restarts (its mirror pod comes back or changes hash): a real one rebuilds
//    its watch cache from etcd then;
//  - etcd already holds objects when this server first reaches it.
// Until etcd first answers (up starts the API server before the nodes), writes wait in the queue and the
// first contact writes every object.
import { b64, type EtcdClient, prefixEnd, type RangeResponse, type TxnOp, unb64 } from '../lib/etcd-client.ts';
import { resources, type ResourceDef } from './resources.ts';
import type { Obj, Store } from './store.ts';

const ROOT = '/registry/';
const MAX_OPS = 128; // etcd's --max-txn-ops default
const MAX_BYTES = 1024 * 1024; // below etcd's 1.5 MiB request limit
const PAGE = 500;

/** kube-apiserver's key prefixes where they are not the plural (pkg/registry/…/storage). */
const PREFIXES: Record<string, string> = {
  nodes: 'minions',
  services: 'services/specs',
  endpoints: 'services/endpoints',
  // the simulator keeps events.k8s.io Events apart from core ones (kube-apiserver stores both under /registry/events)
  'events.k8s.io/events': 'events.k8s.io/events',
};

function prefixOf(def: ResourceDef): string {
  const rk = def.group ? `${def.group}/${def.plural}` : def.plural;
  return PREFIXES[rk] ?? def.plural;
}

/** "/registry/configmaps/kube-system/kubeadm-config", "/registry/minions/cp-1" */
export function registryKey(def: ResourceDef, key: string): string {
  return `${ROOT}${prefixOf(def)}/${key}`;
}

const byPrefix = resources.map((def) => ({ def, prefix: `${ROOT}${prefixOf(def)}/` })).sort((a, b) => b.prefix.length - a.prefix.length);

export function resourceOfKey(key: string): ResourceDef | undefined {
  return byPrefix.find((p) => key.startsWith(p.prefix))?.def;
}

type State = 'initial' | 'connected' | 'lost';

function add(loaded: Map<ResourceDef, Obj[]>, def: ResourceDef, object: Obj): void {
  const list = loaded.get(def);
  if (list) list.push(object);
  else loaded.set(def, [object]);
}

function decode(value: string): Obj | undefined {
  try {
    const object = JSON.parse(value) as unknown;
    return object && typeof object === 'object' && (object as Obj).metadata?.name ? (object as Obj) : undefined;
  } catch {
    return undefined;
  }
}

export interface EtcdStorageOptions {
  /** how often an idle server checks etcd (a restore shows as a lower revision) */
  probeMs?: number;
  log: (line: string) => void;
}

export class EtcdStorage {
  private readonly pending = new Map<string, string | null>();
  /** store resourceVersion of the newest queued write */
  private pendingRv = 0;
  /** every write up to this store resourceVersion is in etcd */
  private durableRv = 0;
  private waiters: { rv: number; resolve: () => void }[] = [];
  /** the highest etcd revision seen */
  private lastRevision = 0;
  private state: State = 'initial';
  private reloadReason: string | undefined;
  /** the pending reload is for a restored etcd: the cache is stale until it is done */
  private restored = false;
  private running: Promise<void> | undefined;
  private retryAt = 0;
  private lastError = '';
  private timer: NodeJS.Timeout | undefined;
  private closed = false;
  /** kube-apiserver mirror pods: name → config hash ('' after a delete) */
  private readonly apiservers = new Map<string, string>();
  private readonly store: Store;
  private readonly client: EtcdClient;
  private readonly log: (line: string) => void;

  constructor(store: Store, client: EtcdClient, options: EtcdStorageOptions) {
    this.store = store;
    this.client = client;
    this.log = options.log;
    store.setWriteHook((def, key, stored) => this.queue(def, key, stored));
    this.timer = setInterval(() => this.kick(), options.probeMs ?? 500);
    this.timer.unref();
    this.kick();
  }

  /** Resolves once every write up to store resourceVersion rv is in etcd, or after timeoutMs (false then). */
  durable(rv: number, timeoutMs: number): Promise<boolean> {
    // before etcd first answers (up starts the API server before any etcd), the first contact writes everything
    if (rv <= this.durableRv || this.closed || this.state === 'initial') return Promise.resolve(true);
    return new Promise((resolve) => {
      const waiter = {
        rv,
        resolve: () => {
          clearTimeout(timer);
          resolve(true);
        },
      };
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== waiter);
        resolve(false);
      }, timeoutMs);
      this.waiters.push(waiter);
    });
  }

  /**
   * For /readyz: etcd answered the last request. Before etcd first answers the server counts as ready (up
   * starts it before any etcd; a real kube-apiserver would wait for its etcd instead).
   */
  ready(): boolean {
    return this.state === 'initial' || (this.state === 'connected' && !this.restored);
  }

  /** Whether etcd answered the last request (for /sim/status). */
  status(): { state: State; lastRevision: number; pending: number; lastError: string } {
    return { state: this.state, lastRevision: this.lastRevision, pending: this.pending.size, lastError: this.lastError };
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.timer) clearInterval(this.timer);
    this.store.setWriteHook(undefined);
    await this.running?.catch(() => undefined);
    for (const w of this.waiters.splice(0)) w.resolve();
  }

  private queue(def: ResourceDef, key: string, stored: Obj | undefined): void {
    this.pending.set(registryKey(def, key), stored ? JSON.stringify(stored) : null);
    this.pendingRv = this.store.currentRv();
    if (def.plural === 'pods' && def.group === '' && key.startsWith('kube-system/kube-apiserver-')) this.apiserverPod(key, stored);
    this.kick();
  }

  /** A kube-apiserver static pod that comes back or changes is a restarted kube-apiserver. */
  private apiserverPod(key: string, stored: Obj | undefined): void {
    const hash = stored ? String(stored.metadata?.annotations?.['kubernetes.io/config.hash'] ?? '') : '';
    const before = this.apiservers.get(key);
    this.apiservers.set(key, hash);
    if (stored && before !== undefined && before !== hash) this.reloadReason ??= `kube-apiserver ${key.split('/')[1]} restarted`;
  }

  private kick(): void {
    if (this.running || this.closed || Date.now() < this.retryAt) return;
    this.running = this.cycle().finally(() => {
      this.running = undefined;
      if (this.state === 'connected' && (this.pending.size > 0 || this.reloadReason)) setImmediate(() => this.kick());
    });
  }

  private async cycle(): Promise<void> {
    try {
      if (this.state !== 'connected') await this.connect();
      else if (this.pending.size === 0 && !this.reloadReason) await this.check(await this.countRegistry());
      if (this.reloadReason) {
        const reason = this.reloadReason;
        // a restored etcd must not get the writes made against the old state; a restarted kube-apiserver's do go out
        if (!this.restored) await this.flush();
        await this.reload(reason, this.restored);
        this.reloadReason = undefined;
        this.restored = false;
      }
      await this.flush();
    } catch (err) {
      const message = (err as Error).message;
      if (this.state === 'connected' || message !== this.lastError)
        this.log(`etcd storage: ${message}; ${this.pending.size} writes wait for etcd`);
      this.lastError = message;
      if (this.state === 'connected') this.state = 'lost';
      this.retryAt = Date.now() + 250;
    }
  }

  private seen(revision: string | undefined): number {
    const rev = Number(revision ?? 0);
    this.lastRevision = Math.max(this.lastRevision, rev);
    return rev;
  }

  private countRegistry(): Promise<RangeResponse> {
    return this.client.range(ROOT, prefixEnd(ROOT), { countOnly: true });
  }

  private async connect(): Promise<void> {
    const res = await this.countRegistry();
    const rev = Number(res.header?.revision ?? 0);
    if (this.state === 'initial') {
      if (Number(res.count ?? 0) === 0) {
        for (const { def, key, object } of this.store.everything()) this.pending.set(registryKey(def, key), JSON.stringify(object));
        this.pendingRv = this.store.currentRv();
        this.log(`etcd storage: etcd answers (revision ${rev}); writing all ${this.pending.size} objects`);
      } else {
        this.pending.clear();
        this.restored = true;
        this.reloadReason = 'etcd holds objects already';
      }
    } else if (rev >= this.lastRevision) {
      this.log(`etcd storage: etcd answers again (revision ${rev}); ${this.pending.size} waiting writes go out`);
    }
    this.state = 'connected';
    this.check(res);
  }

  /** A revision below the last one seen: etcd was restored from a snapshot, and the cache must follow it. */
  private check(res: RangeResponse): void {
    const rev = Number(res.header?.revision ?? 0);
    if (rev < this.lastRevision) {
      this.log(`etcd storage: etcd answers at revision ${rev}, below ${this.lastRevision}: it was restored from a snapshot`);
      this.lastRevision = rev;
      this.pending.clear();
      this.restored = true;
      this.reloadReason = 'etcd was restored';
    }
    this.seen(res.header?.revision);
  }

  /**
   * Reads every /registry object and makes the cache hold exactly that. Writes made meanwhile are dropped after a
   * restore (they were made against the old state); otherwise they stay, and so does their object in the cache.
   */
  private async reload(reason: string, restored: boolean): Promise<void> {
    const loaded = new Map<ResourceDef, Obj[]>();
    const end = prefixEnd(ROOT);
    let from = ROOT;
    let revision: string | undefined;
    let count = 0;
    for (;;) {
      const page = await this.client.range(from, end, { limit: PAGE, ...(revision ? { revision } : {}) });
      revision ??= page.header?.revision;
      for (const kv of page.kvs ?? []) {
        const key = unb64(kv.key);
        const def = resourceOfKey(key);
        if (!def || (!restored && this.pending.has(key))) continue;
        const object = decode(unb64(kv.value));
        if (!object) {
          // kube-apiserver cannot decode such a value either (it fails lists of that resource); here it is skipped
          this.log(`etcd storage: ${key} holds no JSON object; skipped`);
          continue;
        }
        add(loaded, def, object);
        count++;
      }
      const last = page.kvs?.at(-1);
      if (!page.more || !last) break;
      from = `${unb64(last.key)}\0`;
    }
    if (restored) this.pending.clear();
    for (const key of this.pending.keys()) {
      const def = resourceOfKey(key);
      const object = def ? this.store.getByKey(def, key.slice(registryKey(def, '').length)) : undefined;
      if (!def || !object) continue;
      add(loaded, def, object);
    }
    this.seen(revision);
    const changed = this.store.resetTo(loaded);
    this.log(`etcd storage: re-read ${count} objects from etcd (${reason}): ${changed} differed from the cache`);
    this.settle(this.store.currentRv());
  }

  private async flush(): Promise<void> {
    while (this.pending.size > 0) {
      const targetRv = this.pendingRv;
      const batch = [...this.pending];
      this.pending.clear();
      let written = 0;
      try {
        while (written < batch.length) {
          const ops: TxnOp[] = [];
          let bytes = 0;
          for (let i = written; i < batch.length && ops.length < MAX_OPS; i++) {
            const [key, value] = batch[i]!;
            const size = key.length + (value?.length ?? 0);
            if (ops.length > 0 && bytes + size > MAX_BYTES) break;
            bytes += size;
            ops.push(value === null ? { request_delete_range: { key: b64(key) } } : { request_put: { key: b64(key), value: b64(value) } });
          }
          const res = await this.client.txn(ops);
          this.seen(res.header?.revision);
          written += ops.length;
        }
      } catch (err) {
        // what did not go out waits again, unless a newer write of the same key is queued
        for (const [key, value] of batch.slice(written)) if (!this.pending.has(key)) this.pending.set(key, value);
        throw err;
      }
      this.settle(targetRv);
    }
  }

  private settle(rv: number): void {
    this.durableRv = Math.max(this.durableRv, rv);
    const done = this.waiters.filter((w) => w.rv <= this.durableRv);
    this.waiters = this.waiters.filter((w) => w.rv > this.durableRv);
    for (const w of done) w.resolve();
  }
}
