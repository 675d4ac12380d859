// Live faults for the API server, re-read from the faults file whenever its mtime changes.
// api-unavailable: every API request answers 503 inside [mtime + startAfterMs, + durationMs).
// pdb-blocks: evictions of pods covered by the named PDB answer 429.
import { statSync, readFileSync } from 'node:fs';
import YAML from 'yaml';

export interface ApiFaults {
  apiUnavailable(now?: number): boolean;
  pdbBlocked(namespace: string, name: string): boolean;
}

interface Loaded {
  /** mtime, size and inode: a rewrite within the same millisecond still shows */
  stamp: string;
  mtimeMs: number;
  faults: Record<string, any>[];
}

export function faultsFromFile(path: string | undefined): ApiFaults {
  let cache: Loaded = { stamp: '', mtimeMs: -1, faults: [] };

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
    pdbBlocked(namespace, name) {
      return load().faults.some((f) => f?.type === 'pdb-blocks' && f.namespace === namespace && f.name === name);
    },
  };
}
