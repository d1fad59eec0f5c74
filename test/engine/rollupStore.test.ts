/** Minute rollups fold into hours past a couple of hours; reads across both count every attempt once. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Db } from 'mongodb';
import { collections } from '../../src/db/collections.ts';
import { newRollup, type RunRollupDoc } from '../../src/engine/rollups.ts';
import { MINUTE_ROLLUPS_KEEP_MS, edgeRollup, foldHours, foldOldMinutes, hourOf, readRollups, totalsByJob } from '../../src/engine/rollupStore.ts';
import { useTestDb, type TestDb } from '../support/mongo.ts';

let t: TestDb;
const made: Db[] = [];
beforeAll(async () => {
  t = await useTestDb('rstore');
});
afterAll(async () => {
  for (const db of made) await db.dropDatabase().catch(() => {});
});
/** A fresh database per case, on the file's client. */
const fresh = (): Db => {
  const db = t.client.db(`${t.dbName}_${made.length}`);
  made.push(db);
  return db;
};

const now = new Date();
const thisHour = hourOf(now).getTime();
const HOUR = 3600_000;

function minute(job: string, at: number, worker: string, c: Partial<RunRollupDoc>): RunRollupDoc {
  return { ...newRollup(job, new Date(Math.floor(at / 60_000) * 60_000), worker), ...c, updatedAt: now };
}

/** Minutes 5 and 4 hours back (two workers), and the last hour's. */
function history(): RunRollupDoc[] {
  return [
    minute('a', thisHour - 5 * HOUR + 60_000, 'w1', { ok: 2, lastOkAt: new Date(thisHour - 5 * HOUR + 61_000) }),
    minute('a', thisHour - 5 * HOUR + 30 * 60_000, 'w1', { failed: 1, lastErrorClass: 'E', lastError: 'boom', errors: [{ class: 'E', message: 'boom', n: 1 }] }),
    minute('a', thisHour - 5 * HOUR + 59 * 60_000, 'w2', { ok: 1, durationMax: 70, durationSum: 70 }),
    minute('a', thisHour - 4 * HOUR + 10 * 60_000, 'w1', { dead: 1, errors: [{ class: 'E', message: 'boom', n: 1 }] }),
    minute('a', now.getTime() - 20 * 60_000, 'w1', { ok: 5 }),
  ];
}

describe('rollup store', () => {
  it('folds whole hours past the kept minutes into one document per job, hour and worker', async () => {
    const cols = collections(fresh());
    await cols.runRollups.insertMany(history());
    expect(await foldOldMinutes(cols, now, { maxHours: 10 })).toBe(4);
    expect(await cols.runRollups.countDocuments({})).toBe(1);
    const hours = await cols.runRollupsHourly.find({}).sort({ minute: 1, worker: 1 }).toArray();
    expect(hours.map((h) => [h.minute.getTime() - thisHour, h.worker, h.ok, h.failed, h.dead])).toEqual([
      [-5 * HOUR, 'w1', 2, 1, 0],
      [-5 * HOUR, 'w2', 1, 0, 0],
      [-4 * HOUR, 'w1', 0, 0, 1],
    ]);
    expect(hours[0]).toMatchObject({ lastOkAt: new Date(thisHour - 5 * HOUR + 61_000), lastError: 'boom', errors: [{ message: 'boom', n: 1 }] });
    // Reads: the last hour from minutes only; six hours back, hours and minutes together.
    expect(totalsByJob(await readRollups(cols, new Date(now.getTime() - HOUR), now)).get('a')).toMatchObject({ ok: 5, failed: 0 });
    expect(totalsByJob(await readRollups(cols, new Date(now.getTime() - 6 * HOUR), now)).get('a')).toMatchObject({ ok: 8, failed: 1, dead: 1, durationMax: 70 });
    expect(await edgeRollup(cols, { job: 'a', ok: { $gt: 0 } }, -1)).toMatchObject({ ok: 5 });
    expect(await edgeRollup(cols, { job: 'a' }, 1)).toMatchObject({ minute: new Date(thisHour - 5 * HOUR) });
    expect(await foldOldMinutes(cols, now, { maxHours: 10 })).toBe(0);
  });

  it('a folding cut short before the minutes were deleted counts once, in reads and when done again', async () => {
    const cols = collections(fresh());
    const docs = history();
    await cols.runRollups.insertMany(docs);
    // The hourly documents were written, the minutes not deleted yet.
    await cols.runRollupsHourly.insertMany(foldHours(docs.slice(0, 3), now));
    expect(totalsByJob(await readRollups(cols, new Date(now.getTime() - 6 * HOUR), now)).get('a')).toMatchObject({ ok: 8, failed: 1, dead: 1 });
    expect(await foldOldMinutes(cols, now, { maxHours: 10 })).toBe(4);
    expect(totalsByJob(await readRollups(cols, new Date(now.getTime() - 6 * HOUR), now)).get('a')).toMatchObject({ ok: 8, failed: 1, dead: 1 });
    expect(MINUTE_ROLLUPS_KEEP_MS).toBeGreaterThanOrEqual(HOUR);
  });
});
