/** Event-driven waiting for tests: re-check a condition whenever a recorder emits, never sleep. */
import { EventEmitter } from 'node:events';

/** Options for {@link waitFor}. */
export interface WaitForOptions {
  /** Give up after this long (default 10 000 ms). */
  timeoutMs?: number;
  /** Re-check whenever this emitter fires `event`. */
  signal?: EventEmitter;
  /** Event name on `signal` (default 'change'). */
  event?: string;
  /** Described in the timeout error, e.g. "chat.postMessage call". */
  what?: string;
  /** Safety-net re-check period (default 25 ms). */
  intervalMs?: number;
}

/** Resolves with the first non-`undefined`/`false`/`null` result of `check`; rejects after the timeout naming `what`. */
export function waitFor<T>(check: () => T | undefined | null | false, opts: WaitForOptions = {}): Promise<T> {
  const { timeoutMs = 10_000, signal, event = 'change', what = 'condition', intervalMs = 25 } = opts;
  return new Promise<T>((resolve, reject) => {
    let done = false;
    const finish = (fn: () => void): void => {
      if (done) return;
      done = true;
      clearInterval(interval);
      clearTimeout(timer);
      signal?.off(event, attempt);
      fn();
    };
    const attempt = (): void => {
      if (done) return;
      try {
        const value = check();
        if (value !== undefined && value !== null && value !== false) finish(() => resolve(value));
      } catch (err) {
        finish(() => reject(err));
      }
    };
    const interval = setInterval(attempt, intervalMs);
    const timer = setTimeout(
      () => finish(() => reject(new Error(`waitFor: timed out after ${timeoutMs} ms waiting for ${what}`))),
      timeoutMs,
    );
    signal?.on(event, attempt);
    attempt();
  });
}

/** An append-only log that emits 'change' on every record, so tests can await entries. */
export class Recorder<T> extends EventEmitter {
  /** Everything recorded so far, oldest first. */
  readonly items: T[] = [];

  constructor() {
    super();
    this.setMaxListeners(0);
  }

  /** Appends an item and wakes waiters. */
  record(item: T): T {
    this.items.push(item);
    this.emit('change', item);
    return item;
  }

  /** Forgets everything recorded so far. */
  clear(): void {
    this.items.length = 0;
    this.emit('change');
  }

  /** Resolves with the first (oldest) item matching `predicate`, waiting for it if needed. */
  waitFor(predicate: (item: T) => boolean, what: string, timeoutMs?: number): Promise<T> {
    return waitFor(() => this.items.find(predicate), { signal: this, what, timeoutMs });
  }
}
