// Small shared helpers: timestamps in the API's formats, names, quantities, pod readiness.
import { randomUUID } from 'node:crypto';
import type { Obj } from './store.ts';

/** metav1.Time: RFC 3339 with whole seconds. */
export function timeNow(offsetMs = 0): string {
  return new Date(Date.now() + offsetMs).toISOString().replace(/\.\d+Z$/, 'Z');
}

export function newUid(): string {
  return randomUUID();
}

const ALPHANUMS = 'bcdfghjklmnpqrstvwxz2456789';

/** The 5-character suffix Kubernetes appends for generateName. */
export function randomSuffix(length = 5): string {
  let out = '';
  for (let i = 0; i < length; i++) out += ALPHANUMS[Math.floor(Math.random() * ALPHANUMS.length)];
  return out;
}

/** rand.SafeEncodeString: maps each character onto an alphabet without vowels. */
export function safeEncode(text: string): string {
  let out = '';
  for (let i = 0; i < text.length; i++) out += ALPHANUMS[text.charCodeAt(i) % ALPHANUMS.length];
  return out;
}

/** FNV-1a 32-bit of a string. */
export function fnv32a(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash >>> 0;
}

/** JSON with sorted keys, so equal objects hash equally. */
export function stableJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(stableJson).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.keys(value as Obj)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${stableJson((value as Obj)[k])}`);
    return `{${entries.join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

/** Template hash as the controllers compute it (pod-template-hash, controller-revision-hash). */
export function templateHash(template: unknown, collisionCount = 0): string {
  return safeEncode(String(fnv32a(stableJson(template) + String(collisionCount))));
}

const SUFFIX: Record<string, number> = {
  '': 1,
  m: 1e-3,
  k: 1e3,
  M: 1e6,
  G: 1e9,
  T: 1e12,
  P: 1e15,
  E: 1e18,
  Ki: 1024,
  Mi: 1024 ** 2,
  Gi: 1024 ** 3,
  Ti: 1024 ** 4,
  Pi: 1024 ** 5,
  Ei: 1024 ** 6,
};

/** Parses a resource.Quantity ("100m", "1Gi", "2", "1e3"); NaN when unparseable. */
export function parseQuantity(value: unknown): number {
  if (typeof value === 'number') return value;
  if (typeof value !== 'string') return NaN;
  const m = /^([+-]?[0-9.]+(?:[eE][+-]?[0-9]+)?)(Ki|Mi|Gi|Ti|Pi|Ei|m|k|M|G|T|P|E)?$/.exec(value.trim());
  if (!m) return NaN;
  return Number(m[1]) * (SUFFIX[m[2] ?? ''] ?? NaN);
}

export function podReady(pod: Obj): boolean {
  return ((pod.status?.conditions ?? []) as Obj[]).some((c) => c.type === 'Ready' && c.status === 'True');
}

export function nodeReadyStatus(node: Obj): string | undefined {
  return ((node.status?.conditions ?? []) as Obj[]).find((c) => c.type === 'Ready')?.status;
}

export function isMirrorPod(pod: Obj): boolean {
  return pod.metadata?.annotations?.['kubernetes.io/config.mirror'] !== undefined;
}

export function controllerRef(obj: Obj): Obj | undefined {
  return ((obj.metadata?.ownerReferences ?? []) as Obj[]).find((r) => r.controller === true);
}

export function ownerRef(owner: Obj, apiVersion: string, kind: string): Obj {
  return { apiVersion, kind, name: owner.metadata.name, uid: owner.metadata.uid, controller: true, blockOwnerDeletion: true };
}

/** An int or a percentage of total ("25%"), rounded up or down. */
export function intOrPercent(value: unknown, total: number, roundUp: boolean): number {
  if (typeof value === 'number') return value;
  if (typeof value === 'string' && value.endsWith('%')) {
    const raw = (Number(value.slice(0, -1)) * total) / 100;
    return roundUp ? Math.ceil(raw) : Math.floor(raw);
  }
  if (typeof value === 'string' && /^\d+$/.test(value)) return Number(value);
  return 0;
}
