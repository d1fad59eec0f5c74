/**
 * The changes operators make to job documents (`agendaJobs`), kept in the engine beside every
 * other write of that collection: a dead letter's job requeued for a fresh budget, a waiting job
 * cancelled. The operations service decides who may and records why; this writes.
 */
import { ObjectId } from 'mongodb';
import type { DeadLetterDoc, WithBookkeeping } from '../db/collections.ts';
import type { Engine } from './engine.ts';
import { noteRetryJob } from './records.ts';

type JobStore = Pick<Engine, 'cols' | 'agenda' | 'enqueued'>;

/**
 * Runs a dead letter's job again with a fresh attempt budget and the next generation, now; when
 * its document is gone (removed or cleaned up), enqueues a new job with the same payload.
 */
export async function requeueDeadLetter(engine: JobStore, d: DeadLetterDoc, now: Date): Promise<void> {
  const id = String(d._id);
  const requeued = await engine.cols.agendaJobs.updateOne(
    { _id: new ObjectId(d.jobId), lockedAt: null },
    { $set: { nextRunAt: now, failCount: 0, failReason: null, failedAt: null, 'sb.attempts': 0, 'sb.generation': d.generation + 1, 'sb.retriedFrom': id } },
  );
  if (requeued.matchedCount === 1) return engine.enqueued({ id: d.jobId, name: d.jobName, nextRunAt: now });
  const job = engine.agenda.create(d.jobName, d.payload);
  (job.attrs as WithBookkeeping).sb = { retriedFrom: id };
  await job.save();
  await noteRetryJob(engine.cols, d._id, String(job.attrs._id));
}

/** Removes a job that is not running: its name, or why not. */
export async function cancelJob(engine: Pick<Engine, 'cols'>, _id: ObjectId): Promise<{ job: string } | 'not_found' | 'running'> {
  const j = await engine.cols.agendaJobs.findOne({ _id }, { projection: { name: 1, lockedAt: 1 } });
  if (!j) return 'not_found';
  if (j.lockedAt) return 'running';
  const res = await engine.cols.agendaJobs.deleteOne({ _id, lockedAt: null });
  return res.deletedCount === 1 ? { job: j.name } : 'running';
}
