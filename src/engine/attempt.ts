/**
 * One attempt of one job: guards → payload → handler → outcome. This is the function Agenda
 * calls for every job; Agenda only finds, locks and saves jobs.
 *
 * How outcomes map onto Agenda: a deferral or success returns (Agenda saves our `nextRunAt`);
 * a failure throws (Agenda records failCount/failReason) after we set `nextRunAt` to the retry
 * time, or to null (or the next tick of a recurring job) once the DLQ entry is written.
 */
import type { Job } from 'agenda';
import type { Db } from 'mongodb';
import { ObjectId } from 'mongodb';
import type { EventEmitter } from 'node:events';
import type { AgendaJobDoc, SwitchboardCollections, JobRunDoc, DeadLetterDoc, WithBookkeeping } from '../db/collections.ts';
import type { Logger } from '../log.ts';
import type { JobDefinition, JobContext } from './defineJob.ts';
import { AbortedError, DeferError, NotProviderFaultError, PayloadError, TimeoutError, describeError } from './errors.ts';
import { passGuards, type AttemptOutcome, type Guard } from './guards.ts';
import { closeRetried, finishRun, startRun, writeDeadLetter } from './records.ts';
import { backoffDelay, effectiveRetry } from './retry.ts';
import { untilWritten } from './untilWritten.ts';
import type { SettingsStore } from './settings.ts';

export const DEFAULT_TIMEOUT_MS = 10 * 60_000;
const PIPELINE_RETRY_MS = 5_000;

export interface AttemptDeps {
  db: Db;
  cols: SwitchboardCollections;
  settings: SettingsStore;
  guards: readonly Guard[];
  log: Logger;
  events: EventEmitter;
  worker: string;
  lockLifetimeMs: number;
}

interface AttemptSignals {
  /** Aborts the handler: timeout, shutdown, lock lost. */
  controller: AbortController;
  /** Aborted only when another worker took the job: recording stops being ours to do. */
  lockLost: AbortSignal;
}

interface InFlight {
  job: string;
  controller: AbortController;
  done: Promise<void>;
}

/** Runs attempts and keeps track of those in flight, for shutdown. */
export class AttemptRunner {
  readonly inFlight = new Set<InFlight>();
  /** When an attempt last started here (epoch ms; 0 = never): the watchdog reads it. */
  lastStartAt = 0;
  private readonly deps: AttemptDeps;

  constructor(deps: AttemptDeps) {
    this.deps = deps;
  }

  /** Attempts of one job type running here. */
  running(job: string): number {
    let n = 0;
    for (const f of this.inFlight) if (f.job === job) n++;
    return n;
  }

  /** Aborts every running attempt (shutdown past the grace period) and waits up to `waitMs`. */
  async abortAll(waitMs: number): Promise<void> {
    for (const f of this.inFlight) f.controller.abort(new AbortedError('shutdown'));
    const all = Promise.all([...this.inFlight].map((f) => f.done));
    await Promise.race([all, new Promise((r) => setTimeout(r, waitMs).unref())]);
  }

  /** The Agenda processor for one definition. */
  processor(def: JobDefinition): (job: Job) => Promise<void> {
    return async (job) => {
      const controller = new AbortController();
      const lock = new AbortController();
      let finish!: () => void;
      const entry: InFlight = { job: def.name, controller, done: new Promise<void>((r) => (finish = r)) };
      this.inFlight.add(entry);
      this.lastStartAt = Date.now();
      // Agenda got the job without lockedAt (see backend.ts); from here on its in-memory lock
      // time says "still ours", kept fresh by renewLock, so only our renewal judges the lock.
      job.attrs.lockedAt = new Date();
      const stopLock = this.renewLock(job, { handler: controller, lock });
      let failure: { error: unknown } | undefined;
      try {
        failure = await this.attempt(def, job, { controller, lockLost: lock.signal });
      } catch (err) {
        // Our own pipeline failed (database unreachable before the handler ran, the lock lost
        // while recording, ...): keep the job, try again soon.
        this.deps.log.error({ err, jobId: String(job.attrs._id), job: def.name }, 'attempt pipeline failed; job deferred');
        this.defer(job, PIPELINE_RETRY_MS);
      } finally {
        await stopLock();
        this.inFlight.delete(entry);
        finish();
      }
      // Agenda records a thrown error as the job's failure (failCount, failReason, failedAt).
      if (failure) throw failure.error;
    };
  }

  private defer(job: Job, delayMs: number): void {
    job.attrs.nextRunAt = new Date(Date.now() + delayMs);
  }

  /** Returns the handler's error when the attempt failed; throws only when the pipeline itself fails. */
  private async attempt(def: JobDefinition, job: Job, signals: AttemptSignals): Promise<{ error: unknown } | undefined> {
    const { cols, settings, events } = this.deps;
    const { controller } = signals;
    const jobId = String(job.attrs._id);
    const nextTick = job.attrs.repeatInterval || job.attrs.repeatAt ? job.attrs.nextRunAt : null;
    const log = this.deps.log.child({ jobId, job: def.name });

    const gate = await passGuards(this.deps.guards, { def, jobId });
    if (!gate.ok) {
      log.debug({ reason: gate.reason, delayMs: gate.delayMs }, 'attempt deferred');
      events.emit('deferred', { jobId, jobName: def.name, reason: gate.reason, guard: gate.guard });
      this.defer(job, gate.delayMs);
      return undefined;
    }
    // The guards hear the outcome in memory as soon as the handler settles (a breaker counts a
    // failure before another attempt can pass it), and give back what they granted once the
    // outcome is recorded, exactly once.
    let outcome: AttemptOutcome = { ok: false, providerFault: false, void: true };
    const settle = (o: AttemptOutcome) => {
      outcome = o;
      gate.note(o);
    };

    // Everything after the handler ran is written through `record`: retried while the database
    // is away, so a finished attempt is not run again merely because its outcome was not saved.
    // Retried until it lands, unless the lock is lost: then another worker owns the job, and its
    // run is the one that counts.
    const record = <T>(write: () => Promise<T>) =>
      untilWritten(write, {
        log,
        failed: 'recording the outcome failed; retrying while the job is still ours',
        landed: 'outcome recorded after the database came back',
        giveUp: () => signals.lockLost.aborted,
      });
    try {
      // The attempt starts when the guards admit it: rate limits count from this moment.
      const startedAt = new Date();
      // The run's start counted this attempt in the job document (backend.ts); the final save
      // writes `sb` back as decided here.
      const sb = (((job.attrs as WithBookkeeping).sb ??= {}) as NonNullable<AgendaJobDoc['sb']>);
      const generation = sb.generation ?? 0;
      const policy = effectiveRetry(def, {
        maxAttempts: settings.config<number>(`${def.name}.max_attempts`),
        backoffMs: settings.config<number>(`${def.name}.backoff_ms`),
      });
      let attempt = (sb.attempts ?? 0) + 1;
      if (attempt > policy.maxAttempts) attempt = await this.attemptsReallyStarted(jobId, generation, attempt);
      sb.attempts = attempt;
      events.emit('attempt', { jobId, jobName: def.name, attempt, startedAt });
      const timeoutMs = def.timeoutMs ?? DEFAULT_TIMEOUT_MS;
      const runId = await startRun(cols, { jobId, jobName: def.name, attempt, generation, worker: this.deps.worker, timeoutMs, startedAt });
      const counts: Record<string, number> = {};
      const telemetry: JobRunDoc['telemetry'] = [];

      let error: unknown;
      let ok = false;
      const timer = setTimeout(() => controller.abort(new TimeoutError(timeoutMs)), timeoutMs);
      try {
        if (attempt > policy.maxAttempts) {
          // A retaken job whose last attempt died before its DLQ entry was written.
          throw new Error(`attempt ${attempt} exceeds the budget of ${policy.maxAttempts}; the previous worker died`);
        }
        const parsed = def.payload.safeParse(job.attrs.data);
        if (!parsed.success) {
          throw new PayloadError(`invalid payload: ${parsed.error.issues.map((i) => `${i.path.join('.') || 'payload'}: ${i.message}`).join('; ')}`);
        }
        const ctx: JobContext<unknown> = {
          payload: parsed.data,
          jobId,
          jobName: def.name,
          attempt,
          log,
          signal: controller.signal,
          db: this.deps.db,
          count: (name, n = 1) => {
            counts[name] = (counts[name] ?? 0) + n;
          },
          telemetry: (tool, data) => {
            telemetry.push({ tool, at: new Date(), data });
          },
          progress: async (pct) => {
            await cols.jobRuns.updateOne({ _id: runId }, { $set: { progress: Math.max(0, Math.min(100, pct)) } });
          },
        };
        await raceAbort(Promise.resolve().then(() => def.handler(ctx)), controller.signal);
        ok = true;
      } catch (err) {
        error = err;
      } finally {
        clearTimeout(timer);
      }

      if (ok) {
        settle({ ok: true, providerFault: false, void: false });
        const run = await record(() => finishRun(cols, runId, { outcome: 'success', startedAt, counts, telemetry }));
        events.emit('run', run);
        await record(() => this.settleSuccess(job, nextTick !== null));
        log.info({ attempt, durationMs: Date.now() - startedAt.getTime(), counts }, 'job succeeded');
        return undefined;
      }
      const info = describeError(error);
      if (error instanceof AbortedError || error instanceof DeferError) {
        settle({ ok: false, providerFault: false, void: true });
        sb.attempts = attempt - 1;
        events.emit('run', await record(() => finishRun(cols, runId, { outcome: 'aborted', startedAt, counts, telemetry, error: info })));
        this.defer(job, error instanceof DeferError ? error.delayMs : 0);
        log.warn({ attempt, reason: info.message }, 'attempt did not count');
        return undefined;
      }
      const providerFault = !(error instanceof PayloadError || error instanceof NotProviderFaultError);
      settle({ ok: false, providerFault, void: false });
      const exhausted = error instanceof PayloadError || attempt >= policy.maxAttempts;
      const run = await record(() => finishRun(cols, runId, { outcome: exhausted ? 'dead' : 'failed', startedAt, counts, telemetry, error: info }));
      events.emit('run', run);
      if (exhausted) {
        await record(() => this.deadLetter(job, def, { jobId, generation, attempt, error: info, payloadInvalid: error instanceof PayloadError }));
        job.attrs.nextRunAt = nextTick;
      } else {
        job.attrs.nextRunAt = new Date(Date.now() + backoffDelay(attempt, policy));
      }
      log.warn({ attempt, maxAttempts: policy.maxAttempts, err: info, retryAt: exhausted ? null : job.attrs.nextRunAt }, exhausted ? 'job dead-lettered' : 'job failed, retry scheduled');
      return { error };
    } finally {
      // Unsettled: the pipeline failed before the handler did, so the attempt did not happen.
      await gate.release(outcome).catch((err: unknown) => log.warn({ err }, 'giving back what the guards granted failed'));
    }
  }

  /**
   * Over budget by the count in the job document: a worker that died spent the attempts it had
   * counted, whether or not they started (one killed while the job was locked, before the
   * handler, spent one too). The run records of this budget tell which really started; this
   * attempt is the next of those. Rare (a retaken job), so the query is affordable.
   */
  private async attemptsReallyStarted(jobId: string, generation: number, counted: number): Promise<number> {
    const started = await this.deps.cols.jobRuns.countDocuments({ jobId, generation, outcome: { $ne: 'aborted' } });
    return Math.min(counted, started + 1);
  }

  /** After a success: a retried dead letter is `retried`; a recurring job starts a fresh budget. */
  private async settleSuccess(job: Job, recurring: boolean): Promise<void> {
    const { cols } = this.deps;
    const jobId = String(job.attrs._id);
    const retriedFrom = (job.attrs as WithBookkeeping).sb?.retriedFrom;
    if (retriedFrom) {
      await closeRetried(cols, jobId, new Date());
    }
    if (recurring) {
      // Written with the run's final save.
      const sb = (job.attrs as WithBookkeeping).sb;
      if (sb) {
        sb.attempts = 0;
        delete sb.retriedFrom;
      }
    }
  }

  private async deadLetter(
    job: Job,
    def: JobDefinition,
    a: { jobId: string; generation: number; attempt: number; error: DeadLetterDoc['error']; payloadInvalid: boolean },
  ): Promise<void> {
    const { cols, events } = this.deps;
    // The budget's first attempt is the latest run numbered 1 of this job.
    const first = await cols.jobRuns.findOne({ jobId: a.jobId, attempt: 1 }, { sort: { startedAt: -1 } });
    const { doc, created } = await writeDeadLetter(cols, {
      jobId: a.jobId,
      generation: a.generation,
      jobName: def.name,
      payload: job.attrs.data,
      error: a.error,
      attempts: a.attempt,
      reason: a.payloadInvalid ? 'invalid_payload' : 'retries_exhausted',
      firstFailedAt: first?.finishedAt ?? first?.startedAt ?? new Date(),
    });
    // A recurring job starts its next tick with a fresh budget and a new generation.
    if (job.attrs.repeatInterval || job.attrs.repeatAt) {
      // Written with the run's final save.
      const sb = ((job.attrs as WithBookkeeping).sb ??= {});
      sb.attempts = 0;
      sb.generation = a.generation + 1;
    }
    if (created) events.emit('dead-letter', doc);
  }

  /**
   * Renews the lock while the attempt runs (and while its outcome is recorded); aborts
   * the attempt if another worker took the job. A renewal that fails (the database is away) does
   * not mean the lock is lost: nobody can take the job while nobody reaches the database, so the
   * in-memory lock time stays fresh and the attempt goes on. The returned stop waits for a
   * renewal in flight: landing after Agenda's final save, it would lock the finished job again.
   */
  private renewLock(job: Job, abort: { handler: AbortController; lock: AbortController }): () => Promise<void> {
    const { cols } = this.deps;
    const every = Math.max(250, Math.floor(this.deps.lockLifetimeMs / 3));
    const renew = async () => {
      try {
        // Another worker that retook the job has started a run of its own: a newer lastRunAt.
        const res = await cols.agendaJobs.updateOne({ _id: new ObjectId(String(job.attrs._id)), lastRunAt: job.attrs.lastRunAt }, { $set: { lockedAt: new Date() } });
        if (res.matchedCount === 1) {
          job.attrs.lockedAt = new Date();
          return;
        }
        const lost = new AbortedError('lock_lost');
        abort.lock.abort(lost);
        abort.handler.abort(lost);
      } catch (err) {
        job.attrs.lockedAt = new Date();
        this.deps.log.warn({ err, jobId: String(job.attrs._id) }, 'lock renewal failed; will retry');
      }
    };
    // One renewal at a time, so stopping has a single write to wait for.
    let inFlight: Promise<void> | undefined;
    const tick = () => {
      inFlight ??= renew().finally(() => (inFlight = undefined));
    };
    // No renewal now: the run's start (backend.ts) wrote a fresh lock a moment ago.
    const timer = setInterval(tick, every);
    timer.unref();
    return async () => {
      clearInterval(timer);
      await inFlight;
    };
  }
}

/**
 * Settles with the promise, or rejects with the signal's reason as soon as it aborts. The
 * promise is always observed: a handler that rejects after the race was lost (it saw the abort
 * and threw) must not become an unhandled rejection, which would end the process.
 */
export function raceAbort<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    promise.then(
      (v) => {
        signal.removeEventListener('abort', onAbort);
        resolve(v);
      },
      (e: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(e);
      },
    );
    if (signal.aborted) onAbort();
    else signal.addEventListener('abort', onAbort, { once: true });
  });
}
