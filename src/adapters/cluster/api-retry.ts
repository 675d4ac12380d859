// The one retry policy for the Kubernetes API. A call meeting a transient fault is made again after a pause, until
// it gets an answer that is not a fault or its budget (API_RETRY.budgetMs, the `api-retry-budget` input) has passed
// since the call's first fault. Transient faults:
// - nobody answered: the connection was refused or reset (the API server is restarting: `kubeadm upgrade
//   apply/node` restarts kube-apiserver on each control plane; behind a load balancer some connections meet the
//   one that is away);
// - an answer saying "not now": 500, 502, 503, 504 (an API server or its etcd overloaded or restarting, a load
//   balancer without a backend) and 429 (priority and fairness throttling) — except an answer about a
//   PodDisruptionBudget: an Eviction refused by a budget (429 with a DisruptionBudget cause) or a pod under two
//   budgets (500) is the drain's business (drain.ts), never waited out here.
// Pauses double from firstDelayMs up to maxDelayMs, each drawn between half and all of that (jitter, so many
// callers do not come back in step), and never shorter than a Retry-After the server gave. Every call the cluster
// adapters make goes through here (makeClusterApis, readCluster, reviewAccess, apiWaiters wrap their clients):
// reads, patches, evictions, Lease renewals and the post step's release all survive an API server restart or
// a short outage the same way. Beyond its budget a call fails with a sentence naming the call, what the API
// server answered and the fix; every other API error reaching a message is a sentence too (never a client
// dump with headers and body).
import { ApiException, type KubeConfig } from '@kubernetes/client-node';

export interface ApiRetryPolicy {
  /** how long one call keeps trying after its first transient fault */
  budgetMs: number;
  /** the first pause; each next one doubles, up to maxDelayMs */
  firstDelayMs: number;
  maxDelayMs: number;
}

/** kube-apiserver takes tens of seconds to come back after its static pod is replaced. */
export const API_RETRY: ApiRetryPolicy = { budgetMs: 120_000, firstDelayMs: 500, maxDelayMs: 5_000 };

/** The policy of every client made from a kubeconfig (the api-retry-budget input sets its budget). */
const policies = new WeakMap<KubeConfig, ApiRetryPolicy>();

export function setRetryPolicy(kc: KubeConfig, policy: ApiRetryPolicy): void {
  policies.set(kc, policy);
}

export function retryPolicyOf(kc: KubeConfig): ApiRetryPolicy {
  return policies.get(kc) ?? API_RETRY;
}

/** Network error codes meaning the API server did not take the request: nobody listening, or the connection cut. */
const CONNECTION_CODES: Record<string, string> = {
  ECONNREFUSED: 'connection refused',
  ECONNRESET: 'connection reset',
  EPIPE: 'connection reset',
  ECONNABORTED: 'connection reset',
  UND_ERR_SOCKET: 'connection closed by the server',
  UND_ERR_CLOSED: 'connection closed by the server',
};

/** "connection refused" / "connection reset" when the error is one; undefined for anything else (an answer, a timeout). */
export function connectionFailure(error: unknown): string | undefined {
  for (let e: unknown = error, depth = 0; e && typeof e === 'object' && depth < 4; e = (e as { cause?: unknown }).cause, depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && CONNECTION_CODES[code]) return CONNECTION_CODES[code];
  }
  return undefined;
}

/** What an API error answer says: its code, the Status's reason, message and causes (client-node 2 keeps the body as text). */
export interface ApiStatus {
  code: number;
  reason?: string;
  /** the Status message, or the start of a body that is not a Status (a load balancer's page) */
  message?: string;
  causes: { reason?: string; message?: string }[];
  retryAfterSeconds?: number;
}

export function apiStatus(error: ApiException<unknown>): ApiStatus {
  const raw: unknown = error.body;
  let status: { message?: string; reason?: string; details?: { causes?: ApiStatus['causes']; retryAfterSeconds?: number } } | undefined;
  if (typeof raw === 'string') {
    try {
      const parsed: unknown = JSON.parse(raw);
      status = parsed && typeof parsed === 'object' ? (parsed as typeof status) : { message: raw.trim().slice(0, 300) };
    } catch {
      status = { message: raw.trim().slice(0, 300) };
    }
  } else if (raw && typeof raw === 'object') {
    status = raw as typeof status;
  }
  const retryAfter = status?.details?.retryAfterSeconds;
  return {
    code: error.code,
    ...(typeof status?.reason === 'string' && status.reason ? { reason: status.reason } : {}),
    ...(typeof status?.message === 'string' && status.message ? { message: status.message } : {}),
    causes: Array.isArray(status?.details?.causes) ? status.details.causes : [],
    ...(typeof retryAfter === 'number' && retryAfter > 0 ? { retryAfterSeconds: retryAfter } : {}),
  };
}

/** "HTTP 503 ServiceUnavailable: the server is currently unable to handle the request" */
export function describeStatus(status: ApiStatus): string {
  return `HTTP ${status.code}${status.reason ? ` ${status.reason}` : ''}${status.message ? `: ${status.message}` : ''}`;
}

/** The answers worth asking again (see the top of this file). */
const TRANSIENT_CODES = new Set([429, 500, 502, 503, 504]);

/** The answer is about a PodDisruptionBudget (an eviction it refused, a pod under two): the drain decides, not us. */
function aboutBudget(status: ApiStatus): boolean {
  return (
    status.causes.some((c) => c.reason === 'DisruptionBudget') ||
    /disruption ?budget/i.test(status.message ?? '') ||
    status.causes.some((c) => /disruption ?budget/i.test(c.message ?? ''))
  );
}

/** Milliseconds a Retry-After header (seconds or an HTTP date) or the Status's retryAfterSeconds asks for. */
function retryAfterMs(error: ApiException<unknown>, status: ApiStatus, now: number): number | undefined {
  const headers = (error.headers ?? {}) as Record<string, string>;
  const header = Object.entries(headers)
    .find(([name]) => name.toLowerCase() === 'retry-after')?.[1]
    ?.trim();
  if (header) {
    if (/^\d+$/.test(header)) return Number(header) * 1000;
    const at = Date.parse(header);
    if (!Number.isNaN(at)) return Math.max(0, at - now);
  }
  return status.retryAfterSeconds !== undefined ? status.retryAfterSeconds * 1000 : undefined;
}

/** A transient fault: what happened (for messages), whether anybody answered, and a Retry-After when given. */
export interface TransientFault {
  /** "connection refused", "HTTP 503 ServiceUnavailable: …" */
  what: string;
  status?: ApiStatus;
  retryAfterMs?: number;
}

/** The transient fault this error is; undefined when asking again cannot help (see the top of this file). */
export function transientFault(error: unknown, now = Date.now()): TransientFault | undefined {
  const connection = connectionFailure(error);
  if (connection) return { what: connection };
  if (!(error instanceof ApiException) || !TRANSIENT_CODES.has(error.code)) return undefined;
  const status = apiStatus(error);
  if (aboutBudget(status)) return undefined;
  const after = retryAfterMs(error, status, now);
  return { what: describeStatus(status), status, ...(after !== undefined ? { retryAfterMs: after } : {}) };
}

/** A call that met transient faults for its whole budget. */
export class ApiRetryError extends Error {
  /** the call, "patchNode worker-1" */
  readonly call: string;
  /** the last answer's status; absent when nobody answered */
  readonly status?: ApiStatus;
  constructor(message: string, call: string, status: ApiStatus | undefined, cause: unknown) {
    super(message, { cause });
    this.name = 'ApiRetryError';
    this.call = call;
    if (status) this.status = status;
  }
}

/**
 * Makes an ApiException's message a sentence: client-node's own is a dump of the code, the body and every
 * response header. Code, body and headers stay on the error for the callers that read them.
 */
export function sentenceForApiException(error: ApiException<unknown>, call: string): void {
  const original = error.message;
  const sentence = `the API server refused ${call}: ${describeStatus(apiStatus(error))}`;
  if (original === sentence) return;
  error.message = sentence;
  if (typeof error.stack === 'string' && error.stack.includes(original)) error.stack = error.stack.replace(original, sentence);
}

export interface ApiRetryDeps {
  /** progress lines: when the API server stops answering (or answers faults) and when it answers again */
  onWait?: (line: string) => void;
  policy?: ApiRetryPolicy;
  sleep?: (ms: number) => Promise<unknown>;
  now?: () => number;
  /** in [0, 1): draws the jitter (Math.random) */
  random?: () => number;
  /** also wait out refused and reset connections (default true; false where a wrong server should fail fast) */
  connections?: boolean;
}

const seconds = (ms: number) => `${Math.round(ms / 1000)}s`;

/** "2m", "90s": a budget as the api-retry-budget input spells it. */
function budgetText(ms: number): string {
  const s = Math.round(ms / 1000);
  return s >= 60 && s % 60 === 0 ? `${s / 60}m` : `${s}s`;
}

/** A retrier shared by every call of one client bundle: an outage is reported once (and when its kind changes), and its end once. */
export function apiRetrier(deps: ApiRetryDeps = {}): <T>(what: string, call: () => Promise<T>) => Promise<T> {
  const policy = deps.policy ?? API_RETRY;
  const now = deps.now ?? Date.now;
  const random = deps.random ?? Math.random;
  const sleep = deps.sleep ?? ((ms: number) => new Promise((resolve) => setTimeout(resolve, ms)));
  const say = deps.onWait ?? (() => {});
  const budget = budgetText(policy.budgetMs);
  let outageSince: number | undefined;
  /** what the API server did last in this outage ("HTTP 503", "connection"): a change is reported too */
  let outageKind = '';

  return async <T>(what: string, call: () => Promise<T>): Promise<T> => {
    let firstFailure: number | undefined;
    let delay = policy.firstDelayMs;
    for (;;) {
      try {
        const result = await call();
        if (outageSince !== undefined) {
          say(`the API server answers again (it was away ${seconds(now() - outageSince)})`);
          outageSince = undefined;
        }
        return result;
      } catch (error) {
        const at = now();
        const fault = transientFault(error, at);
        if (!fault || (deps.connections === false && !fault.status)) {
          if (error instanceof ApiException) sentenceForApiException(error, what);
          throw error;
        }
        if (error instanceof ApiException) sentenceForApiException(error, what);
        firstFailure ??= at;
        const kind = fault.status ? `HTTP ${fault.status.code}` : 'connection';
        if (outageSince === undefined || kind !== outageKind) {
          outageSince ??= at;
          outageKind = kind;
          say(
            fault.status
              ? `the API server answered ${what} with ${fault.what}: retrying with backoff (for up to ${budget}, api-retry-budget)`
              : `the API server did not take ${what} (${fault.what}): it may be restarting; waiting for the API server (up to ${budget}, api-retry-budget)`,
          );
        }
        const left = firstFailure + policy.budgetMs - at;
        if (left <= 0) {
          const fix = `; check that it is running and reachable from this runner (kube-apiserver, its etcd, a load balancer in front of it), or raise api-retry-budget (${budget}) to wait longer`;
          throw new ApiRetryError(
            fault.status
              ? `the API server answered ${what} with ${fault.what} for ${seconds(at - firstFailure)}${fix}`
              : `the API server did not answer ${what} for ${seconds(at - firstFailure)} (${fault.what})${fix}`,
            what,
            fault.status,
            error,
          );
        }
        const jittered = delay * (0.5 + random() / 2);
        await sleep(Math.min(Math.max(jittered, fault.retryAfterMs ?? 0), left));
        delay = Math.min(delay * 2, policy.maxDelayMs);
      }
    }
  };
}

/** "readNamespacedLease kube-system/kubeadm-upgrade-action", "patchNode worker-1", "listNode" */
function callName(property: string, args: unknown[]): string {
  const params = args[0] as { name?: unknown; namespace?: unknown } | undefined;
  const name = typeof params?.name === 'string' ? params.name : undefined;
  const namespace = typeof params?.namespace === 'string' ? params.namespace : undefined;
  if (name) return `${property} ${namespace ? `${namespace}/` : ''}${name}`;
  return namespace ? `${property} in ${namespace}` : property;
}

/** The client with every method call going through `retry`; other properties are passed through. */
export function retryingClient<T extends object>(client: T, retry: ReturnType<typeof apiRetrier>): T {
  return new Proxy(client, {
    get(target, property, receiver) {
      const value: unknown = Reflect.get(target, property, receiver);
      if (typeof value !== 'function' || typeof property !== 'string') return value;
      return (...args: unknown[]) => retry(callName(property, args), () => Reflect.apply(value, target, args) as Promise<unknown>);
    },
  });
}
