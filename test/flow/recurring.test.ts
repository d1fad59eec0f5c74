/**
 * A recurring job (`schedule: '2 seconds'`, an Agenda human interval) run by two engines sharing
 * the database runs once per tick: no two starts within half an interval, and about one run per
 * interval elapsed.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { z } from 'zod';
import { defineJob } from '../../src/engine/defineJob.ts';
import type { Engine } from '../../src/engine/engine.ts';
import type { JobRunDoc } from '../../src/db/collections.ts';
import { useTestDb, type TestDb } from '../support/mongo.ts';
import { startEngine, eventually } from '../support/engine.ts';

const INTERVAL_MS = 2_000;
const TICKS = 4;

const tick = defineJob({
  name: 'test.tick',
  payload: z.object({}),
  schedule: '2 seconds',
  async handler({ count }) {
    count('ticked');
  },
});

let t: TestDb;
const engines: Engine[] = [];

beforeAll(async () => {
  t = await useTestDb('recurring');
});
afterAll(async () => {
  await Promise.all(engines.map((e) => e.stop(500).catch(() => {})));
  await t?.db.dropDatabase().catch(() => {});
  await t?.client.close();
});

describe('a recurring job with two engines', () => {
  it('runs once per tick', { timeout: 120_000 }, async () => {
    // One after the other: the second start finds the schedule the first one created.
    for (const name of ['tick-a', 'tick-b']) engines.push(await startEngine(t.db, { jobs: [tick], config: { WORKER_NAME: name } }));
    const bothUp = new Date();
    const runs = t.db.collection<JobRunDoc>('jobRuns');
    const seen = await eventually(async () => {
      const r = await runs.find({ jobName: 'test.tick', startedAt: { $gte: bothUp } }).sort({ startedAt: 1 }).toArray();
      return r.length >= TICKS && r;
    }, `${TICKS} ticks`, 60_000);
    const observedAt = Date.now();

    expect(await t.db.collection('agendaJobs').countDocuments({ name: 'test.tick' })).toBe(1);
    const starts = seen.map((r) => r.startedAt.getTime());
    const gaps = starts.slice(1).map((s, i) => s - starts[i]);
    expect(Math.min(...gaps), `gaps ${gaps.join(', ')} ms`).toBeGreaterThanOrEqual(INTERVAL_MS / 2);
    // Runs ≈ ticks elapsed since the first one: never more, and not far fewer on a loaded machine.
    const ticksElapsed = (observedAt - starts[0]) / INTERVAL_MS;
    expect(seen.length).toBeLessThanOrEqual(Math.floor(ticksElapsed) + 1);
    expect(seen.length).toBeGreaterThanOrEqual(Math.floor(ticksElapsed / 2));
    expect(seen.filter((r) => r.outcome === 'failed' || r.outcome === 'dead')).toEqual([]);
    await Promise.all(engines.map((e) => e.stop(500)));
  });
});
