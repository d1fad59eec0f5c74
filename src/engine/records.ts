/**
 * What the engine writes about attempts: one `jobRuns` document per attempt, and the `deadLetters`
 * entry of a job that used up its retries (idempotent on job id + generation).
 */
import { ObjectId } from 'mongodb';
import type { DeadLetterDoc, ErrorInfo, JobRunDoc, RunOutcome, SwitchboardCollections } from '../db/collections.ts';
import { isDuplicateKey } from '../db/insertOnce.ts';

export interface RunStart {
  jobId: string;
  jobName: string;
  attempt: number;
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
 * processes) leaves one entry; returns it and whether this call created it.
 */
export async function writeDeadLetter(
  cols: SwitchboardCollections,
  entry: NewDeadLetter,
): Promise<{ doc: DeadLetterDoc; created: boolean }> {
  const now = new Date();
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
