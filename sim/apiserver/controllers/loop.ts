// The controller loop: controllers map store changes to keys, keys wait in per-controller sets,
// and a pass runs on the next turn of the event loop (so a write's response goes out before the
// controllers react, as with a real controller manager). Timers re-queue keys for time-based work.
import type { ObjectApi } from '../objects.ts';
import type { ChangeEvent, Store } from '../store.ts';

export interface Delays {
  /** how long a bound pod on a Ready node takes to become Running and Ready */
  podStartMs: number;
  /** cap on how long a deleted bound pod stays Terminating (default: its whole grace period) */
  podStopMs?: number;
  /** how long a started pod stays Running but not Ready (its readiness probe's delay); default 0 */
  podReadyMs?: number;
}

export interface Controller {
  name: string;
  /** Called synchronously for every store change: enqueue the keys this change concerns. */
  watch(event: ChangeEvent, enqueue: (key: string) => void): void;
  reconcile(key: string): void;
}

export interface ControllerContext {
  api: ObjectApi;
  store: Store;
  delays: Delays;
  enqueue(controller: string, key: string): void;
  /** re-queues the key after ms */
  after(ms: number, controller: string, key: string): void;
  /** runs fn after ms (cancelled when the loop closes) */
  later(ms: number, fn: () => void): void;
  log(message: string): void;
}

export class ControllerLoop {
  private readonly controllers = new Map<string, Controller>();
  private readonly queues = new Map<string, Set<string>>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private scheduled: NodeJS.Immediate | undefined;
  private unsubscribe: (() => void) | undefined;
  private closed = false;
  readonly context: ControllerContext;

  constructor(api: ObjectApi, delays: Delays, log: (message: string) => void) {
    this.context = {
      api,
      store: api.store,
      delays,
      enqueue: (controller, key) => this.enqueue(controller, key),
      after: (ms, controller, key) => this.after(ms, controller, key),
      later: (ms, fn) => this.later(ms, fn),
      log,
    };
  }

  add(controller: Controller): void {
    this.controllers.set(controller.name, controller);
    this.queues.set(controller.name, new Set());
  }

  start(): void {
    this.unsubscribe = this.context.store.onChange((event) => {
      for (const c of this.controllers.values()) c.watch(event, (key) => this.enqueue(c.name, key));
    });
  }

  enqueue(controller: string, key: string): void {
    if (this.closed) return;
    this.queues.get(controller)?.add(key);
    this.scheduled ??= setImmediate(() => this.pass());
  }

  after(ms: number, controller: string, key: string): void {
    this.later(ms, () => this.enqueue(controller, key));
  }

  later(ms: number, fn: () => void): void {
    if (this.closed) return;
    const timer = setTimeout(
      () => {
        this.timers.delete(timer);
        fn();
      },
      Math.max(0, ms),
    );
    this.timers.add(timer);
  }

  private pass(): void {
    this.scheduled = undefined;
    for (const [name, queue] of this.queues) {
      if (queue.size === 0) continue;
      const keys = [...queue];
      queue.clear();
      const controller = this.controllers.get(name)!;
      for (const key of keys) {
        try {
          controller.reconcile(key);
        } catch (error) {
          this.context.log(`controller ${name}: ${key}: ${(error as Error).stack ?? error}`);
        }
      }
    }
  }

  close(): void {
    this.closed = true;
    this.unsubscribe?.();
    if (this.scheduled) clearImmediate(this.scheduled);
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
  }
}
