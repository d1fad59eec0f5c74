/**
 * `maintenance.cleanup`: retention, since FerretDB v1 has no TTL indexes. Every 15 minutes it
 * deletes, in batches by `_id`, what the retention rules it is given say is old: each rule is
 * declared by the module that writes its collection (src/db/retention.ts; the composition root
 * collects them in src/app/schema.ts), against two cut-offs: the run retention
 * (JOB_RUNS_RETENTION_DAYS, or the runtime setting `runs.retention_days`) and a day ago.
 * It also folds per-minute rollups older than a couple of hours into hourly ones
 * (src/engine/rollupStore.ts), and moves closed dead letters (`retried`, `deleted`) still in
 * `deadLetters` to `deadLetterHistory` (a retried job's success closes its entry in place; a crash
 * may leave one). Each collection's deletions are counted on the run (`ctx.count`), the folded
 * minutes as `rollupMinutesFolded`, the moved dead letters as `deadLetterHistory`.
 */
import type { Db, Filter } from 'mongodb';
import { z } from 'zod';
import { collections, type DeadLetterDoc } from '../src/db/collections.ts';
import { defineJob } from '../src/engine/defineJob.ts';
import { CLOSED_STATUSES, moveToHistory } from '../src/engine/records.ts';
import { foldOldMinutes } from '../src/engine/rollupStore.ts';
import { configKey } from '../src/engine/settings.ts';
import type { SettingDoc } from '../src/db/collections.ts';
import { deleteInBatches, type RetentionRule } from '../src/db/retention.ts';
import { systemClock, type Clock } from '../src/util/clock.ts';

const DAY_MS = 24 * 3600_000;

/** The runtime setting that overrides JOB_RUNS_RETENTION_DAYS (`config set runs.retention_days 14`). */
export const RETENTION_SETTING = 'runs.retention_days';

export interface MaintenanceCleanupOptions {
  /** JOB_RUNS_RETENTION_DAYS: the default when the runtime setting is not set. */
  retentionDays: number;
  /** What to delete, collection by collection (the owners' declarations, collected by the root). */
  rules: readonly RetentionRule[];
  clock?: Clock;
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
      const now = (opts.clock ?? systemClock).now().getTime();
      const cutoffs = { now: new Date(now), runsBefore: new Date(now - days * DAY_MS), dayAgo: new Date(now - DAY_MS) };
      const run = { ...batches, signal };
      for (const rule of opts.rules) count(rule.collection, await deleteInBatches(db.collection(rule.collection), rule.expired(cutoffs), run));
      count('rollupMinutesFolded', await foldOldMinutes(collections(db), new Date(now), { maxHours: batches.maxBatches, signal }));
      count('deadLetterHistory', await moveClosedDeadLetters(db, run));
      log.info({ retentionDays: days }, 'maintenance cleanup done');
    },
  });
}
