// The one retry policy for the Kubernetes API: a call whose connection is refused or reset (the API server
// is restarting: `kubeadm upgrade apply/node` restarts kube-apiserver on each control plane, and behind a
// load balancer some connections meet the one that is away) is made again after a pause, until the API
// server answers or API_RETRY.budgetMs have passed since the call's first failure. Any answer, an error
// status included, ends the retrying: only "nobody answered" is waited out. Every call the cluster adapters
// make goes through here (makeClusterApis wraps the clients), so lock renewal, progress annotations, drains,
// the waits for Ready and the post-upgrade reads all survive an API server restart the same way.

export interface ApiRetryPolicy {
  /** how long one call keeps trying after its first refused or reset connection */
  budgetMs: number;
  /** the first pause; each next one doubles, up to maxDelayMs */
  firstDelayMs: number;
  maxDelayMs: number;
}

/** kube-apiserver takes tens of seconds to come back after its static pod is replaced. */
export const API_RETRY: ApiRetryPolicy = { budgetMs: 120_000, firstDelayMs: 500, maxDelayMs: 5_000 };

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

export interface ApiRetryDeps {
  /** progress lines: when the API server stops answering and when it answers again */
  onWait?: (line: string) => void;
  policy?: ApiRetryPolicy;
  sleep?: (ms: number) => Promise<unknown>;
  now?: () => number;
}

const seconds = (ms: number) => `${Math.round(ms / 1000)}s`;

/** A retrier shared by every call of one client bundle: an outage is reported once, and its end once. */
export function apiRetrier(deps: ApiRetryDeps = {}): <T>(what: string, call: () => Promise<T>) => Promise<T> {
  const policy = deps.policy ?? API_RETRY;
  const now = deps.now ?? Date.now;
  const sleep = deps.sleep ?? ((ms: number) => new Promise((resolve) => setTimeout(resolve, ms)));
  const say = deps.onWait ?? (() => {});
  let outageSince: number | undefined;

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
        const failure = connectionFailure(error);
        if (!failure) throw error;
        const at = now();
        firstFailure ??= at;
        if (outageSince === undefined) {
          outageSince = at;
          say(
            `the API server did not take ${what} (${failure}): it may be restarting; waiting for the API server (up to ${seconds(policy.budgetMs)})`,
          );
        }
        const left = firstFailure + policy.budgetMs - at;
        if (left <= 0) {
          throw new Error(
            `the API server did not answer ${what} for ${seconds(at - firstFailure)} (${failure}); check that it is running and reachable from this runner`,
            { cause: error },
          );
        }
        await sleep(Math.min(delay, left));
        delay = Math.min(delay * 2, policy.maxDelayMs);
      }
    }
  };
}

/** The client with every method call going through `retry`; other properties are passed through. */
export function retryingClient<T extends object>(client: T, retry: ReturnType<typeof apiRetrier>): T {
  return new Proxy(client, {
    get(target, property, receiver) {
      const value: unknown = Reflect.get(target, property, receiver);
      if (typeof value !== 'function' || typeof property !== 'string') return value;
      const name = (args: unknown[]) => (args[0] as { name?: unknown } | undefined)?.name;
      return (...args: unknown[]) =>
        retry(
          typeof name(args) === 'string' ? `${property} ${name(args)}` : property,
          () => Reflect.apply(value, target, args) as Promise<unknown>,
        );
    },
  });
}
