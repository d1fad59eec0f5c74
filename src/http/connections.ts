/**
 * The state of this process's connection to an outside service (Slack, Telegram) as `/readyz`
 * and the metrics show it, and the start-up loop that keeps trying until it connects. A service
 * that is down at start-up must not stop `serve`: the engine runs meanwhile, and the adapter
 * joins when the service answers.
 */
import { redactText, type Logger } from '../log.ts';

export type ConnectionPhase = 'starting' | 'connected' | 'standby' | 'retrying' | 'stopped';

export interface ConnectionSnapshot {
  name: string;
  phase: ConnectionPhase;
  /** Connected, or on standby (another process holds the work, e.g. Telegram polling). */
  ready: boolean;
  /** Consecutive failures since the last success. */
  failures: number;
  lastError?: string;
  /** When the phase last changed. */
  since: Date;
}

/** One service's connection state; adapters update it, /readyz reads it. */
export class ConnectionStatus {
  readonly name: string;
  private phase: ConnectionPhase = 'starting';
  private failures = 0;
  private lastError: string | undefined;
  private since = new Date();

  constructor(name: string) {
    this.name = name;
  }

  connected(): void {
    this.failures = 0;
    this.lastError = undefined;
    this.move('connected');
  }

  /** Ready without connecting ourselves: another process does the work. */
  standby(): void {
    this.failures = 0;
    this.lastError = undefined;
    this.move('standby');
  }

  failed(err: unknown): void {
    this.failures++;
    this.lastError = errorText(err);
    this.move('retrying');
  }

  stopped(): void {
    this.move('stopped');
  }

  snapshot(): ConnectionSnapshot {
    const ready = this.phase === 'connected' || this.phase === 'standby';
    return { name: this.name, phase: this.phase, ready, failures: this.failures, since: this.since, ...(this.lastError ? { lastError: this.lastError } : {}) };
  }

  /** Why it is not ready, in one sentence; undefined when it is. */
  reason(): string | undefined {
    switch (this.phase) {
      case 'connected':
      case 'standby':
        return undefined;
      case 'starting':
        return `${this.name} is still connecting.`;
      case 'stopped':
        return `${this.name} is stopped.`;
      case 'retrying':
        return `${this.name} is not connected after ${this.failures} attempt${this.failures === 1 ? '' : 's'} (last error: ${this.lastError}); retrying.`;
    }
  }

  private move(phase: ConnectionPhase): void {
    if (phase !== this.phase) this.since = new Date();
    this.phase = phase;
  }
}

export interface KeepConnectingOptions {
  status: ConnectionStatus;
  log: Logger;
  /** What is tried, for the log: "connect to Slack". */
  what: string;
  /** One attempt; resolves once connected. */
  attempt: () => Promise<void>;
  /** First retry delay (default 1 s), doubled after each failure up to `maxBackoffMs` (60 s). */
  backoffMs?: number;
  maxBackoffMs?: number;
  /** After every failure (alerting decides what is worth telling). */
  onFailure?: (failures: number, since: Date, err: unknown) => void;
  /** Once connected; `failures` is how many attempts failed before. */
  onConnected?: (failures: number) => void;
}

export interface Connecting {
  /** Resolves when connected, or when stopped before that. */
  readonly done: Promise<void>;
  /** Stops retrying and waits for an attempt in progress. */
  stop(): Promise<void>;
}

/** Runs `attempt` in the background until it succeeds, with capped exponential backoff (±20 % jitter). */
export function keepConnecting(opts: KeepConnectingOptions): Connecting {
  const max = opts.maxBackoffMs ?? 60_000;
  let stopped = false;
  let wake: (() => void) | undefined;
  const nap = (ms: number) =>
    new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, ms);
      wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  const done = (async () => {
    let failures = 0;
    const since = new Date();
    while (!stopped) {
      try {
        await opts.attempt();
        if (stopped) return;
        opts.status.connected();
        if (failures > 0) opts.log.info({ failures }, `${opts.what}: succeeded after ${failures} failed attempt${failures === 1 ? '' : 's'}`);
        opts.onConnected?.(failures);
        return;
      } catch (err) {
        if (stopped) return;
        failures++;
        opts.status.failed(err);
        const delay = Math.min(max, (opts.backoffMs ?? 1000) * 2 ** Math.min(failures - 1, 16));
        opts.log.error({ err, failures, retryInMs: delay }, `could not ${opts.what}; retrying`);
        opts.onFailure?.(failures, since, err);
        await nap(delay * (0.8 + Math.random() * 0.4));
      }
    }
  })();
  return {
    done,
    async stop() {
      stopped = true;
      wake?.();
      await done;
    },
  };
}

/**
 * An error's message in one line without credentials (bot tokens in URLs included), for a reason
 * shown by /readyz. Causes are appended: SDKs wrap the useful part ("connect ECONNREFUSED …")
 * inside "fetch failed".
 */
export function errorText(err: unknown): string {
  const parts: string[] = [];
  let e: unknown = err;
  for (let depth = 0; e !== undefined && e !== null && depth < 5; depth++) {
    const msg = e instanceof Error ? e.message : String(e);
    if (msg && !parts.some((p) => p.includes(msg))) parts.push(msg);
    // Slack's WebAPIRequestError keeps it in `original`, grammY's HttpError in `error`.
    const next = e as { original?: unknown; error?: unknown; cause?: unknown };
    e = typeof e === 'object' ? (next.original ?? (next.error instanceof Error ? next.error : undefined) ?? next.cause) : undefined;
  }
  return redactText(parts.join(': ')).replace(/\s+/g, ' ').trim().slice(0, 300) || 'unknown error';
}
