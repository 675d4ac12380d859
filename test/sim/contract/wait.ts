// Small helpers shared by the contract tests: bounded polling and reading API errors.
import { ApiException } from '@kubernetes/client-node';

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** What one poll saw: done with the value to return, or not yet, with what to show if time runs out. */
export type Probe<T> = { done: true; value: T } | { done: false; seen: unknown };

/**
 * Polls until probe says done, for things a real cluster computes asynchronously (controllers).
 * On timeout the error shows what was last seen, which is what a reader needs to tell why.
 */
export async function waitFor<T>(what: string, probe: () => Promise<Probe<T>>, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const last = await probe();
    if (last.done) return last.value;
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${timeoutMs / 1000} s waiting for ${what}; last seen: ${JSON.stringify(last.seen)}`);
    }
    await sleep(250);
  }
}

/** A Kubernetes Status as the API sends it with an error. */
export interface ApiStatus {
  kind?: string;
  apiVersion?: string;
  status?: string;
  message?: string;
  reason?: string;
  code?: number;
  details?: { name?: string; kind?: string; group?: string; causes?: { reason?: string; message?: string; field?: string }[] };
}

export interface ApiFailure {
  code: number;
  status: ApiStatus;
}

/** Awaits a client-node call that must fail, and returns the HTTP code and the Status body. */
export async function apiFailure(call: Promise<unknown>): Promise<ApiFailure> {
  try {
    await call;
  } catch (error) {
    if (error instanceof ApiException) return { code: error.code, status: parseStatus(error.body) };
    throw error;
  }
  throw new Error('expected the API server to refuse this request, but it succeeded');
}

function parseStatus(body: unknown): ApiStatus {
  if (typeof body !== 'string') return (body ?? {}) as ApiStatus;
  try {
    return JSON.parse(body) as ApiStatus;
  } catch {
    return { message: body };
  }
}

/** Runs a call whose 404 means "already gone", which cleanup treats as success. */
export async function ignoreNotFound(call: Promise<unknown>): Promise<void> {
  try {
    await call;
  } catch (error) {
    if (error instanceof ApiException && error.code === 404) return;
    throw error;
  }
}
