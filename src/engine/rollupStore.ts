/**
 * Where rollups live and how they are read. The per-minute documents each worker writes
 * (`runRollups`, rollups.ts) are kept for MINUTE_ROLLUPS_KEEP_MS; then maintenance.cleanup folds
 * every whole hour into one document per job type and worker (`runRollupsHourly`: the same shape,
 * `minute` = the hour's start), kept as long as run records. On FerretDB every query costs the
 * whole collection it filters, so `status` and the alert rules, whose windows fit in the kept
 * minutes, read a collection of a couple of hours per job type and worker however long the
 * history; a window reaching further back reads the hours too, to the hour.
 */
import type { Filter } from 'mongodb';
import { type IndexPlan, type ErrorInfo, type SwitchboardCollections } from '../db/collections.ts';
import { insertManyOnce } from '../db/insertOnce.ts';
import { addCounts, addSample, emptyCounts, minuteOf, newRollup, rollupId, type RollupCounts, type RunRollupDoc } from './rollups.ts';
import { retention, type RetentionRule } from '../db/retention.ts';

/** How long per-minute rollups stay before their hour is folded (the windows `status` and the default alert rules read fit). */
export const MINUTE_ROLLUPS_KEEP_MS = 2 * 3600_000;
/** Clocks of other processes may be this far off: an hour is folded only this much later. */
const CLOCK_SLACK_MS = 10 * 60_000;
const HOUR = 3600_000;
const DELETE_BATCH = 1000;

/** The indexes of the collections this module owns (collected by src/app/schema.ts). */
export const hourlyRollupIndexes: IndexPlan = {
  runRollupsHourly: [
    { key: { minute: 1 }, name: 'minute' },
    { key: { job: 1, minute: -1 }, name: 'job_minute' },
  ],
};

/** Hourly rollups of times before the run retention go (`maintenance.cleanup`). */
export const hourlyRollupRetention: RetentionRule = retention('runRollupsHourly', (c) => ({ minute: { $lt: c.runsBefore } }));

/** The start of the hour holding `t`. */
export function hourOf(t: Date | number): Date {
  const ms = typeof t === 'number' ? t : t.getTime();
  return new Date(ms - (((ms % HOUR) + HOUR) % HOUR));
}

/** Hours that start before this are folded (whole hours past the kept minutes, clock slack added). */
export const foldCutoff = (now: Date | number): Date => hourOf((typeof now === 'number' ? now : now.getTime()) - MINUTE_ROLLUPS_KEEP_MS - CLOCK_SLACK_MS);

/** The hourly document a minute's rollup folds into. */
const hourlyId = (d: Pick<RunRollupDoc, 'job' | 'minute' | 'worker'>) => rollupId(d.job, hourOf(d.minute), d.worker);

/**
 * The rollups of the minutes from the one holding `since` to the one holding `until`, every
 * worker's; reaching back past the kept minutes, the folded hours too (whole: the hour holding
 * `since` counts).
 */
export async function readRollups(cols: SwitchboardCollections, since: Date, until: Date, filter: Filter<RunRollupDoc> = {}): Promise<RunRollupDoc[]> {
  const minutes = cols.runRollups.find({ ...filter, minute: { $gte: minuteOf(since), $lte: until } }).toArray();
  if (since.getTime() >= Date.now() - MINUTE_ROLLUPS_KEEP_MS) return minutes;
  const [m, hours] = await Promise.all([minutes, cols.runRollupsHourly.find({ ...filter, minute: { $gte: hourOf(since), $lte: until } }).toArray()]);
  // A folding cut short leaves an hour in both places: it counts once.
  const folded = new Set(hours.map((h) => h._id));
  return [...hours, ...m.filter((d) => !folded.has(hourlyId(d)))];
}

/** The newest (`-1`) or oldest (`1`) rollup matching `filter`, among minutes and hours. */
export async function edgeRollup(cols: SwitchboardCollections, filter: Filter<RunRollupDoc>, order: 1 | -1): Promise<RunRollupDoc | null> {
  const find = (col: SwitchboardCollections['runRollups']) => col.findOne(filter, { sort: { job: 1, minute: order } });
  // The kept minutes are newer than every folded hour.
  return order === -1 ? ((await find(cols.runRollups)) ?? find(cols.runRollupsHourly)) : ((await find(cols.runRollupsHourly)) ?? find(cols.runRollups));
}

/** Sums per job type, of the rollups from the minute holding `since` on (all of them by default). */
export function totalsByJob(docs: RunRollupDoc[], since?: Date): Map<string, RollupCounts> {
  const from = since ? minuteOf(since).getTime() : -Infinity;
  const out = new Map<string, RollupCounts>();
  for (const d of docs) {
    if (d.minute.getTime() < from) continue;
    const c = out.get(d.job) ?? emptyCounts();
    out.set(d.job, addCounts(c, d));
  }
  return out;
}

/**
 * Recent failures of these job types from the rollups' error samples, newest first, each sample
 * repeated as often as it happened, at most `limit` per job type.
 */
export async function recentErrors(cols: SwitchboardCollections, jobs: string[], since: Date, until: Date, limit: number): Promise<Map<string, ErrorInfo[]>> {
  const out = new Map<string, ErrorInfo[]>(jobs.map((j) => [j, []]));
  const docs = await readRollups(cols, since, until, { job: { $in: jobs }, $or: [{ failed: { $gt: 0 } }, { dead: { $gt: 0 } }] });
  docs.sort((a, b) => b.minute.getTime() - a.minute.getTime());
  for (const d of docs) {
    const list = out.get(d.job)!;
    for (const { n, ...e } of d.errors ?? []) for (let i = 0; i < n && list.length < limit; i++) list.push(e);
  }
  return out;
}

/** Minute rollups folded into one document per job type, hour and worker. */
export function foldHours(minutes: RunRollupDoc[], at: Date): RunRollupDoc[] {
  const out = new Map<string, RunRollupDoc>();
  for (const d of [...minutes].sort((a, b) => a.minute.getTime() - b.minute.getTime())) {
    const id = hourlyId(d);
    const h = out.get(id) ?? { ...newRollup(d.job, hourOf(d.minute), d.worker), updatedAt: at };
    out.set(id, h);
    addCounts(h, d);
    if (d.lastOkAt && (!h.lastOkAt || d.lastOkAt > h.lastOkAt)) h.lastOkAt = d.lastOkAt;
    if (d.lastError !== null) [h.lastErrorClass, h.lastError] = [d.lastErrorClass, d.lastError];
    for (const e of d.errors ?? []) addSample(h.errors, e);
  }
  return [...out.values()];
}

/**
 * Folds the per-minute rollups of whole hours past the kept minutes into hourly ones, oldest hour
 * first, at most `maxHours` hours; returns how many minute documents it folded. Its only caller,
 * maintenance.cleanup, runs once at a time: the hourly documents have one writer. An hourly
 * document is inserted once, so a folding cut short and done again does not count twice.
 */
export async function foldOldMinutes(cols: SwitchboardCollections, now: Date, opts: { maxHours: number; signal?: AbortSignal }): Promise<number> {
  const cutoff = foldCutoff(now);
  let folded = 0;
  for (let i = 0; i < opts.maxHours && !opts.signal?.aborted; i++) {
    const oldest = await cols.runRollups.findOne({ minute: { $lt: cutoff } }, { sort: { minute: 1 }, projection: { minute: 1 } });
    if (!oldest) break;
    const hour = hourOf(oldest.minute);
    const minutes = await cols.runRollups.find({ minute: { $gte: hour, $lt: new Date(hour.getTime() + HOUR) } }).toArray();
    await insertManyOnce(cols.runRollupsHourly, foldHours(minutes, now));
    for (let k = 0; k < minutes.length; k += DELETE_BATCH) {
      folded += (await cols.runRollups.deleteMany({ _id: { $in: minutes.slice(k, k + DELETE_BATCH).map((d) => d._id) } })).deletedCount;
    }
  }
  return folded;
}
