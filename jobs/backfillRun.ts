/**
 * `backfill.run`: the built-in runner of a backfill (src/engine/backfill.ts). It works through the
 * run's chunks in order, from the checkpoint:
 * - before each chunk: stop if a cancel was asked (status `cancelled`); pass the job's guards
 *   with `engine.admit` (kill switch, pause, breaker, rate limit, concurrency) — a refusal defers
 *   the runner (DeferError: no attempt spent; the checkpoint is already saved);
 * - after each chunk: save the checkpoint (only if nobody moved it meanwhile).
 * A chunk failure fails the attempt (retried with backoff, `backfill.run.max_attempts`), unless
 * this attempt already completed chunks: then it is deferred by the backoff without spending an
 * attempt, so a long run is not failed by a few failures far apart. Once the budget is used up
 * the run is `failed` and the runner goes to the DLQ; `dlq retry` resumes it from the checkpoint.
 * Every `sliceMs` the runner yields (defers itself by 0 ms) so that no attempt nears its timeout.
 */
import { z } from 'zod';
import { defineJob, type BackfillContext, type JobContext, type JobDefinition, type RetryPolicy } from '../src/engine/defineJob.ts';
import { AbortedError, DeferError, NotProviderFaultError, PayloadError, describeError } from '../src/engine/errors.ts';
import type { AttemptOutcome } from '../src/engine/guards.ts';
import { effectiveRetry, backoffDelay } from '../src/engine/retry.ts';
import { BACKFILL_RUN_JOB, backfillsCollection, cancelRequested, type BackfillDoc, type EngineRef } from '../src/engine/backfill.ts';
import type { Engine } from '../src/engine/engine.ts';

/** How the runner reaches the engine, and its pacing. */
export interface BackfillRunOptions {
  engineRef: EngineRef;
  /** Shortest deferral when a guard refuses a chunk, so a pause does not spin the runner (5 × GUARD_REFRESH_MS). */
  minDeferMs?: number;
  /** Work this long per attempt, then yield and continue in a fresh one (5 min). */
  sliceMs?: number;
}

const payload = z.object({ backfillId: z.string().min(1) });

/** The runner job; `engineRef.engine` must be set before it runs. */
export function backfillRunJob(opts: BackfillRunOptions): JobDefinition<typeof payload> {
  return defineJob({
    name: BACKFILL_RUN_JOB,
    description: 'Runs the chunks of a backfill from its checkpoint (see `backfill start`).',
    payload,
    retry: { maxAttempts: 10, backoffMs: 5_000 },
    timeoutMs: 30 * 60_000,
    async handler(ctx) {
      const engine = opts.engineRef.engine;
      if (!engine) throw new Error('backfill.run: the engine is not wired (engineRef)');
      await runBackfill(engine, ctx, { minDeferMs: opts.minDeferMs ?? 5_000, sliceMs: opts.sliceMs ?? 5 * 60_000 });
    },
  });
}

/** Works through one backfill's chunks from its checkpoint; see the module comment. */
export async function runBackfill(engine: Engine, ctx: JobContext<{ backfillId: string }>, opts: { minDeferMs: number; sliceMs: number }): Promise<void> {
  const id = ctx.payload.backfillId;
  const col = backfillsCollection(engine.db);
  const run = await col.findOne({ _id: id });
  if (!run) throw new PayloadError(`no backfill ${id}`);
  if (run.status === 'completed' || run.status === 'cancelled') return;
  const log = ctx.log.child({ backfillId: id, target: run.job });
  const fail = async (err: unknown) => {
    await col.updateOne({ _id: id }, { $set: { status: 'failed', error: describeError(err), updatedAt: new Date(), finishedAt: new Date() } });
    log.warn({ err: describeError(err) }, 'backfill failed');
  };
  const def = engine.jobs.get(run.job);
  const spec = def?.backfill;
  if (!def || !spec) {
    const err = new PayloadError(`job ${run.job} has no backfill in this process`);
    await fail(err);
    throw err;
  }
  const parsed = spec.params.safeParse(run.params);
  if (!parsed.success) {
    const err = new PayloadError(`the stored parameters no longer fit ${run.job}: ${parsed.error.issues[0]?.message}`);
    await fail(err);
    throw err;
  }
  if (run.status === 'failed') {
    // Retried from the DLQ: carry on from the checkpoint.
    await col.updateOne({ _id: id }, { $set: { status: 'running', updatedAt: new Date() }, $unset: { error: '', finishedAt: '' } });
  }
  const runnerDef = engine.jobs.get(ctx.jobName) ?? def;
  const policy = effectiveRetry(runnerDef, {
    maxAttempts: engine.settings.config<number>(`${ctx.jobName}.max_attempts`),
    backoffMs: engine.settings.config<number>(`${ctx.jobName}.backoff_ms`),
  });
  const sliceEnd = Date.now() + opts.sliceMs;
  let progressed = false;

  for (let i = run.checkpoint; i < run.total; i++) {
    if (await cancelRequested(engine.db, id)) {
      await col.updateOne({ _id: id }, { $set: { status: 'cancelled', updatedAt: new Date(), finishedAt: new Date() }, $unset: { waiting: '' } });
      log.info({ checkpoint: i }, 'backfill cancelled');
      ctx.count('cancelled');
      return;
    }
    if (ctx.signal.aborted) throw ctx.signal.reason;
    if (progressed && Date.now() >= sliceEnd) throw new DeferError(0, `time slice used up at chunk ${i}; continuing`);

    const gate = await engine.admit(def, `backfill:${id}:${i}`);
    if (!gate.ok) {
      const delayMs = Math.max(gate.delayMs, opts.minDeferMs);
      await col.updateOne({ _id: id }, { $set: { waiting: { reason: gate.reason, until: new Date(Date.now() + delayMs) }, updatedAt: new Date() } });
      throw new DeferError(delayMs, `chunk ${i}: ${gate.reason}`);
    }
    const counts: Record<string, number> = {};
    const chunkCtx: BackfillContext = {
      params: parsed.data as Record<string, unknown>,
      backfillId: id,
      index: i,
      log: log.child({ chunk: i }),
      signal: ctx.signal,
      db: engine.db,
      telemetry: ctx.telemetry,
      count(name, n = 1) {
        ctx.count(name, n);
        const key = name.replace(/[.$]/g, '_');
        counts[key] = (counts[key] ?? 0) + n;
      },
    };
    let outcome: AttemptOutcome = { ok: true, providerFault: false, void: false };
    try {
      await spec.runChunk(run.chunks[i], chunkCtx);
    } catch (err) {
      const voided = err instanceof DeferError || err instanceof AbortedError || ctx.signal.aborted;
      outcome = { ok: false, providerFault: !voided && !(err instanceof PayloadError || err instanceof NotProviderFaultError), void: voided };
      await gate.release(outcome);
      throw await chunkFailed(err, i, { run, ctx, policy, progressed, fail });
    }
    await gate.release(outcome);
    const inc = Object.fromEntries(Object.entries(counts).map(([k, v]) => [`counts.${k}`, v]));
    // Only from the checkpoint we started at: a runner that lost its lock must not move it back.
    await col.updateOne(
      { _id: id, checkpoint: i },
      { $set: { checkpoint: i + 1, done: i + 1, updatedAt: new Date() }, $unset: { waiting: '', lastError: '' }, ...(Object.keys(inc).length ? { $inc: inc } : {}) },
    );
    progressed = true;
    await ctx.progress(Math.floor(((i + 1) / run.total) * 100));
  }
  await col.updateOne({ _id: id }, { $set: { status: 'completed', updatedAt: new Date(), finishedAt: new Date() } });
  log.info({ total: run.total }, 'backfill completed');
}

/** What to throw after chunk `i` failed: the error itself, or a deferral (see the module comment). */
async function chunkFailed(
  err: unknown,
  i: number,
  s: { run: BackfillDoc; ctx: JobContext<unknown>; policy: RetryPolicy; progressed: boolean; fail: (e: unknown) => Promise<void> },
): Promise<unknown> {
  if (s.ctx.signal.aborted) return s.ctx.signal.reason;
  if (err instanceof DeferError || err instanceof AbortedError) return err;
  const col = backfillsCollection(s.ctx.db);
  const message = describeError(err).message;
  await col.updateOne({ _id: s.run._id }, { $set: { lastError: { chunk: i, message, at: new Date() }, updatedAt: new Date() } });
  if (err instanceof PayloadError || (!s.progressed && s.ctx.attempt >= s.policy.maxAttempts)) {
    await s.fail(err);
    return err;
  }
  if (s.progressed) return new DeferError(backoffDelay(1, s.policy), `chunk ${i} failed after progress (${message}); retrying`);
  return err;
}
