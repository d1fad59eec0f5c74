/**
 * History for the benches that must not slow down with it: finished run records and the rollups
 * a worker would have written for them (src/engine/rollups.ts, rollupStore.ts), closed dead letters.
 */
import { ObjectId, type Db } from 'mongodb';
import type { ErrorInfo, RunOutcome } from '../src/db/collections.ts';
import { addRun, minuteOf, newRollup, rollupId, type RunRollupDoc } from '../src/engine/rollups.ts';
import { foldCutoff, foldHours } from '../src/engine/rollupStore.ts';
import { insertInBatches } from './support.ts';

export const NAMES = ['http.invoke', 'feeds.sync', 'inbox.generate', 'discovery.harvest', 'embeddings.batch'];

export interface RunSeed {
  /** Runs end at `now` and go back `spreadMin` minutes, evenly. */
  now: number;
  spreadMin: number;
  /** The rollups' worker name: one per call, so a second call adds to the first. */
  worker: string;
  outcome: (i: number) => Exclude<RunOutcome, 'aborted'>;
  error?: (i: number) => ErrorInfo;
}

/**
 * Inserts `n` runs and their rollups as maintenance.cleanup leaves them: minutes for the last
 * couple of hours, whole hours before (foldHours); returns how many of each.
 */
export async function seedRuns(db: Db, n: number, s: RunSeed): Promise<{ minutes: number; hours: number }> {
  const rollups = new Map<string, Omit<RunRollupDoc, 'updatedAt'>>();
  await insertInBatches(db.collection('jobRuns'), n, (i) => {
    const startedAt = new Date(s.now - Math.floor((i / n) * s.spreadMin * 60_000));
    const jobName = NAMES[i % NAMES.length];
    const outcome = s.outcome(i);
    const error = outcome === 'failed' || outcome === 'dead' ? (s.error?.(i) ?? { message: 'HTTP 500', class: 'HttpStatusError' }) : undefined;
    const run = {
      jobId: new ObjectId().toHexString(),
      jobName,
      attempt: 1,
      startedAt,
      ...(outcome === 'running' ? {} : { finishedAt: new Date(startedAt.getTime() + 50), durationMs: 50 }),
      outcome,
      ...(error ? { error } : {}),
      counts: {},
      telemetry: [],
      worker: s.worker,
      timeoutMs: 60_000,
    };
    // One minute per run: the attempt's start and its outcome are counted together.
    const minute = minuteOf(startedAt);
    const r = rollups.get(rollupId(jobName, minute, s.worker)) ?? newRollup(jobName, minute, s.worker);
    rollups.set(r._id, r);
    r.started++;
    addRun(r, run, startedAt);
    return run;
  });
  const at = new Date(s.now);
  const foldBefore = foldCutoff(s.now).getTime();
  const all = [...rollups.values()].map((d) => ({ ...d, updatedAt: at }));
  const minutes = all.filter((d) => d.minute.getTime() >= foldBefore);
  const hours = foldHours(all.filter((d) => d.minute.getTime() < foldBefore), at);
  await insertInBatches(db.collection('runRollups'), minutes.length, (i) => minutes[i]);
  await insertInBatches(db.collection('runRollupsHourly'), hours.length, (i) => hours[i] as never);
  return { minutes: minutes.length, hours: hours.length };
}

/** `n` live jobs, a third each due (waiting up to 30 min), scheduled in an hour, and due now; one in 30 of those locked (one in 150 for 10 minutes: stuck). */
export async function seedLiveJobs(db: Db, n: number, now: number): Promise<void> {
  await insertInBatches(db.collection('agendaJobs'), n, (i) => {
    const kind = i % 3;
    return {
      _id: new ObjectId(),
      name: NAMES[i % NAMES.length],
      data: { i },
      type: 'normal',
      priority: 0,
      nextRunAt: new Date(now + (kind === 0 ? -(i % 1800) * 1000 : kind === 1 ? 3600_000 : -1000)),
      lockedAt: kind === 2 && i % 30 === 2 ? new Date(now - (i % 150 === 2 ? 600_000 : 1000)) : null,
      lastRunAt: kind === 2 ? new Date(now - 2000) : null,
      failCount: 0,
    };
  });
}

/** A dead letter as the DLQ keeps it: open (`pending`, `retry_scheduled`) or closed (`retried`, `deleted`). */
export function deadLetter(i: number, now: number, status: string, error: ErrorInfo = { message: 'HTTP 500', class: 'HttpStatusError' }) {
  return {
    jobId: new ObjectId().toHexString(),
    generation: 0,
    jobName: NAMES[i % NAMES.length],
    payload: { i },
    error,
    attempts: 5,
    reason: 'retries_exhausted',
    firstFailedAt: new Date(now - 7200_000),
    lastFailedAt: new Date(now - (i % 3600) * 1000),
    status,
    createdAt: new Date(now - (i % 3600) * 1000),
    ...(status === 'retried' || status === 'deleted' ? { actedAt: new Date(now), actedBy: { platform: 'cli', id: 'bench', name: 'bench' } } : {}),
  };
}
