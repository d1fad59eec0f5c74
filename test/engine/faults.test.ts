/**
 * The engine under faults, in one process: a slow fill of Agenda's queue no longer costs a job
 * type its capacity for good; a killed worker's concurrency slot comes back after the lease, a
 * live worker's never; the watchdog reports a wedge once and clears it.
 */
import { describe, it, expect, beforeAll } from 'vitest';
import { z } from 'zod';
import { ObjectId, type Db } from 'mongodb';
import { useTestDb, type TestDb } from '../support/mongo.ts';
import { startEngine, eventually, testLogger } from '../support/engine.ts';
import { defineJob, JobRegistry } from '../../src/engine/defineJob.ts';
import type { Guard } from '../../src/engine/guards.ts';
import { SettingsStore, configKey } from '../../src/engine/settings.ts';
import { collections } from '../../src/db/collections.ts';
import { loadConfig } from '../../src/config.ts';
import { concurrencyGuard } from '../../src/flow/limits.ts';
import { FLOW_CONFIG_KEYS } from '../../src/flow/runtimeConfig.ts';
import { Watchdog, type Wedge } from '../../src/engine/watchdog.ts';

let t: TestDb;
beforeAll(async () => {
  t = await useTestDb('faults');
});
const freshDb = (name: string): Db => t.client.db(`${t.dbName}_${name}`);

describe('a fill of the queue slower than the lock lifetime', () => {
  it('keeps the job type at its full concurrency afterwards', async () => {
    const db = freshDb('slowfill');
    let running = 0;
    let maxRunning = 0;
    const pair = defineJob({
      name: 'test.pair',
      payload: z.object({ i: z.number() }),
      concurrency: 2,
      async handler() {
        running++;
        maxRunning = Math.max(maxRunning, running);
        await new Promise((r) => setTimeout(r, 400));
        running--;
      },
    });
    // Blocks the event loop once, past the lock lifetime, between locking the first job and the
    // second: Agenda then found the first one's lock expired before it started it.
    let armed = false;
    let looks = 0;
    const stall: Guard = {
      name: 'stall',
      heldBeforeLock: () => {
        // The first look after arming locks the first job; the second stalls before the next.
        if (!armed || looks++ !== 1) return false;
        const until = Date.now() + 1_300;
        while (Date.now() < until) {
          /* a slow server, as seen from here */
        }
        return false;
      },
      check: () => ({ ok: true }),
    };
    const engine = await startEngine(db, { jobs: [pair], guards: [stall], config: { ENGINE_LOCK_LIFETIME_MS: 1_000 } });
    for (let i = 0; i < 2; i++) await engine.enqueue('test.pair', { i });
    armed = true;
    const runs = collections(db).jobRuns;
    await eventually(async () => (await runs.countDocuments({ outcome: 'success' })) === 2, 'the first two jobs', 30_000);
    // Afterwards the type must still run two at a time (a leaked lock count halved it before).
    maxRunning = 0;
    for (let i = 2; i < 8; i++) await engine.enqueue('test.pair', { i });
    await eventually(async () => (await runs.countDocuments({ outcome: 'success' })) === 8, 'six more jobs', 30_000);
    expect(maxRunning).toBe(2);
    expect(engine.health().wedged).toBeNull();
  }, 60_000);
});

describe('attempts a killed worker counted but never started', () => {
  it('do not use up the budget: the run records of the budget decide', async () => {
    const db = freshDb('budget');
    const twice = defineJob({ name: 'test.twice', payload: z.object({}), retry: { maxAttempts: 2, backoffMs: 10 }, async handler() {} });
    const producer = await startEngine(db, { jobs: [twice], work: false });
    const { id } = await producer.enqueue('test.twice', {}, { at: new Date(Date.now() + 60_000) });
    // As two workers killed while they held it locked (before its handler) leave it: both
    // attempts counted, no run record, due again.
    await collections(db).agendaJobs.updateOne({ _id: new ObjectId(id) }, { $set: { 'sb.attempts': 2, nextRunAt: new Date() } });
    await startEngine(db, { jobs: [twice] });
    await eventually(async () => (await collections(db).jobRuns.findOne({ jobId: id, outcome: { $ne: 'running' } })) ?? undefined, 'the job to run', 20_000);
    const runs = await collections(db).jobRuns.find({ jobId: id }).toArray();
    expect(runs.map((r) => [r.attempt, r.outcome])).toEqual([[1, 'success']]);
    expect(await collections(db).deadLetters.countDocuments({ jobId: id })).toBe(0);
  }, 30_000);
});

describe('concurrency slots on a lease', () => {
  const config = { ...loadConfig({}), CB_FAILURE_THRESHOLD: 5, CB_COOLDOWN_MS: 60_000, JOB_RUNS_RETENTION_DAYS: 30 };
  const job = defineJob({ name: 'test.leased', payload: z.object({}), async handler() {} });

  async function worker(db: Db, name: string) {
    const settings = new SettingsStore(collections(db).settings, 60_000);
    await settings.set(configKey('test.leased.concurrency'), 1);
    const reclaimed: Array<{ holder: string }> = [];
    const guard = concurrencyGuard(db, settings, { keys: FLOW_CONFIG_KEYS, jobs: new JobRegistry([job]), config }, { worker: name, leaseMs: 1_000, onReclaim: (s) => reclaimed.push(s) });
    return { guard, reclaimed };
  }

  it("takes back a dead worker's slot one lease later, and never a live worker's", async () => {
    const db = freshDb('slots');
    const a = await worker(db, 'worker-a');
    const b = await worker(db, 'worker-b');
    try {
      const held = await a.guard.check({ def: job, jobId: 'job-1' });
      expect(held.ok).toBe(true);
      // A live holder renews: three leases later the slot is still its own.
      await new Promise((r) => setTimeout(r, 3_000));
      expect((await b.guard.check({ def: job, jobId: 'job-2' })).ok).toBe(false);
      // The holder dies (no more heartbeats, no release): the slot comes back after the lease.
      a.guard.stop();
      const died = Date.now();
      await eventually(async () => (await b.guard.check({ def: job, jobId: 'job-3' })).ok, 'the slot to come back', 10_000);
      expect(Date.now() - died).toBeLessThan(1_000 + 1_500);
      expect(b.reclaimed).toEqual([expect.objectContaining({ holder: 'job-1' })]);
    } finally {
      a.guard.stop();
      b.guard.stop();
    }
  }, 30_000);
});

describe('the wedge watchdog', () => {
  it('reports a wedge once when due jobs wait with room to start, and clears when one starts', async () => {
    let lastStart = 0;
    let looks = 0;
    const changes: Array<Wedge | null> = [];
    const dog = new Watchdog({
      everyMs: 1_000,
      quietMs: 5_000,
      log: testLogger(),
      startable: () => ['test.job'],
      // Agenda stopped asking for the type, though scans go on for others.
      lastAskAt: () => 0,
      lastScan: () => ({ at: Date.now(), maxQuietMs: 1_000 }),
      lastStartAt: () => lastStart,
      findDue: async () => {
        looks++;
        return { name: 'test.job', nextRunAt: new Date(0) };
      },
      onTick: () => {},
      onChange: (w) => changes.push(w),
    });
    const t0 = Date.now();
    lastStart = t0;
    await dog.tick(t0 + 1_000); // something started recently: no look
    expect(looks).toBe(0);
    lastStart = t0 - 60_000;
    await dog.tick(t0);
    await dog.tick(t0 + 1_000); // still wedged; looks at most once per quiet period
    expect(looks).toBe(1);
    expect(changes).toHaveLength(1);
    expect(changes[0]?.reason).toMatch(/test\.job has been due since .* nothing started here for \d+ s/);
    expect(dog.current).toEqual(changes[0]);
    lastStart = Date.now();
    await dog.tick();
    expect(changes).toEqual([changes[0], null]);
    expect(dog.current).toBeNull();
  });

  it('does not look while Agenda asks for every type and scans go on (a healthy idle worker)', async () => {
    let looks = 0;
    const dog = new Watchdog({
      everyMs: 1_000,
      quietMs: 5_000,
      log: testLogger(),
      startable: () => ['test.job'],
      lastStartAt: () => 0,
      lastAskAt: () => Date.now(),
      lastScan: () => ({ at: Date.now() - 20_000, maxQuietMs: 30_000 }),
      findDue: async () => {
        looks++;
        return { name: 'test.job', nextRunAt: new Date(0) };
      },
      onTick: () => {},
      onChange: () => {},
    });
    await dog.tick();
    expect(looks).toBe(0);
    expect(dog.current).toBeNull();
  });
});
