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
import type { SwitchboardCollections, JobRunDoc, DeadLetterDoc } from '../db/collections.ts';
import type { Logger } from '../log.ts';
import type { JobDefinition, JobContext } from './defineJob.ts';
import { AbortedError, DeferError, NotProviderFaultError, PayloadError, TimeoutError, describeError } from './errors.ts';
import { passGuards, type AttemptOutcome, type Guard } from './guards.ts';
import { finishRun, startRun, writeDeadLetter } from './records.ts';
import { backoffDelay, effectiveRetry } from './retry.ts';
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

interface InFlight {
  controller: AbortController;
  done: Promise<void>;
}

/** Runs attempts and keeps track of those in flight, for shutdown. */
export class AttemptRunner {
  readonly inFlight = new Set<InFlight>();
  private readonly deps: AttemptDeps;

  constructor(deps: AttemptDeps) {
    this.deps = deps;
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
      let finish!: () => void;
      const entry: InFlight = { controller, done: new Promise<void>((r) => (finish = r)) };
      this.inFlight.add(entry);
      const writeJob = serialized();
      // From the start: the lock was taken before Agenda got round to running the job.
      const stopLock = this.renewLock(job, controller, writeJob);
      let failure: { error: unknown } | undefined;
      try {
        failure = await this.attempt(def, job, controller, writeJob);
      } catch (err) {
        // Our own pipeline failed (database unreachable, ...): keep the job, try again soon.
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
  private async attempt(def: JobDefinition, job: Job, controller: AbortController, writeJob: JobWrites): Promise<{ error: unknown } | undefined> {
    const { cols, settings, events } = this.deps;
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

    // The attempt starts when the guards admit it: rate limits count from this moment.
    const startedAt = new Date();
    const state = await writeJob(() =>
      cols.agendaJobs.findOneAndUpdate({ _id: new ObjectId(jobId) }, { $inc: { 'sb.attempts': 1 } }, { returnDocument: 'after' }),
    );
    const attempt = state?.sb?.attempts ?? 1;
    const generation = state?.sb?.generation ?? 0;
    const policy = effectiveRetry(def, {
      maxAttempts: settings.config<number>(`${def.name}.max_attempts`),
      backoffMs: settings.config<number>(`${def.name}.backoff_ms`),
    });
    const timeoutMs = def.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    const runId = await startRun(cols, { jobId, jobName: def.name, attempt, worker: this.deps.worker, timeoutMs, startedAt });
    const counts: Record<string, number> = {};
    const telemetry: JobRunDoc['telemetry'] = [];
    const timer = setTimeout(() => controller.abort(new TimeoutError(timeoutMs)), timeoutMs);

    let outcome: AttemptOutcome = { ok: true, providerFault: false, void: false };
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
      await raceAbort(def.handler(ctx), controller.signal);
      await finishRun(cols, runId, { outcome: 'success', startedAt, counts, telemetry }).then((run) => events.emit('run', run));
      await this.settleSuccess(jobId, nextTick !== null, writeJob);
      log.info({ attempt, durationMs: Date.now() - startedAt.getTime(), counts }, 'job succeeded');
    } catch (err) {
      const error = describeError(err);
      if (err instanceof AbortedError || err instanceof DeferError) {
        outcome = { ok: false, providerFault: false, void: true };
        await writeJob(() => cols.agendaJobs.updateOne({ _id: new ObjectId(jobId) }, { $inc: { 'sb.attempts': -1 } }));
        await finishRun(cols, runId, { outcome: 'aborted', startedAt, counts, telemetry, error });
        this.defer(job, err instanceof DeferError ? err.delayMs : 0);
        log.warn({ attempt, reason: error.message }, 'attempt did not count');
        return undefined;
      }
      const providerFault = !(err instanceof PayloadError || err instanceof NotProviderFaultError);
      outcome = { ok: false, providerFault, void: false };
      const exhausted = err instanceof PayloadError || attempt >= policy.maxAttempts;
      const run = await finishRun(cols, runId, { outcome: exhausted ? 'dead' : 'failed', startedAt, counts, telemetry, error });
      events.emit('run', run);
      if (exhausted) {
        await this.deadLetter(job, def, { jobId, generation, attempt, error, payloadInvalid: err instanceof PayloadError }, writeJob);
        job.attrs.nextRunAt = nextTick;
      } else {
        job.attrs.nextRunAt = new Date(Date.now() + backoffDelay(attempt, policy));
      }
      log.warn({ attempt, maxAttempts: policy.maxAttempts, err: error, retryAt: exhausted ? null : job.attrs.nextRunAt }, exhausted ? 'job dead-lettered' : 'job failed, retry scheduled');
      return { error: err };
    } finally {
      clearTimeout(timer);
      await gate.release(outcome);
    }
  }

  private async settleSuccess(jobId: string, recurring: boolean, writeJob: JobWrites): Promise<void> {
    const { cols } = this.deps;
    await cols.deadLetters.updateMany({ $or: [{ jobId }, { retryJobId: jobId }], status: 'retry_scheduled' }, { $set: { status: 'retried', actedAt: new Date() } });
    if (recurring) {
      await writeJob(() => cols.agendaJobs.updateOne({ _id: new ObjectId(jobId) }, { $set: { 'sb.attempts': 0 }, $unset: { 'sb.firstFailedAt': '' } }));
    }
  }

  private async deadLetter(
    job: Job,
    def: JobDefinition,
    a: { jobId: string; generation: number; attempt: number; error: DeadLetterDoc['error']; payloadInvalid: boolean },
    writeJob: JobWrites,
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
      await writeJob(() => cols.agendaJobs.updateOne({ _id: new ObjectId(a.jobId) }, { $set: { 'sb.attempts': 0, 'sb.generation': a.generation + 1 } }));
    }
    if (created) events.emit('dead-letter', doc);
  }

  /**
   * Renews the lock now and while the attempt runs; aborts the attempt if another worker took the
   * job. The returned stop waits for a renewal in flight: landing after Agenda's final save, it
   * would lock the finished job again (and on FerretDB v1 write back the whole running-state
   * document), so another worker would run it again once that lock expired.
   */
  private renewLock(job: Job, controller: AbortController, writeJob: JobWrites): () => Promise<void> {
    const { cols } = this.deps;
    const every = Math.max(250, Math.floor(this.deps.lockLifetimeMs / 3));
    const renew = async () => {
      let now = new Date();
      try {
        // Another worker that retook the job has started a run of its own: a newer lastRunAt.
        const res = await writeJob(() => {
          now = new Date();
          return cols.agendaJobs.updateOne({ _id: new ObjectId(String(job.attrs._id)), lastRunAt: job.attrs.lastRunAt }, { $set: { lockedAt: now } });
        });
        if (res.matchedCount === 1) job.attrs.lockedAt = now;
        else controller.abort(new AbortedError('lock_lost'));
      } catch (err) {
        this.deps.log.warn({ err, jobId: String(job.attrs._id) }, 'lock renewal failed; will retry');
      }
    };
    // One renewal at a time, so stopping has a single write to wait for.
    let inFlight: Promise<void> | undefined;
    const tick = () => {
      inFlight ??= renew().finally(() => (inFlight = undefined));
    };
    tick();
    const timer = setInterval(tick, every);
    timer.unref();
    return async () => {
      clearInterval(timer);
      await inFlight;
    };
  }
}

/** Runs one attempt's writes to its job document one at a time. */
type JobWrites = <T>(write: () => Promise<T>) => Promise<T>;

/**
 * FerretDB v1 applies an update by writing the whole document it read back, so two updates of one
 * job in flight at once (a lock renewal and the attempt counter) can lose one of them.
 */
function serialized(): JobWrites {
  let tail: Promise<unknown> = Promise.resolve();
  return (write) => {
    const next = tail.then(write, write);
    tail = next.catch(() => {});
    return next;
  };
}

/** Settles with the promise, or rejects with the signal's reason as soon as it aborts. */
function raceAbort<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (v) => {
        signal.removeEventListener('abort', onAbort);
        resolve(v);
      },
      (e) => {
        signal.removeEventListener('abort', onAbort);
        reject(e);
      },
    );
  });
}
