/**
 * Start-up reconciler: a job whose final failure was saved but whose DLQ entry was not (a crash
 * in between, or a failure outside our pipeline such as Agenda's "Undefined job") gets one.
 */
import type { SwitchboardCollections } from '../db/collections.ts';
import type { JobRegistry } from './defineJob.ts';
import { writeDeadLetter } from './records.ts';

const BATCH = 500;

/** Returns how many jobs it moved to the DLQ. */
export async function reconcileDeadLetters(cols: SwitchboardCollections, jobs: JobRegistry): Promise<number> {
  let moved = 0;
  const cursor = cols.agendaJobs
    .find({ nextRunAt: null, failCount: { $gt: 0 }, lockedAt: null }, { projection: { name: 1, data: 1, sb: 1, failReason: 1, failedAt: 1, failCount: 1, repeatInterval: 1 } })
    .batchSize(BATCH);
  for await (const job of cursor) {
    if (job.repeatInterval) continue;
    const jobId = String(job._id);
    const generation = job.sb?.generation ?? 0;
    const exists = await cols.deadLetters.countDocuments({ jobId, generation }, { limit: 1 });
    if (exists) continue;
    const { created } = await writeDeadLetter(cols, {
      jobId,
      generation,
      jobName: job.name,
      payload: job.data,
      error: { message: job.failReason ?? 'unknown failure', class: jobs.get(job.name) ? 'Error' : 'UndefinedJob' },
      attempts: job.sb?.attempts ?? job.failCount ?? 1,
      reason: 'reconciled',
      firstFailedAt: job.failedAt ?? new Date(),
    });
    if (created) moved++;
  }
  return moved;
}
