// WATCH: a chunked stream of {"type":…,"object":…} lines, from a resourceVersion (events kept in
// the store's history) or from now with the current objects first as ADDED. A watch ends when the
// store is rebuilt from etcd.
import type { ServerResponse } from 'node:http';
import { filterMatches, type Filter } from './list.ts';
import type { ResourceDef } from './resources.ts';
import type { ChangeEvent, EventType, Obj, Store } from './store.ts';

export interface WatchRequest {
  def: ResourceDef;
  namespace?: string;
  filter: Filter;
  resourceVersion?: string | null;
  timeoutSeconds?: number;
}

function inScope(req: WatchRequest, obj: Obj | undefined): boolean {
  if (!obj) return false;
  if (req.namespace && obj.metadata?.namespace !== req.namespace) return false;
  return filterMatches(req.filter, obj);
}

/** The event a watcher sees for a change: objects entering or leaving the selection are ADDED/DELETED. */
function translate(req: WatchRequest, event: ChangeEvent): { type: EventType; object: Obj } | undefined {
  if (event.def !== req.def) return undefined;
  const now = event.type !== 'DELETED' && inScope(req, event.object);
  const before = event.type !== 'ADDED' && inScope(req, event.old);
  if (event.type === 'DELETED') return before ? { type: 'DELETED', object: event.object } : undefined;
  if (now && before) return { type: 'MODIFIED', object: event.object };
  if (now) return { type: 'ADDED', object: event.object };
  if (before) return { type: 'DELETED', object: event.object };
  return undefined;
}

/** onClose registers a closer for server shutdown and returns its unregister function. */
export function serveWatch(store: Store, req: WatchRequest, res: ServerResponse, onClose: (fn: () => void) => () => void): void {
  res.writeHead(200, { 'Content-Type': 'application/json', 'Cache-Control': 'no-cache, private' });
  const send = (type: string, object: Obj) => res.write(`${JSON.stringify({ type, object })}\n`);
  const rv = req.resourceVersion;
  if (!rv || rv === '0') {
    for (const obj of store.iterate(req.def, req.def.namespaced ? req.namespace : undefined)) if (inScope(req, obj)) send('ADDED', obj);
  } else {
    const events = store.eventsSince(Number(rv));
    if (!events) {
      send('ERROR', {
        kind: 'Status',
        apiVersion: 'v1',
        metadata: {},
        status: 'Failure',
        message: `too old resource version: ${rv} (${store.currentRv()})`,
        reason: 'Expired',
        code: 410,
      });
      res.end();
      return;
    }
    for (const e of events) {
      const seen = translate(req, e);
      if (seen) send(seen.type, seen.object);
    }
  }
  const unsubscribe = store.onChange((event) => {
    const seen = translate(req, event);
    if (seen) send(seen.type, seen.object);
  });
  const timer = setTimeout(() => res.end(), (req.timeoutSeconds ?? 1800) * 1000);
  timer.unref();
  let unregister = () => {};
  let unreset = () => {};
  const stop = () => {
    clearTimeout(timer);
    unsubscribe();
    unregister();
    unreset();
  };
  res.on('close', stop);
  // the cache was rebuilt from etcd (a restarted kube-apiserver): the watch ends and its client re-lists
  unreset = store.onReset(() => {
    stop();
    res.end();
  });
  unregister = onClose(() => {
    stop();
    res.end();
  });
}
