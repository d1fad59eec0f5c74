/**
 * `backfill.run`: the engine's built-in runner of a backfill (a run is started by
 * src/ops/backfills.ts and stored through src/engine/backfillStore.ts). It works through the
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
import { defineJob, type BackfillContext, type JobContext, type JobDefinition, type RetryPolicy } from './defineJob.ts';
import { AbortedError, DeferError, NotProviderFaultError, PayloadError, describeError } from './errors.ts';
import type { AttemptOutcome } from './guards.ts';
import { effectiveRetry, backoffDelay } from './retry.ts';
import { BACKFILL_RUN_JOB, BackfillStore, type BackfillDoc } from './backfillStore.ts';
import type { Engine } from './engine.ts';

/** The runner's pacing. */
export interface BackfillRunOptions {
  /** Shortest deferral when a guard refuses a chunk, so a pause does not spin the runner (5 × GUARD_REFRESH_MS). */
  minDeferMs?: number;
  /** Work this long per attempt, then yield and continue in a fresh one (5 min). */
  sliceMs?: number;
}

const payload = z.object({ backfillId: z.string().min(1) });

/**
 * The runner job of `engine`'s backfills; the composition root adds it to the engine's jobs.
 *
 * @example engine.jobs.add(backfillRunJob(engine, { minDeferMs: 5 * config.GUARD_REFRESH_MS }));
 */
export function backfillRunJob(engine: Engine, opts: BackfillRunOptions = {}): JobDefinition<typeof payload> {
  const pacing = { minDeferMs: opts.minDeferMs ?? 5_000, sliceMs: opts.sliceMs ?? 5 * 60_000 };
  return defineJob({
    name: BACKFILL_RUN_JOB,
    description: 'Runs the chunks of a backfill from its checkpoint (see `backfill start`).',
    payload,
    retry: { maxAttempts: 10, backoffMs: 5_000 },
    timeoutMs: 30 * 60_000,
    handler: (ctx) => runBackfill(engine, ctx, pacing),
  });
}

/** Works through one backfill's chunks from its checkpoint; see the module comment. */
export async function runBackfill(engine: Engine, ctx: JobContext<{ backfillId: string }>, opts: { minDeferMs: number; sliceMs: number }): Promise<void> {
  const id = ctx.payload.backfillId;
  const store = new BackfillStore(engine.db);
  const run = await store.withChunks(id);
  if (!run) throw new PayloadError(`no backfill ${id}`);
  if (run.status === 'completed' || run.status === 'cancelled') return;
  const log = ctx.log.child({ backfillId: id, target: run.job });
  const fail = async (err: unknown) => {
    await store.finish(id, 'failed', describeError(err));
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
  // Retried from the DLQ: carry on from the checkpoint.
  if (run.status === 'failed') await store.resume(id);
  const runnerDef = engine.jobs.get(ctx.jobName) ?? def;
  const policy = effectiveRetry(runnerDef, {
    maxAttempts: engine.settings.config<number>(`${ctx.jobName}.max_attempts`),
    backoffMs: engine.settings.config<number>(`${ctx.jobName}.backoff_ms`),
  });
  const sliceEnd = Date.now() + opts.sliceMs;
  let progressed = false;

  for (let i = run.checkpoint; i < run.total; i++) {
    if (await store.cancelRequested(id)) {
      await store.finish(id, 'cancelled');
      log.info({ checkpoint: i }, 'backfill cancelled');
      ctx.count('cancelled');
      return;
    }
    if (ctx.signal.aborted) throw ctx.signal.reason;
    if (progressed && Date.now() >= sliceEnd) throw new DeferError(0, `time slice used up at chunk ${i}; continuing`);

    const gate = await engine.admit(def, `backfill:${id}:${i}`);
    if (!gate.ok) {
      const delayMs = Math.max(gate.delayMs, opts.minDeferMs);
      await store.waiting(id, gate.reason, new Date(Date.now() + delayMs));
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
      throw await chunkFailed(err, i, { run, store, ctx, policy, progressed, fail });
    }
    await gate.release(outcome);
    await store.chunkDone(id, i, counts);
    progressed = true;
    await ctx.progress(Math.floor(((i + 1) / run.total) * 100));
  }
  await store.finish(id, 'completed');
  log.info({ total: run.total }, 'backfill completed');
}

/** What to throw after chunk `i` failed: the error itself, or a deferral (see the module comment). */
async function chunkFailed(
  err: unknown,
  i: number,
  s: { run: BackfillDoc; store: BackfillStore; ctx: JobContext<unknown>; policy: RetryPolicy; progressed: boolean; fail: (e: unknown) => Promise<void> },
): Promise<unknown> {
  if (s.ctx.signal.aborted) return s.ctx.signal.reason;
  if (err instanceof DeferError || err instanceof AbortedError) return err;
  const message = describeError(err).message;
  await s.store.chunkFailed(s.run._id, i, message);
  if (err instanceof PayloadError || (!s.progressed && s.ctx.attempt >= s.policy.maxAttempts)) {
    await s.fail(err);
    return err;
  }
  if (s.progressed) return new DeferError(backoffDelay(1, s.policy), `chunk ${i} failed after progress (${message}); retrying`);
  return err;
}
