/**
 * Real `serve` processes for the fault suite (test/faults/) and bench/faults.ts: started with
 * short fault timings, their JSON logs collected, killed, stopped, probed over HTTP. No vitest
 * here: the bench uses it too. The jobs they run and the provider they call: ./workload.ts.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { envSchema } from '../../src/config.ts';
import { Recorder, waitFor } from '../support/waitFor.ts';

const CLI = fileURLToPath(new URL('../../src/cli.ts', import.meta.url));

/**
 * Short timings for workers under faults. A killed worker's jobs come back after the lock
 * lifetime, its slots after SLOT_LEASE_MS. 5 s (the runs) rather than less: on a loaded
 * 2-core machine FerretDB writes can take seconds, and a live worker must still renew in time.
 */
export const FAULT_ENV: Readonly<Record<string, string>> = {
  LOG_FORMAT: 'json',
  LOG_LEVEL: 'info',
  PORT: '0',
  HTTP_HOST: '127.0.0.1',
  ENGINE_PROCESS_EVERY_MS: '200',
  ENGINE_LOCK_LIFETIME_MS: '5000',
  GUARD_REFRESH_MS: '200',
  SHUTDOWN_GRACE_MS: '1000',
  SLOT_LEASE_MS: '5000',
  HTTP_INVOKE_ALLOWED_HOSTS: '127.0.0.1',
};

/** One JSON log line of a serve process (pino). */
export interface LogLine {
  level?: number;
  msg?: string;
  [key: string]: unknown;
}

export interface ServeOptions {
  /** WORKER_NAME of this incarnation. */
  name: string;
  /** MONGODB_URL with the database name. */
  mongoUrl: string;
  /** More variables (after FAULT_ENV); LOG_LEVEL must stay info or lower (the ready line is info). */
  env?: Record<string, string>;
  /** How long to wait for "Switchboard serving on" (default 60 s: a loaded 2-core machine). */
  startTimeoutMs?: number;
}

/** A running `node src/cli.ts serve`. */
export interface ServeProcess {
  name: string;
  child: ChildProcess;
  port: number;
  /** `http://127.0.0.1:<port>` */
  origin: string;
  /** Every JSON log line so far; await entries with `logs.waitFor`. */
  logs: Recorder<LogLine>;
  /** Resolves with how the process ended. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  alive(): boolean;
  /** The last 20 000 characters of stdout and stderr, for a failure message. */
  output(): string;
  /** SIGKILL, resolved once it is gone. */
  kill(): Promise<void>;
  /** SIGTERM, SIGKILL after `graceMs`; resolved once it is gone. Safe when already gone. */
  stop(graceMs?: number): Promise<void>;
}

/** The environment of a child: ours without any Switchboard variable, then `vars`. */
function childEnv(vars: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const key of Object.keys(envSchema.shape)) delete env[key];
  delete env.TEST_LOG;
  return { ...env, ...vars };
}

/** Starts `serve` (stdin not a terminal: no console) and resolves once it listens. */
export async function startServe(opts: ServeOptions): Promise<ServeProcess> {
  const child = spawn(process.execPath, [CLI, 'serve'], {
    env: childEnv({ ...FAULT_ENV, WORKER_NAME: opts.name, MONGODB_URL: opts.mongoUrl, ...opts.env }),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const logs = new Recorder<LogLine>();
  let text = '';
  const keep = (s: string) => (text = (text + s).slice(-20_000));
  let partial = '';
  child.stdout?.on('data', (b: Buffer) => {
    const s = b.toString();
    keep(s);
    const lines = (partial + s).split('\n');
    partial = lines.pop() ?? '';
    for (const line of lines) {
      if (!line.startsWith('{')) continue;
      try {
        logs.record(JSON.parse(line) as LogLine);
      } catch {
        // not a log line
      }
    }
  });
  child.stderr?.on('data', (b: Buffer) => keep(b.toString()));
  const exited = once(child, 'exit').then(([code, signal]) => ({ code: code as number | null, signal: signal as NodeJS.Signals | null }));
  const alive = () => child.exitCode === null && child.signalCode === null;
  const output = () => `--- ${opts.name} (pid ${child.pid}) ---\n${text}`;
  const signal = async (sig: NodeJS.Signals, forceAfterMs?: number) => {
    if (!alive()) return;
    child.kill(sig);
    const timer = forceAfterMs === undefined ? undefined : setTimeout(() => child.kill('SIGKILL'), forceAfterMs);
    await exited;
    clearTimeout(timer);
  };
  // Nothing outlives the test process, even when it is itself killed.
  const killOnExit = () => child.kill('SIGKILL');
  process.on('exit', killOnExit);
  void exited.then(() => process.off('exit', killOnExit));

  let ready: LogLine;
  try {
    ready = await waitFor(
      () => {
        if (!alive()) throw new Error(`serve exited (${child.exitCode ?? child.signalCode}) before serving`);
        return logs.items.find((l) => typeof l.msg === 'string' && l.msg.startsWith('Switchboard serving on'));
      },
      { signal: logs, timeoutMs: opts.startTimeoutMs ?? 60_000, what: `${opts.name} to serve`, intervalMs: 200 },
    );
  } catch (err) {
    await signal('SIGKILL');
    throw new Error(`${(err as Error).message}\n${output()}`);
  }
  const port = Number(ready.port);
  return {
    name: opts.name,
    child,
    port,
    origin: `http://127.0.0.1:${port}`,
    logs,
    exited,
    alive,
    output,
    kill: () => signal('SIGKILL'),
    stop: (graceMs = 10_000) => signal('SIGTERM', graceMs),
  };
}

/** How a process ended and its last error lines (or "alive"), for an assertion message. */
export function deathNote(p: ServeProcess): string {
  if (p.alive()) return 'alive';
  const last = p.output().split('\n').filter((l) => l.trim()).slice(-3).join('\n');
  return `exit code ${p.child.exitCode}, signal ${p.child.signalCode}; last output:\n${last.slice(-1500)}`;
}

/** Log lines at error level or above (pino: 50 error, 60 fatal). */
export function errorLines(p: ServeProcess): LogLine[] {
  return p.logs.items.filter((l) => (l.level ?? 0) >= 50);
}

/** One HTTP probe with a client timeout: status (0 when it timed out or failed) and how long it took. */
export async function probe(url: string, timeoutMs = 1000): Promise<{ status: number; ms: number; body: string }> {
  const t0 = performance.now();
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
    const body = await res.text();
    return { status: res.status, ms: performance.now() - t0, body };
  } catch (err) {
    return { status: 0, ms: performance.now() - t0, body: String((err as Error).message) };
  }
}

/**
 * Reads `read()` every `everyMs` until `done` holds or `timeoutMs` passed; returns the last value
 * either way, so the caller asserts on it (state that other processes change: no event to await).
 */
export async function pollUntil<T>(read: () => Promise<T>, done: (value: T) => boolean, timeoutMs: number, everyMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (done(value) || Date.now() >= deadline) return value;
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/** p-th percentile of numbers (nearest rank); 0 for none. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}
