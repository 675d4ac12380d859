// Live faults for the API server, re-read from the faults file whenever its mtime changes.
// api-unavailable: every API request answers 503 inside [mtime + startAfterMs, + durationMs).
// pdb-blocks: evictions of pods covered by the named PDB answer 429.
// api-error: matching requests answer the given status (429/5xx/4xx, Retry-After when given) inside the window.
// api-reset: matching requests have their connection cut unanswered inside the window.
import { statSync, readFileSync } from 'node:fs';
import YAML from 'yaml';

/** What a matching api-error or api-reset fault does to one request. */
export type RequestFault = { kind: 'error'; status: number; message?: string; retryAfterSeconds?: number } | { kind: 'reset' };

export interface ApiFaults {
  apiUnavailable(now?: number): boolean;
  pdbBlocked(namespace: string, name: string): boolean;
  /** the first api-error / api-reset fault matching this request (counting it against its `times`) */
  requestFault(method: string, path: string, body?: string, now?: number): RequestFault | undefined;
}

/** [mtime + startAfterMs, + durationMs); no durationMs: until the faults change. */
function inWindow(f: Record<string, any>, mtimeMs: number, now: number): boolean {
  const start = mtimeMs + Number(f.startAfterMs ?? 0);
  return now >= start && (f.durationMs === undefined || now < start + Number(f.durationMs));
}

interface Loaded {
  /** mtime, size and inode: a rewrite within the same millisecond still shows */
  stamp: string;
  mtimeMs: number;
  faults: Record<string, any>[];
}

export function faultsFromFile(path: string | undefined): ApiFaults {
  let cache: Loaded = { stamp: '', mtimeMs: -1, faults: [] };
  /** how often each fault (by index) fired, for `times`; reset when the file changes */
  let fired = { stamp: '', counts: new Map<number, number>() };

  function load(): Loaded {
    if (!path) return cache;
    let mtimeMs: number;
    let stamp: string;
    try {
      const st = statSync(path);
      mtimeMs = st.mtimeMs;
      stamp = `${st.mtimeMs}:${st.size}:${st.ino}`;
    } catch {
      cache = { stamp: '', mtimeMs: -1, faults: [] };
      return cache;
    }
    if (stamp === cache.stamp) return cache;
    try {
      const parsed = YAML.parse(readFileSync(path, 'utf8'));
      cache = { stamp, mtimeMs, faults: Array.isArray(parsed) ? parsed : [] };
    } catch (error) {
      console.error(`faults: cannot parse ${path}: ${(error as Error).message}`);
      cache = { stamp, mtimeMs, faults: [] };
    }
    return cache;
  }

  return {
    apiUnavailable(now = Date.now()) {
      const { mtimeMs, faults } = load();
      return faults.some((f) => {
        if (f?.type !== 'api-unavailable') return false;
        const start = mtimeMs + Number(f.startAfterMs ?? 0);
        return now >= start && now < start + Number(f.durationMs ?? 0);
      });
    },
    requestFault(method, path, body = '', now = Date.now()) {
      const { stamp, mtimeMs, faults } = load();
      if (fired.stamp !== stamp) fired = { stamp, counts: new Map() };
      for (const [index, f] of faults.entries()) {
        if (f?.type !== 'api-error' && f?.type !== 'api-reset') continue;
        if (f.method && String(f.method).toUpperCase() !== method.toUpperCase()) continue;
        if (f.path && !path.includes(String(f.path))) continue;
        if (f.body && !body.includes(String(f.body))) continue;
        if (!inWindow(f, mtimeMs, now)) continue;
        const count = fired.counts.get(index) ?? 0;
        if (f.times !== undefined && count >= Number(f.times)) continue;
        fired.counts.set(index, count + 1);
        if (f.type === 'api-reset') return { kind: 'reset' };
        return {
          kind: 'error',
          status: Number(f.status),
          ...(f.message ? { message: String(f.message) } : {}),
          ...(f.retryAfterSeconds !== undefined ? { retryAfterSeconds: Number(f.retryAfterSeconds) } : {}),
        };
      }
      return undefined;
    },
    pdbBlocked(namespace, name) {
      return load().faults.some((f) => f?.type === 'pdb-blocks' && f.namespace === namespace && f.name === name);
    },
  };
}
