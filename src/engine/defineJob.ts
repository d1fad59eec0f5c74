/**
 * `defineJob`: how a team declares a job. One file per job in `jobs/`.
 *
 * @example
 * export default defineJob({
 *   name: 'feeds.sync',
 *   payload: z.object({ feedId: z.string() }),
 *   retry: { maxAttempts: 5, backoffMs: 2_000 },
 *   provider: 'feedly',
 *   async handler({ payload, count, signal }) { ... count('inserted', 3) },
 * });
 */
import type { Db } from 'mongodb';
import type { z } from 'zod';
import type { Logger } from '../log.ts';

export interface RetryPolicy {
  /** Attempts in one budget, the first included (1 = no retry). */
  maxAttempts: number;
  /** Delay before the first retry; each next one doubles (factor), with jitter. */
  backoffMs: number;
  factor: number;
  maxBackoffMs: number;
  /** 0..1: each delay is spread by ± this fraction. */
  jitter: number;
}

export const DEFAULT_RETRY: RetryPolicy = {
  maxAttempts: 5,
  backoffMs: 5_000,
  factor: 2,
  maxBackoffMs: 3_600_000,
  jitter: 0.2,
};

export interface JobContext<P> {
  payload: P;
  jobId: string;
  jobName: string;
  /** 1 for the first attempt of the current budget. */
  attempt: number;
  log: Logger;
  /** Aborted on timeout, on shutdown past the grace period, and when the job's lock is lost. */
  signal: AbortSignal;
  /** Adds n (default 1) to a named counter of this run (inserted, skipped, errors, ...). */
  count(name: string, n?: number): void;
  /** Records what a tool call did (tokens, latency, model ...), kept with the run. */
  telemetry(tool: string, data: Record<string, unknown>): void;
  /** Reports progress 0..100; persisted with the run. */
  progress(pct: number): Promise<void>;
  /** The Switchboard database, for handlers that keep their own collections. */
  db: Db;
}

export type Priority = 'lowest' | 'low' | 'normal' | 'high' | 'highest';

export interface JobDefinition<S extends z.ZodType = z.ZodType> {
  name: string;
  description?: string;
  payload: S;
  handler: (ctx: JobContext<z.output<S>>) => Promise<unknown>;
  retry?: Partial<RetryPolicy>;
  /** Attempts of this type running at once across all processes. */
  concurrency?: number;
  priority?: Priority;
  /** The external provider this job calls; its circuit breaker guards the job. */
  provider?: string;
  /** Attempts started per minute across all processes. */
  rateLimit?: { rpm: number };
  timeoutMs?: number;
  /** Recurring: a cron expression ("*\/5 * * * *") or an interval ("5 minutes"). */
  schedule?: string;
  /** Payload for the recurring run. */
  schedulePayload?: z.input<S>;
  /** Lets `backfill start` run this job over a range, in resumable chunks (see src/ops/backfills.ts and src/engine/backfillRunner.ts). */
  backfill?: BackfillSpec;
  /**
   * Payload fields shown masked, beyond those whose key names a secret (authorization, token,
   * password, api key, ...): dotted paths such as `headers.x-partner-sig` or `credentials` (see
   * maskSecrets in src/util/secrets.ts). Only views are masked; the handler gets the real values.
   */
  secretFields?: readonly string[];
}

/** What a backfill chunk gets: like a JobContext, with the run's parameters instead of a payload. */
export interface BackfillContext<P = Record<string, unknown>> {
  params: P;
  backfillId: string;
  /** 0-based position of the chunk in the plan. */
  index: number;
  log: Logger;
  /** Aborted on shutdown, when the runner's lock is lost, and on its timeout. */
  signal: AbortSignal;
  count(name: string, n?: number): void;
  telemetry(tool: string, data: Record<string, unknown>): void;
  db: Db;
}

/**
 * A job's backfill: `params` validates `--days`/`--limit`/the JSON payload, `plan` turns them into
 * JSON chunk descriptors (stored with the run, so a resumed run does the same chunks), `runChunk`
 * does one. A chunk may run twice (a crash mid-chunk): make it idempotent (upserts, unique ids).
 */
export interface BackfillSpec<P extends z.ZodType = z.ZodType, C = unknown> {
  params: P;
  plan(params: z.output<P>): C[] | Promise<C[]>;
  runChunk(chunk: C, ctx: BackfillContext<z.output<P>>): Promise<unknown>;
}

/** Declares a backfill with its types inferred (identity function). */
export function defineBackfill<P extends z.ZodType, C>(spec: BackfillSpec<P, C>): BackfillSpec<P, C> {
  return spec;
}

const NAME = /^[a-z][a-z0-9_-]*(\.[a-z0-9_-]+)*$/;

/** Validates and freezes a job definition. */
export function defineJob<S extends z.ZodType>(def: JobDefinition<S>): JobDefinition<S> {
  if (!NAME.test(def.name)) {
    throw new Error(`job name "${def.name}" must be lower-case words joined by dots, like "feeds.sync"`);
  }
  const positive = (v: number | undefined, what: string) => {
    if (v !== undefined && (!Number.isFinite(v) || v <= 0)) throw new Error(`job ${def.name}: ${what} must be > 0`);
  };
  positive(def.concurrency, 'concurrency');
  positive(def.timeoutMs, 'timeoutMs');
  positive(def.rateLimit?.rpm, 'rateLimit.rpm');
  positive(def.retry?.maxAttempts, 'retry.maxAttempts');
  if (def.secretFields?.some((p) => typeof p !== 'string' || p.split('.').some((seg) => seg === ''))) {
    throw new Error(`job ${def.name}: secretFields are dotted paths like "headers.x-partner-sig"`);
  }
  if (def.backfill && (typeof def.backfill.plan !== 'function' || typeof def.backfill.runChunk !== 'function')) {
    throw new Error(`job ${def.name}: backfill needs plan() and runChunk()`);
  }
  return Object.freeze({ ...def });
}

/** The set of jobs a process knows; a second job with the same name is an error. */
export class JobRegistry {
  private readonly defs = new Map<string, JobDefinition>();

  constructor(defs: Iterable<JobDefinition> = []) {
    for (const def of defs) this.add(def);
  }

  add(def: JobDefinition): void {
    if (this.defs.has(def.name)) throw new Error(`job "${def.name}" is defined twice`);
    this.defs.set(def.name, def);
  }

  get(name: string): JobDefinition | undefined {
    return this.defs.get(name);
  }

  names(): string[] {
    return [...this.defs.keys()].sort();
  }

  list(): JobDefinition[] {
    return this.names().map((n) => this.defs.get(n)!);
  }
}
