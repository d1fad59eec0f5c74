/**
 * What the engine writes about attempts: one `jobRuns` document per attempt, and the `deadLetters`
 * entry of a job that used up its retries (idempotent on job id + generation). Closed entries
 * (`retried`, `deleted`) move to `deadLetterHistory`, so the open queue's size is all that its
 * counts cost.
 */
import { ObjectId, type Filter } from 'mongodb';
import type { Actor, DeadLetterDoc, DeadLetterStatus, ErrorInfo, JobRunDoc, RunOutcome, SwitchboardCollections } from '../db/collections.ts';
import { insertManyOnce, isDuplicateKey } from '../db/insertOnce.ts';
import { retention, type RetentionRule } from '../db/retention.ts';

export interface RunStart {
  jobId: string;
  jobName: string;
  attempt: number;
  /** The job's DLQ generation: which budget the attempt belongs to. */
  generation?: number;
  worker: string;
  timeoutMs: number;
  /** When the guards admitted the attempt; now by default. */
  startedAt?: Date;
}

/** Inserts the `running` record of an attempt and returns its id. */
export async function startRun(cols: SwitchboardCollections, start: RunStart): Promise<ObjectId> {
  const doc: JobRunDoc = {
    _id: new ObjectId(),
    ...start,
    startedAt: start.startedAt ?? new Date(),
    outcome: 'running',
    counts: {},
    telemetry: [],
  };
  await cols.jobRuns.insertOne(doc);
  return doc._id;
}

export interface RunEnd {
  outcome: Exclude<RunOutcome, 'running'>;
  startedAt: Date;
  error?: ErrorInfo;
  counts: Record<string, number>;
  telemetry: JobRunDoc['telemetry'];
}

/** Closes an attempt's record with its outcome. */
export async function finishRun(cols: SwitchboardCollections, runId: ObjectId, end: RunEnd): Promise<JobRunDoc | null> {
  const finishedAt = new Date();
  return cols.jobRuns.findOneAndUpdate(
    { _id: runId },
    {
      $set: {
        outcome: end.outcome,
        finishedAt,
        durationMs: finishedAt.getTime() - end.startedAt.getTime(),
        counts: end.counts,
        telemetry: end.telemetry,
        ...(end.error ? { error: end.error } : {}),
      },
    },
    { returnDocument: 'after' },
  );
}

export type NewDeadLetter = Pick<
  DeadLetterDoc,
  'jobId' | 'generation' | 'jobName' | 'payload' | 'error' | 'attempts' | 'reason' | 'firstFailedAt'
>;

/**
 * Writes the DLQ entry of a job's exhausted budget. Writing it twice (a retaken attempt, two
 * processes) leaves one entry; returns it and whether this call created it. The start-up
 * reconciler's entry (`reconciled`) is not written for a failure already closed in the history.
 */
export async function writeDeadLetter(
  cols: SwitchboardCollections,
  entry: NewDeadLetter,
): Promise<{ doc: DeadLetterDoc; created: boolean }> {
  const now = new Date();
  if (entry.reason === 'reconciled') {
    const closed = await cols.deadLetterHistory.findOne({ jobId: entry.jobId, generation: entry.generation });
    if (closed) return { doc: closed, created: false };
  }
  try {
    const res = await cols.deadLetters.findOneAndUpdate(
      { jobId: entry.jobId, generation: entry.generation },
      {
        $setOnInsert: {
          ...entry,
          lastFailedAt: now,
          status: 'pending',
          createdAt: now,
        },
      },
      { upsert: true, returnDocument: 'after', includeResultMetadata: true },
    );
    const created = !res.lastErrorObject?.updatedExisting;
    return { doc: res.value as DeadLetterDoc, created };
  } catch (err) {
    if (isDuplicateKey(err)) {
      const doc = await cols.deadLetters.findOne({ jobId: entry.jobId, generation: entry.generation });
      if (doc) return { doc, created: false };
    }
    throw err;
  }
}

export const CLOSED_STATUSES: readonly DeadLetterStatus[] = ['retried', 'deleted'];

/**
 * An operator's change of a dead letter's status (retry scheduled, deleted), only from the status
 * it was seen in: false when it changed meanwhile (a retry racing a delete, a second click).
 */
export async function markDeadLetter(cols: SwitchboardCollections, d: Pick<DeadLetterDoc, '_id' | 'status'>, status: DeadLetterStatus, by: Actor, at: Date): Promise<boolean> {
  const res = await cols.deadLetters.updateOne({ _id: d._id, status: d.status }, { $set: { status, actedBy: by, actedAt: at } });
  return res.modifiedCount === 1;
}

/** Notes the job a retried dead letter was enqueued as, when its own job document was gone. */
export async function noteRetryJob(cols: SwitchboardCollections, id: ObjectId, retryJobId: string): Promise<void> {
  await cols.deadLetters.updateOne({ _id: id }, { $set: { retryJobId } });
}

/** A job retried from the DLQ succeeded: its scheduled entries are closed as `retried`. */
export async function closeRetried(cols: SwitchboardCollections, jobId: string, at: Date): Promise<void> {
  await cols.deadLetters.updateMany({ $or: [{ jobId }, { retryJobId: jobId }], status: 'retry_scheduled' }, { $set: { status: 'retried', actedAt: at } });
}

/** Run records go once they are older than the run retention (`maintenance.cleanup`). */
export const runRetention: RetentionRule = retention('jobRuns', (c) => ({ startedAt: { $lt: c.runsBefore } }));

/**
 * Moves closed entries from `deadLetters` to `deadLetterHistory`: copied first, then removed, so a
 * crash in between leaves a copy in both, which the next move (maintenance.cleanup) finishes.
 * Returns how many left `deadLetters`.
 */
export async function moveToHistory(cols: SwitchboardCollections, docs: DeadLetterDoc[]): Promise<number> {
  const closed = docs.filter((d) => CLOSED_STATUSES.includes(d.status));
  if (!closed.length) return 0;
  await insertManyOnce(cols.deadLetterHistory, closed);
  const res = await cols.deadLetters.deleteMany({ _id: { $in: closed.map((d) => d._id) }, status: { $in: [...CLOSED_STATUSES] } });
  return res.deletedCount;
}

/** A dead letter by filter: the open queue first, then the history of closed ones. */
export async function findDeadLetter(cols: SwitchboardCollections, filter: Filter<DeadLetterDoc>): Promise<DeadLetterDoc | null> {
  return (await cols.deadLetters.findOne(filter)) ?? cols.deadLetterHistory.findOne(filter);
}
