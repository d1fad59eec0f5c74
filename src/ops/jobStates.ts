/**
 * The states a job of `agendaJobs` is in, as operators see them, defined once for `jobs list`
 * and `status`. They do not overlap: a locked job is `running` whatever its next run time (a
 * recurring job computes its next run when it starts), so `scheduled` means due later and not
 * running, and `queued` means due now and not running.
 */
import type { Filter } from 'mongodb';
import type { AgendaJobDoc } from '../db/collections.ts';

export type JobState = 'queued' | 'running' | 'scheduled' | 'failed' | 'completed';

/** The query that selects jobs in a state. */
export function stateFilter(state: JobState, now = new Date()): Filter<AgendaJobDoc> {
  switch (state) {
    case 'queued':
      return { nextRunAt: { $lte: now }, lockedAt: null };
    case 'running':
      return { lockedAt: { $ne: null } };
    case 'scheduled':
      return { nextRunAt: { $gt: now }, lockedAt: null };
    case 'failed':
      return { nextRunAt: null, lockedAt: null, failCount: { $gt: 0 } };
    case 'completed':
      return { nextRunAt: null, lockedAt: null, failCount: { $in: [0, null] }, lastFinishedAt: { $ne: null } };
  }
}

/** The state of one job, as `stateFilter` would select it. */
export function stateOf(j: AgendaJobDoc, now = new Date()): JobState {
  if (j.lockedAt) return 'running';
  if (j.nextRunAt) return j.nextRunAt.getTime() <= now.getTime() ? 'queued' : 'scheduled';
  return j.failCount ? 'failed' : 'completed';
}
