/**
 * Per-minute statistics per job type (`runRollups`), so `status` and the alert rules read a few
 * documents instead of scanning `jobRuns` (kept for drill-down by job id). Each process writes its
 * own documents, `_id` = `job|minute|worker`: it counts the engine's events in memory and writes
 * the totals with `$set`, so a write repeated after an error is harmless, FerretDB's
 * read-then-write-back updates have one writer per document, and no `$max` is needed.
 * An outcome counts in the minute this process learned it (the run's end), so only the current
 * minute is ever written; the minute that just ended is written once more when it ends.
 * Reading them, and folding old minutes into hours: rollupStore.ts.
 */
import type { EventEmitter } from 'node:events';
import type { Db } from 'mongodb';
import { collections, type IndexPlan, type JobRunDoc, type SwitchboardCollections } from '../db/collections.ts';
import type { Logger } from '../log.ts';
import { maskText } from '../util/secrets.ts';
import { retention, type RetentionRule } from '../db/retention.ts';

export interface RunRollupDoc extends RollupCounts {
  /** `job|minute|worker`, the minute as `2026-12-01T02:20`. */
  _id: string;
  job: string;
  /** The minute's start. */
  minute: Date;
  worker: string;
  lastErrorClass: string | null;
  /** The last failure's message, masked (src/util/secrets.ts) and cut to 500 characters. */
  lastError: string | null;
  /** When the minute's last success finished. */
  lastOkAt: Date | null;
  /** The minute's failures (failed, dead) by distinct error, masked: the first few distinct ones. */
  errors: ErrorSample[];
  updatedAt: Date;
}

/** A distinct error of a minute's failures and how often it happened (triage reads these). */
export interface ErrorSample {
  class: string;
  code?: string;
  message: string;
  n: number;
}

/** What a rollup counts; sums across workers and minutes have the same shape. */
export interface RollupCounts {
  /** Attempts the guards admitted. */
  started: number;
  ok: number;
  failed: number;
  dead: number;
  aborted: number;
  /** Attempts a guard held back. */
  deferred: number;
  /** Over every finished attempt (ok, failed, dead, aborted). */
  durationSum: number;
  durationMax: number;
  /**
   * Finished attempts by duration, one count per bucket of DURATION_BOUNDS_MS (the last bucket
   * is open-ended): enough for a percentile within a bucket. Absent on documents written before.
   */
  durationHist?: number[];
}

/** Upper bounds (ms) of the duration buckets, a 1-2-5 series from 10 ms to 10 min; one more bucket above. */
export const DURATION_BOUNDS_MS: readonly number[] = [10, 20, 50, 100, 200, 500, 1_000, 2_000, 5_000, 10_000, 20_000, 60_000, 120_000, 300_000, 600_000];

/** The bucket of a duration. */
export function durationBucket(ms: number): number {
  const i = DURATION_BOUNDS_MS.findIndex((b) => ms < b);
  return i === -1 ? DURATION_BOUNDS_MS.length : i;
}

/**
 * The `q` quantile (0–1) of a duration histogram, interpolated within its bucket (the open last
 * bucket answers with its lower bound, or `max` when known); null without any count.
 */
export function durationQuantile(hist: readonly number[] | undefined, q: number, max?: number): number | null {
  const total = (hist ?? []).reduce((a, b) => a + b, 0);
  if (!hist || total === 0) return null;
  const rank = q * total;
  let seen = 0;
  for (let i = 0; i < hist.length; i++) {
    if (hist[i] === 0) continue;
    if (seen + hist[i] >= rank) {
      const lower = i === 0 ? 0 : DURATION_BOUNDS_MS[i - 1];
      const upper = DURATION_BOUNDS_MS[i] ?? max ?? lower;
      const at = lower + ((rank - seen) / hist[i]) * (upper - lower);
      return Math.round(max === undefined ? at : Math.min(at, max));
    }
    seen += hist[i];
  }
  return max ?? null;
}

/** The indexes of the collections this module owns (collected by src/app/schema.ts). */
export const rollupIndexes: IndexPlan = {
  runRollups: [
    { key: { minute: 1 }, name: 'minute' },
    { key: { job: 1, minute: -1 }, name: 'job_minute' },
  ],
};

/** Minute rollups of times before the run retention go (`maintenance.cleanup`; most are folded into hours long before). */
export const rollupRetention: RetentionRule = retention('runRollups', (c) => ({ minute: { $lt: c.runsBefore } }));

const MINUTE = 60_000;
const ERROR_MAX = 500;
/** Distinct errors kept per rollup document; more are counted in `failed`/`dead` only. */
const ERROR_SAMPLES = 5;

/** The start of the minute holding `t`. */
export function minuteOf(t: Date | number): Date {
  const ms = typeof t === 'number' ? t : t.getTime();
  return new Date(ms - (((ms % MINUTE) + MINUTE) % MINUTE));
}

/** The `_id` of one worker's rollup of one job type and minute. */
export function rollupId(job: string, minute: Date, worker: string): string {
  return `${job}|${minute.toISOString().slice(0, 16)}|${worker}`;
}

export const emptyCounts = (): RollupCounts => ({
  started: 0,
  ok: 0,
  failed: 0,
  dead: 0,
  aborted: 0,
  deferred: 0,
  durationSum: 0,
  durationMax: 0,
  durationHist: DURATION_BOUNDS_MS.map(() => 0).concat(0),
});

/** Adds `b` into `a` (sums, the larger maximum, the histograms bucket by bucket). */
export function addCounts(a: RollupCounts, b: Partial<RollupCounts>): RollupCounts {
  for (const k of ['started', 'ok', 'failed', 'dead', 'aborted', 'deferred', 'durationSum'] as const) a[k] += Number(b[k] ?? 0);
  a.durationMax = Math.max(a.durationMax, Number(b.durationMax ?? 0));
  if (b.durationHist) {
    const hist = (a.durationHist ??= emptyCounts().durationHist!);
    b.durationHist.forEach((n, i) => (hist[i] = (hist[i] ?? 0) + Number(n ?? 0)));
  }
  return a;
}

export interface RollupsOptions {
  db: Db;
  /** This process's worker name (WORKER_NAME): part of every `_id` it writes. */
  worker: string;
  /** The engine: 'attempt', 'run' and 'deferred' events. */
  events: EventEmitter;
  log: Logger;
  /** How often dirty rollups are written (5 s); also at every minute's end and on stop. */
  flushEveryMs?: number;
  /** Test seam: the clock. */
  now?: () => number;
}

interface Open {
  doc: Omit<RunRollupDoc, 'updatedAt'>;
  /** Changes counted / written. */
  version: number;
  written: number;
  /** Of the minute this writer started in: a predecessor with the same worker name may have written it. */
  merge: boolean;
}

/** Counts the engine's events per job type and minute and writes them to `runRollups`. */
export class Rollups {
  private readonly cols: SwitchboardCollections;
  private readonly opts: RollupsOptions;
  private readonly now: () => number;
  private readonly open = new Map<string, Open>();
  private readonly listeners: Array<[string, (...args: any[]) => void]>;
  private startMinute = 0;
  private running = false;
  private timer: NodeJS.Timeout | undefined;
  private tail: Promise<void> = Promise.resolve();
  private failing = false;

  constructor(opts: RollupsOptions) {
    this.opts = opts;
    this.cols = collections(opts.db);
    this.now = opts.now ?? Date.now;
    this.listeners = [
      ['attempt', (e: { jobName: string }) => this.count(e.jobName, (d) => d.started++)],
      ['deferred', (e: { jobName: string }) => this.count(e.jobName, (d) => d.deferred++)],
      ['run', (r: JobRunDoc | null) => r && this.countRun(r)],
    ];
  }

  /** Listens to the engine; from its first event on, writes every few seconds until `stop()`. */
  start(): void {
    if (this.running) return;
    this.running = true;
    this.startMinute = minuteOf(this.now()).getTime();
    for (const [event, fn] of this.listeners) this.opts.events.on(event, fn);
  }

  /** Stops listening and writes what was counted; never rejects (a failed write is logged). */
  async stop(): Promise<void> {
    if (!this.running) return;
    this.running = false;
    clearTimeout(this.timer);
    this.timer = undefined;
    for (const [event, fn] of this.listeners) this.opts.events.off(event, fn);
    await this.flush();
  }

  /** Writes every rollup counted since its last write; one flush at a time. */
  flush(): Promise<void> {
    const next = this.tail.then(() => this.write());
    this.tail = next;
    return next;
  }

  private schedule(): void {
    const t = this.now();
    const toMinuteEnd = MINUTE - (t - minuteOf(t).getTime()) + 50;
    this.timer = setTimeout(() => {
      void this.flush().finally(() => this.running && this.schedule());
    }, Math.min(this.opts.flushEveryMs ?? 5_000, toMinuteEnd));
    this.timer.unref();
  }

  private countRun(r: JobRunDoc): void {
    if (r.outcome !== 'running') this.count(r.jobName, (d) => addRun(d, r, new Date(this.now())));
  }

  private count(job: string, change: (d: Open['doc']) => void): void {
    const minute = minuteOf(this.now());
    const _id = rollupId(job, minute, this.opts.worker);
    let o = this.open.get(_id);
    if (!o) {
      o = { doc: newRollup(job, minute, this.opts.worker), version: 0, written: 0, merge: minute.getTime() === this.startMinute };
      this.open.set(_id, o);
    }
    change(o.doc);
    o.version++;
    if (this.running && !this.timer) this.schedule();
  }

  private async write(): Promise<void> {
    try {
      for (const o of this.open.values()) {
        if (o.version === o.written) continue;
        if (o.merge) await this.mergePredecessor(o);
        const version = o.version;
        const { _id, ...fields } = o.doc;
        await this.cols.runRollups.updateOne({ _id }, { $set: { ...fields, updatedAt: new Date(this.now()) } }, { upsert: true });
        o.written = version;
      }
      if (this.failing) this.opts.log.info('rollups written again');
      this.failing = false;
    } catch (err) {
      if (!this.failing) this.opts.log.warn({ err }, 'writing rollups failed; keeping the counts for the next try');
      this.failing = true;
    }
    // A finished minute, once written, is never written again.
    const current = minuteOf(this.now()).getTime();
    for (const [id, o] of this.open) if (o.doc.minute.getTime() < current && o.version === o.written) this.open.delete(id);
  }

  /** A process that restarted within a minute under the same worker name continues its totals. */
  private async mergePredecessor(o: Open): Promise<void> {
    const prev = await this.cols.runRollups.findOne({ _id: o.doc._id });
    o.merge = false;
    if (!prev) return;
    addCounts(o.doc, prev);
    o.doc.lastErrorClass ??= prev.lastErrorClass;
    o.doc.lastError ??= prev.lastError;
    o.doc.lastOkAt ??= prev.lastOkAt;
    for (const e of prev.errors ?? []) addSample(o.doc.errors, e);
  }
}

/** An empty rollup of one job type, minute and worker. */
export function newRollup(job: string, minute: Date, worker: string): Omit<RunRollupDoc, 'updatedAt'> {
  return { _id: rollupId(job, minute, worker), job, minute, worker, ...emptyCounts(), lastErrorClass: null, lastError: null, lastOkAt: null, errors: [] };
}

/** Counts a finished attempt into a rollup (`at`: when it is counted, if the run does not say when it finished). */
export function addRun(d: Omit<RunRollupDoc, 'updatedAt'>, r: Pick<JobRunDoc, 'outcome' | 'durationMs' | 'error' | 'finishedAt'>, at: Date): void {
  if (r.outcome === 'running') return;
  d[r.outcome === 'success' ? 'ok' : r.outcome]++;
  if (r.outcome === 'success') d.lastOkAt = r.finishedAt ?? at;
  if (typeof r.durationMs === 'number') {
    d.durationSum += r.durationMs;
    d.durationMax = Math.max(d.durationMax, r.durationMs);
    const hist = (d.durationHist ??= emptyCounts().durationHist!);
    hist[durationBucket(r.durationMs)]++;
  }
  if ((r.outcome === 'failed' || r.outcome === 'dead') && r.error) {
    d.lastErrorClass = r.error.class;
    d.lastError = maskText(String(r.error.message ?? '')).slice(0, ERROR_MAX);
    addSample(d.errors, { class: r.error.class, ...(r.error.code ? { code: r.error.code } : {}), message: d.lastError, n: 1 });
  }
}

/** Counts `e` into `samples`: with its equal, or as a new one while there is room. */
export function addSample(samples: ErrorSample[], e: ErrorSample): void {
  const same = samples.find((s) => s.class === e.class && s.code === e.code && s.message === e.message);
  if (same) same.n += e.n;
  else if (samples.length < ERROR_SAMPLES) samples.push({ ...e });
}
