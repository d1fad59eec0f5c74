/**
 * Backfills: a job that declares `backfill` (defineJob.ts) can be run over a range in chunks.
 * `start` validates the parameters with the job's schema, stores the plan (the chunk descriptors)
 * in `backfills` and enqueues the runner job `backfill.run`, which works through the chunks in
 * order and saves a checkpoint after each (see runBackfill). A crashed or restarted runner is
 * retaken when its lock expires and resumes from the checkpoint: at most the chunk in flight runs
 * again. Cancelling is a unique insert into `backfillCancels` (atomic on FerretDB v1 too), which
 * the runner checks between chunks; only the runner writes progress, so no two writers race.
 */
import { ObjectId, type Collection, type Db } from 'mongodb';
import { type IndexPlan, type Actor, type ErrorInfo } from '../db/collections.ts';
import { OpsError, UsageError } from '../errors.ts';
import type { Engine } from './engine.ts';
import { insertOnce } from '../db/insertOnce.ts';

/** The runner job's name. */
export const BACKFILL_RUN_JOB = 'backfill.run';
/** Plans longer than this are refused (the plan is stored in one document). */
export const MAX_CHUNKS = 10_000;

/** Where a run is: `running` until its last chunk, a cancel, or its runner's last attempt. */
export type BackfillStatus = 'running' | 'completed' | 'cancelled' | 'failed';

/** One backfill run, written by `start` and then only by its runner (and `cancel` of a failed run). */
export interface BackfillDoc {
  _id: string;
  job: string;
  params: Record<string, unknown>;
  chunks: unknown[];
  total: number;
  /** Index of the next chunk to run; every chunk before it is done. */
  checkpoint: number;
  /** Chunks done (equal to checkpoint: chunks run in order). */
  done: number;
  status: BackfillStatus;
  startedAt: Date;
  updatedAt: Date;
  finishedAt?: Date;
  by: Actor;
  error?: ErrorInfo;
  /** The last chunk failure (cleared by the next chunk done). */
  lastError?: { chunk: number; message: string; at: Date };
  /** Why the runner is waiting (a guard refused the next chunk), and until when. */
  waiting?: { reason: string; until: Date };
  /** What the chunks counted (ctx.count), summed; a re-run chunk counts twice. */
  counts?: Record<string, number>;
}

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

/** How the runner job reaches the engine: filled in by createApp once the engine is built. */
export interface EngineRef {
  engine?: Engine;
}

/** The indexes of the collections this module owns (collected by src/app/schema.ts). */
export const backfillIndexes: IndexPlan = {
  backfills: [
    { key: { startedAt: -1 }, name: 'startedAt' },
    { key: { job: 1, status: 1 }, name: 'job_status' },
  ],
};

/** The `backfills` collection. */
export const backfillsCollection = (db: Db): Collection<BackfillDoc> => db.collection<BackfillDoc>('backfills');
/** Cancel requests: one document per run, `_id` = the run's id. */
export const cancelsCollection = (db: Db): Collection<{ _id: string; at: Date; by: Actor }> => db.collection('backfillCancels');

/** True once `backfill cancel` was asked for this run. */
export async function cancelRequested(db: Db, id: string): Promise<boolean> {
  return (await cancelsCollection(db).findOne({ _id: id })) !== null;
}

/** Chunks per minute between `startedAt` and `until`. */
export function chunkRate(done: number, startedAt: Date, until: Date): number {
  const minutes = Math.max(until.getTime() - startedAt.getTime(), 1000) / 60_000;
  return Math.round((done / minutes) * 10) / 10;
}

function view(d: BackfillDoc, cancel: boolean): BackfillView {
  return {
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
}

/** The operations on backfills that commands call. */
export class Backfills {
  private readonly engine: Engine;
  private readonly col: Collection<BackfillDoc>;

  constructor(engine: Engine) {
    this.engine = engine;
    this.col = backfillsCollection(engine.db);
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
    const running = await this.col.find({ job: name, status: 'running' }, { projection: { chunks: 0 } }).toArray();
    const dup = running.find((r) => JSON.stringify(r.params) === same);
    if (dup) throw new OpsError('conflict', `A backfill of ${name} with these parameters is already running as ${dup._id}; \`backfill status ${dup._id}\`.`);
    const now = new Date();
    const doc: BackfillDoc = { _id: new ObjectId().toHexString(), job: name, params, chunks, total: chunks.length, checkpoint: 0, done: 0, status: 'running', startedAt: now, updatedAt: now, by, counts: {} };
    await this.col.insertOne(doc);
    await this.engine.enqueue(BACKFILL_RUN_JOB, { backfillId: doc._id }, { enqueuedBy: `${by.platform}:${by.id}` });
    return view(doc, false);
  }

  /** One run's progress. */
  async get(id: string): Promise<BackfillView> {
    const d = await this.col.findOne({ _id: id }, { projection: { chunks: 0 } });
    if (!d) throw new OpsError('not_found', `No backfill ${id}; \`backfill status\` lists the recent ones.`);
    return view(d, await cancelRequested(this.engine.db, id));
  }

  /** The most recent runs, newest first. */
  async list(limit = 10): Promise<BackfillView[]> {
    const docs = await this.col.find({}, { projection: { chunks: 0 } }).sort({ startedAt: -1 }).limit(limit).toArray();
    const ids = docs.map((d) => d._id);
    const cancels = new Set((await cancelsCollection(this.engine.db).find({ _id: { $in: ids } }).toArray()).map((c) => c._id));
    return docs.map((d) => view(d, cancels.has(d._id)));
  }

  /** Asks the runner to stop after its current chunk; a failed run is cancelled at once. */
  async cancel(id: string, by: Actor): Promise<BackfillView & { changed: boolean }> {
    const d = await this.col.findOne({ _id: id }, { projection: { chunks: 0 } });
    if (!d) throw new OpsError('not_found', `No backfill ${id}; \`backfill status\` lists the recent ones.`);
    if (d.status === 'completed' || d.status === 'cancelled') throw new OpsError('conflict', `Backfill ${id} is already ${d.status}.`);
    const changed = await insertOnce(cancelsCollection(this.engine.db), { _id: id, at: new Date(), by });
    // No runner is working on a failed run (one retried from the DLQ sees the request first).
    if (d.status === 'failed') {
      await this.col.updateOne({ _id: id }, { $set: { status: 'cancelled', updatedAt: new Date(), finishedAt: new Date() } });
    }
    return { ...(await this.get(id)), changed };
  }
}
