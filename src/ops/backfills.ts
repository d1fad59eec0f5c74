/**
 * Backfills, as operators start, watch and cancel them (`ops.backfills`). A job that declares
 * `backfill` (defineJob.ts) can be run over a range in chunks: `start` validates the parameters
 * with the job's schema, stores the plan (the chunk descriptors) and enqueues the engine's runner
 * job `backfill.run` (src/engine/backfillRunner.ts), which works through the chunks in order and
 * saves a checkpoint after each. A crashed or restarted runner is retaken when its lock expires
 * and resumes from the checkpoint: at most the chunk in flight runs again. Every write goes
 * through src/engine/backfillStore.ts. What this returns is a view, with secrets masked (the
 * error and waiting reason are free text from the job and its provider; the parameters follow
 * the key rules and the job's secretFields).
 */
import { ObjectId } from 'mongodb';
import type { Actor, IndexPlan } from '../db/collections.ts';
import { OpsError, UsageError } from '../errors.ts';
import type { Engine } from '../engine/engine.ts';
import { BACKFILL_RUN_JOB, BackfillStore, type BackfillDoc, type BackfillStatus, type BackfillSummary } from '../engine/backfillStore.ts';
import { maskSecrets } from '../util/secrets.ts';

/** Plans longer than this are refused (the plan is stored in one document). */
export const MAX_CHUNKS = 10_000;

/** What `backfill start|status|cancel` answer with. */
export interface BackfillView {
  id: string;
  job: string;
  status: BackfillStatus;
  done: number;
  total: number;
  checkpoint: number;
  /** Chunks per minute since the start (until the end for a finished run). */
  rate: number;
  params: Record<string, unknown>;
  startedAt: Date;
  updatedAt: Date;
  finishedAt: Date | null;
  by: string;
  cancelRequested: boolean;
  waiting: string | null;
  error: string | null;
  counts: Record<string, number>;
}

/** The indexes of the collections behind backfills (collected by src/app/schema.ts). */
export const backfillIndexes: IndexPlan = {
  backfills: [
    { key: { startedAt: -1 }, name: 'startedAt' },
    { key: { job: 1, status: 1 }, name: 'job_status' },
  ],
};

/** Chunks per minute between `startedAt` and `until`. */
export function chunkRate(done: number, startedAt: Date, until: Date): number {
  const minutes = Math.max(until.getTime() - startedAt.getTime(), 1000) / 60_000;
  return Math.round((done / minutes) * 10) / 10;
}

/** The operations on backfills that commands call. */
export class Backfills {
  private readonly engine: Engine;
  private readonly store: BackfillStore;

  constructor(engine: Engine) {
    this.engine = engine;
    this.store = new BackfillStore(engine.db);
  }

  /** Validates the parameters, plans the chunks, stores the run and enqueues its runner. */
  async start(name: string, input: Record<string, unknown>, by: Actor): Promise<BackfillView> {
    const def = this.engine.jobs.get(name);
    const able = this.engine.jobs.list().filter((d) => d.backfill).map((d) => d.name);
    if (!def) throw new UsageError(`Unknown job \`${name}\`. Jobs with a backfill: ${able.join(', ') || 'none'}.`);
    if (!def.backfill) throw new UsageError(`\`${name}\` has no backfill. Jobs with one: ${able.join(', ') || 'none'}.`);
    const parsed = def.backfill.params.safeParse(input);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      const key = String(issue?.path[0] ?? '');
      const where = key === 'days' || key === 'limit' ? `--${key}` : key || 'parameters';
      throw new UsageError(`${where}: ${issue?.message ?? 'invalid'}.`);
    }
    const params = parsed.data as Record<string, unknown>;
    let chunks: unknown[];
    try {
      // Stored as JSON, so a resumed run sees exactly what the first one saw.
      chunks = JSON.parse(JSON.stringify(await def.backfill.plan(params))) as unknown[];
    } catch (err) {
      throw new UsageError(`Cannot plan the backfill of \`${name}\`: ${err instanceof Error ? err.message : String(err)}`);
    }
    if (!Array.isArray(chunks) || chunks.length === 0) throw new UsageError(`The plan of \`${name}\` has no chunks; nothing to backfill.`);
    if (chunks.length > MAX_CHUNKS) throw new UsageError(`The plan has ${chunks.length} chunks; at most ${MAX_CHUNKS}. Use a smaller range.`);
    const same = JSON.stringify(params);
    const dup = (await this.store.running(name)).find((r) => JSON.stringify(r.params) === same);
    if (dup) throw new OpsError('conflict', `A backfill of ${name} with these parameters is already running as ${dup._id}; \`backfill status ${dup._id}\`.`);
    const now = new Date();
    const doc: BackfillDoc = { _id: new ObjectId().toHexString(), job: name, params, chunks, total: chunks.length, checkpoint: 0, done: 0, status: 'running', startedAt: now, updatedAt: now, by, counts: {} };
    await this.store.create(doc);
    await this.engine.enqueue(BACKFILL_RUN_JOB, { backfillId: doc._id }, { enqueuedBy: `${by.platform}:${by.id}` });
    return this.view(doc, false);
  }

  /** One run's progress. */
  async get(id: string): Promise<BackfillView> {
    return this.view(await this.found(id), await this.store.cancelRequested(id));
  }

  /** The most recent runs, newest first. */
  async list(limit = 10): Promise<BackfillView[]> {
    const docs = await this.store.recent(limit);
    const cancels = await this.store.cancelsAmong(docs.map((d) => d._id));
    return docs.map((d) => this.view(d, cancels.has(d._id)));
  }

  /** Asks the runner to stop after its current chunk; a failed run is cancelled at once. */
  async cancel(id: string, by: Actor): Promise<BackfillView & { changed: boolean }> {
    const d = await this.found(id);
    if (d.status === 'completed' || d.status === 'cancelled') throw new OpsError('conflict', `Backfill ${id} is already ${d.status}.`);
    const changed = await this.store.requestCancel(id, by);
    // No runner is working on a failed run (one retried from the DLQ sees the request first).
    if (d.status === 'failed') await this.store.finish(id, 'cancelled');
    return { ...(await this.get(id)), changed };
  }

  private async found(id: string): Promise<BackfillSummary> {
    const d = await this.store.summary(id);
    if (!d) throw new OpsError('not_found', `No backfill ${id}; \`backfill status\` lists the recent ones.`);
    return d;
  }

  private view(d: BackfillSummary, cancel: boolean): BackfillView {
    const v: BackfillView = {
      id: d._id,
      job: d.job,
      status: d.status,
      done: d.done,
      total: d.total,
      checkpoint: d.checkpoint,
      rate: chunkRate(d.done, d.startedAt, d.finishedAt ?? new Date()),
      params: d.params,
      startedAt: d.startedAt,
      updatedAt: d.updatedAt,
      finishedAt: d.finishedAt ?? null,
      by: d.by.name,
      cancelRequested: cancel,
      waiting: d.status === 'running' && d.waiting && d.waiting.until.getTime() > Date.now() ? d.waiting.reason : null,
      error: d.error?.message ?? (d.status === 'running' ? (d.lastError?.message ?? null) : null),
      counts: d.counts ?? {},
    };
    return maskSecrets(v, { secretPaths: (this.engine.jobs.get(d.job)?.secretFields ?? []).map((p) => `params.${p}`) });
  }
}
