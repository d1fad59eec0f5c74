/**
 * The stored state of backfills, and the one module that writes it: `backfills` (one document per
 * run: its plan, checkpoint, progress, status) and `backfillCancels` (one cancel request per run).
 * The operations service (src/ops/backfills.ts) creates runs and asks for cancels; the runner
 * (src/engine/backfillRunner.ts) moves the checkpoint and ends runs. Both go through here, so the
 * rules of who may change what stand in one place: after `create`, only the runner writes a
 * running run's progress, and a cancel is a unique insert (atomic on FerretDB v1 too) that the
 * runner checks between chunks.
 */
import type { Collection, Db } from 'mongodb';
import type { Actor, ErrorInfo } from '../db/collections.ts';
import { insertOnce } from '../db/insertOnce.ts';

/** The runner job's name. */
export const BACKFILL_RUN_JOB = 'backfill.run';

/** Where a run is: `running` until its last chunk, a cancel, or its runner's last attempt. */
export type BackfillStatus = 'running' | 'completed' | 'cancelled' | 'failed';

/** One backfill run, created by `backfill start` and then written by its runner (and the cancel of a failed run). */
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

/** A run without its plan (the chunks can be large). */
export type BackfillSummary = Omit<BackfillDoc, 'chunks'>;

/** The `backfills` collection. */
export const backfillsCollection = (db: Db): Collection<BackfillDoc> => db.collection<BackfillDoc>('backfills');
/** Cancel requests: one document per run, `_id` = the run's id. */
const cancelsCollection = (db: Db): Collection<{ _id: string; at: Date; by: Actor }> => db.collection('backfillCancels');

const NO_CHUNKS = { projection: { chunks: 0 } } as const;

/** Reads and writes of backfill runs. */
export class BackfillStore {
  private readonly db: Db;
  private readonly col: Collection<BackfillDoc>;

  constructor(db: Db) {
    this.db = db;
    this.col = backfillsCollection(db);
  }

  /** One run with its plan (the runner). */
  withChunks(id: string): Promise<BackfillDoc | null> {
    return this.col.findOne({ _id: id });
  }

  /** One run without its plan. */
  summary(id: string): Promise<BackfillSummary | null> {
    return this.col.findOne({ _id: id }, NO_CHUNKS);
  }

  /** The running runs of a job. */
  running(job: string): Promise<BackfillSummary[]> {
    return this.col.find({ job, status: 'running' }, NO_CHUNKS).toArray();
  }

  /** The most recent runs, newest first. */
  recent(limit: number): Promise<BackfillSummary[]> {
    return this.col.find({}, NO_CHUNKS).sort({ startedAt: -1 }).limit(limit).toArray();
  }

  /** True once a cancel was asked for this run. */
  async cancelRequested(id: string): Promise<boolean> {
    return (await cancelsCollection(this.db).findOne({ _id: id })) !== null;
  }

  /** Which of these runs have a cancel request. */
  async cancelsAmong(ids: string[]): Promise<Set<string>> {
    return new Set((await cancelsCollection(this.db).find({ _id: { $in: ids } }).toArray()).map((c) => c._id));
  }

  /** Stores a new run. */
  async create(doc: BackfillDoc): Promise<void> {
    await this.col.insertOne(doc);
  }

  /** Asks the runner to stop after its chunk in flight; false if a cancel was asked before. */
  requestCancel(id: string, by: Actor): Promise<boolean> {
    return insertOnce(cancelsCollection(this.db), { _id: id, at: new Date(), by });
  }

  /** Ends a run: completed, cancelled, or failed with its error. */
  async finish(id: string, status: Exclude<BackfillStatus, 'running'>, error?: ErrorInfo): Promise<void> {
    const now = new Date();
    await this.col.updateOne({ _id: id }, { $set: { status, updatedAt: now, finishedAt: now, ...(error ? { error } : {}) }, $unset: { waiting: '' } });
  }

  /** A failed run retried from the DLQ carries on from its checkpoint. */
  async resume(id: string): Promise<void> {
    await this.col.updateOne({ _id: id }, { $set: { status: 'running', updatedAt: new Date() }, $unset: { error: '', finishedAt: '' } });
  }

  /** The runner waits: a guard refused the next chunk. */
  async waiting(id: string, reason: string, until: Date): Promise<void> {
    await this.col.updateOne({ _id: id }, { $set: { waiting: { reason, until }, updatedAt: new Date() } });
  }

  /** Chunk `chunk` failed with `message`. */
  async chunkFailed(id: string, chunk: number, message: string): Promise<void> {
    await this.col.updateOne({ _id: id }, { $set: { lastError: { chunk, message, at: new Date() }, updatedAt: new Date() } });
  }

  /**
   * Chunk `chunk` is done: the checkpoint moves past it and its counts are added. Only from that
   * checkpoint: a runner that lost its lock must not move it back.
   */
  async chunkDone(id: string, chunk: number, counts: Record<string, number>): Promise<void> {
    const inc = Object.fromEntries(Object.entries(counts).map(([k, v]) => [`counts.${k}`, v]));
    await this.col.updateOne(
      { _id: id, checkpoint: chunk },
      { $set: { checkpoint: chunk + 1, done: chunk + 1, updatedAt: new Date() }, $unset: { waiting: '', lastError: '' }, ...(Object.keys(inc).length ? { $inc: inc } : {}) },
    );
  }
}
