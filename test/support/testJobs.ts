/**
 * Job definitions shared by the engine tests and the child worker (test/support/worker.ts).
 * No vitest import here: a plain Node process loads this file. Every handler writes what it did
 * to `executions`, so a test can count runs per job across processes.
 */
import { setTimeout as delay } from 'node:timers/promises';
import type { Db } from 'mongodb';
import { MongoServerError } from 'mongodb';
import { z } from 'zod';
import { defineJob, type JobDefinition } from '../../src/engine/defineJob.ts';

export interface ExecutionDoc {
  jobId: string;
  job: string;
  attempt: number;
  phase: 'start' | 'end';
  pid: number;
  at: Date;
}

export const executions = (db: Db) => db.collection<ExecutionDoc>('executions');

async function record(db: Db, e: Omit<ExecutionDoc, 'pid' | 'at'>): Promise<void> {
  await executions(db).insertOne({ ...e, pid: process.pid, at: new Date() });
}

/** Resolves when the signal aborts; never resolves otherwise (the engine's race rejects). */
const untilAborted = (signal: AbortSignal) =>
  new Promise<void>((resolve) => (signal.aborted ? resolve() : signal.addEventListener('abort', () => resolve(), { once: true })));

/** Runs for `ms` whatever happens (a handler that ignores its signal), recording start and end. */
export const longJob = defineJob({
  name: 'test.long',
  payload: z.object({ ms: z.number().int().positive() }),
  retry: { maxAttempts: 3, backoffMs: 200 },
  async handler({ payload, jobId, jobName, attempt, db }) {
    await record(db, { jobId, job: jobName, attempt, phase: 'start' });
    await delay(payload.ms);
    await record(db, { jobId, job: jobName, attempt, phase: 'end' });
  },
});

/** A short job for the "every job runs exactly once" test. */
export const shortJob = defineJob({
  name: 'test.short',
  payload: z.object({ i: z.number().int() }),
  concurrency: 5,
  async handler({ jobId, jobName, attempt, db, count }) {
    await record(db, { jobId, job: jobName, attempt, phase: 'start' });
    count('ran');
  },
});

/**
 * Hangs on its first execution only (until its signal aborts, or the process dies), then
 * completes on any later one. "First" is decided by a unique marker in `markers`, so it holds
 * across processes and whatever `attempt` says (an aborted attempt does not count).
 */
export const hangOnceJob = defineJob({
  name: 'test.hang-once',
  payload: z.object({}),
  retry: { maxAttempts: 3, backoffMs: 200 },
  async handler({ jobId, jobName, attempt, db, signal, count }) {
    await record(db, { jobId, job: jobName, attempt, phase: 'start' });
    if (await firstExecution(db, jobId)) {
      await untilAborted(signal);
      return;
    }
    await record(db, { jobId, job: jobName, attempt, phase: 'end' });
    count('completed');
  },
});

async function firstExecution(db: Db, jobId: string): Promise<boolean> {
  try {
    await db.collection<{ _id: string; pid: number; at: Date }>('markers').insertOne({ _id: jobId, pid: process.pid, at: new Date() });
    return true;
  } catch (err) {
    if (err instanceof MongoServerError && err.code === 11000) return false;
    throw err;
  }
}

/** Every definition above, for engines in the test process and in the child worker. */
export const testJobs: JobDefinition[] = [longJob, shortJob, hangOnceJob];
