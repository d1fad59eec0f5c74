/**
 * `maintenance.cleanup`: retention, since FerretDB v1 has no TTL indexes. Every 15 minutes it
 * deletes, in batches by `_id`:
 * - `jobRuns` started before the run retention (JOB_RUNS_RETENTION_DAYS, or the runtime setting
 *   `runs.retention_days`), and the rollups (`runRollupsHourly`, `runRollups`) of times before it;
 * - `jobClaims` older than a day (a claim only matters while its job is being locked);
 * - `chatActions` (buttons and their uses) that expired more than a day ago;
 * - finished one-off `agendaJobs` older than the run retention that never failed for good: a
 *   job with a failCount may still have a pending DLQ entry, which can retry it (the engine moves
 *   a success to `finishedJobs` 30 s after it; what stays here was left by a process that died);
 * - `finishedJobs` that finished before the run retention;
 * - flow-control slots (`rateWindows`, expired `concurrencySlots`, `breakerTrials`) older than a
 *   day, `dedupeKeys` older than 30 days (the longest dedupe window that holds), and the alert
 *   notices and operator controls older than the run retention.
 * It also folds per-minute rollups older than a couple of hours into hourly ones
 * (src/engine/rollupStore.ts), and moves closed dead letters (`retried`, `deleted`) still in
 * `deadLetters` to `deadLetterHistory` (a retried job's success closes its entry in place; a crash
 * may leave one). Each collection's deletions are counted on the run (`ctx.count`), the folded
 * minutes as `rollupMinutesFolded`, the moved dead letters as `deadLetterHistory`.
 */
import type { Collection, Db, Document, Filter } from 'mongodb';
import { z } from 'zod';
import { collections, type DeadLetterDoc } from '../src/db/collections.ts';
import { defineJob } from '../src/engine/defineJob.ts';
import { CLOSED_STATUSES, moveToHistory } from '../src/engine/records.ts';
import { foldOldMinutes } from '../src/engine/rollupStore.ts';
import { configKey } from '../src/engine/settings.ts';
import type { SettingDoc } from '../src/db/collections.ts';

const DAY_MS = 24 * 3600_000;

/** The runtime setting that overrides JOB_RUNS_RETENTION_DAYS (`config set runs.retention_days 14`). */
export const RETENTION_SETTING = 'runs.retention_days';

export interface MaintenanceCleanupOptions {
  /** JOB_RUNS_RETENTION_DAYS: the default when the runtime setting is not set. */
  retentionDays: number;
  /** Documents deleted per batch (1000). */
  batchSize?: number;
  /** Batches per collection and run (50): a large backlog is worked off over several runs. */
  maxBatches?: number;
}

/** The retention in force: the runtime setting when it holds a positive number, else the default. */
export async function retentionDays(db: Db, fallback: number): Promise<number> {
  const doc = await db.collection<SettingDoc>('settings').findOne({ _id: configKey(RETENTION_SETTING) });
  const value = Number(doc?.value);
  return doc && Number.isFinite(value) && value > 0 ? value : fallback;
}

/** Deletes what matches `filter`, `batchSize` documents at a time; returns how many. */
export async function deleteInBatches<T extends Document>(
  col: Collection<T>,
  filter: Filter<T>,
  opts: { batchSize: number; maxBatches: number; signal?: AbortSignal },
): Promise<number> {
  let deleted = 0;
  for (let batch = 0; batch < opts.maxBatches && !opts.signal?.aborted; batch++) {
    const ids = (await col.find(filter, { projection: { _id: 1 }, limit: opts.batchSize }).toArray()).map((d) => d._id);
    if (ids.length === 0) break;
    // The filter again: a document may have changed since it was read (a job retried from the DLQ).
    const res = await col.deleteMany({ $and: [{ _id: { $in: ids } }, filter] } as Filter<T>);
    deleted += res.deletedCount;
    if (ids.length < opts.batchSize) break;
  }
  return deleted;
}

/** Moves closed dead letters left in `deadLetters` to the history, `batchSize` at a time; returns how many. */
export async function moveClosedDeadLetters(db: Db, opts: { batchSize: number; maxBatches: number; signal?: AbortSignal }): Promise<number> {
  const cols = collections(db);
  const filter: Filter<DeadLetterDoc> = { status: { $in: [...CLOSED_STATUSES] } };
  let moved = 0;
  for (let batch = 0; batch < opts.maxBatches && !opts.signal?.aborted; batch++) {
    const docs = await cols.deadLetters.find(filter).limit(opts.batchSize).toArray();
    if (docs.length === 0) break;
    moved += await moveToHistory(cols, docs);
    if (docs.length < opts.batchSize) break;
  }
  return moved;
}

export function maintenanceCleanupJob(opts: MaintenanceCleanupOptions) {
  const batches = { batchSize: opts.batchSize ?? 1000, maxBatches: opts.maxBatches ?? 50 };
  return defineJob({
    name: 'maintenance.cleanup',
    description: 'Deletes old run records and rollups, claims, slots, expired chat actions, old alert notices and finished one-off jobs; folds old minute rollups into hours; moves closed dead letters to their history.',
    payload: z.object({}),
    schedule: '15 minutes',
    concurrency: 1,
    retry: { maxAttempts: 3, backoffMs: 60_000 },
    timeoutMs: 10 * 60_000,
    async handler({ db, count, signal, log }) {
      const days = await retentionDays(db, opts.retentionDays);
      const now = Date.now();
      const runsBefore = new Date(now - days * DAY_MS);
      const dayAgo = new Date(now - DAY_MS);
      const run = { ...batches, signal };
      const targets: Array<[string, Filter<Document>]> = [
        ['jobRuns', { startedAt: { $lt: runsBefore } }],
        ['runRollupsHourly', { minute: { $lt: runsBefore } }],
        ['runRollups', { minute: { $lt: runsBefore } }],
        ['jobClaims', { at: { $lt: dayAgo } }],
        ['chatActions', { expiresAt: { $lt: dayAgo } }],
        ['rateWindows', { at: { $lt: dayAgo } }],
        ['concurrencySlots', { expiresAt: { $lt: dayAgo } }],
        ['breakerTrials', { at: { $lt: dayAgo } }],
        ['dedupeKeys', { at: { $lt: new Date(now - 30 * DAY_MS) } }],
        ['alertNotices', { at: { $lt: runsBefore } }],
        ['alertControls', { at: { $lt: runsBefore } }],
        [
          'agendaJobs',
          {
            nextRunAt: null,
            lockedAt: null,
            repeatInterval: null,
            repeatAt: null,
            lastFinishedAt: { $lt: runsBefore },
            $or: [{ failCount: null }, { failCount: 0 }],
          },
        ],
        ['finishedJobs', { lastFinishedAt: { $lt: runsBefore } }],
      ];
      for (const [name, filter] of targets) {
        count(name, await deleteInBatches(db.collection(name), filter, run));
      }
      count('rollupMinutesFolded', await foldOldMinutes(collections(db), new Date(now), { maxHours: batches.maxBatches, signal }));
      count('deadLetterHistory', await moveClosedDeadLetters(db, run));
      log.info({ retentionDays: days }, 'maintenance cleanup done');
    },
  });
}
