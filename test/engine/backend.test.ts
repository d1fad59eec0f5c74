/**
 * Our Agenda backend (src/engine/backend.ts) as Agenda itself uses it: `job.touch()` during a
 * run keeps the job locked and held; and a job that waits for room starts as soon as a slot
 * frees, not at the next quiet rescan.
 */
import { describe, it, expect, beforeAll } from 'vitest';
import { Agenda, type Job } from 'agenda';
import { ObjectId, type Db } from 'mongodb';
import { z } from 'zod';
import { useTestDb, type TestDb } from '../support/mongo.ts';
import { startEngine, eventually } from '../support/engine.ts';
import { SwitchboardBackend } from '../../src/engine/backend.ts';
import { defineJob } from '../../src/engine/defineJob.ts';
import { collections } from '../../src/db/collections.ts';
import { silentLogger } from '../../src/log.ts';

let t: TestDb;
beforeAll(async () => {
  t = await useTestDb('backend');
});
const freshDb = (name: string): Db => t.client.db(`${t.dbName}_${name}`);

describe('the backend under plain Agenda', () => {
  it('keeps a touched job locked and held until its real end', async () => {
    const db = freshDb('touch');
    const backend = new SwitchboardBackend({
      db,
      worker: 'touch-worker',
      lockLifetimeMs: 60_000,
      processEveryMs: 100,
      maxConcurrency: 2,
      log: silentLogger(),
      concurrency: () => new Map([['touchy', 2]]),
      heldBeforeLock: () => false,
    });
    const agenda = new Agenda({ backend, processEvery: 100, name: 'touch-worker' });
    const lockedDuringRun: Array<Date | null | undefined> = [];
    agenda.define('touchy', async (job: Job) => {
      for (let i = 0; i < 2; i++) {
        await job.touch();
        lockedDuringRun.push((await collections(db).agendaJobs.findOne({ _id: new ObjectId(String(job.attrs._id)) }))?.lockedAt);
      }
    });
    await agenda.start();
    try {
      const job = await agenda.now('touchy', {});
      const id = new ObjectId(String(job.attrs._id));
      await eventually(async () => (await collections(db).agendaJobs.findOne({ _id: id }))?.lastFinishedAt, 'the touched job to finish', 20_000);
      expect(lockedDuringRun).toHaveLength(2);
      for (const at of lockedDuringRun) expect(at).toBeInstanceOf(Date);
      expect(await collections(db).agendaJobs.findOne({ _id: id })).toMatchObject({ lockedAt: null, nextRunAt: null });
    } finally {
      await agenda.stop();
    }
  }, 30_000);
});

describe('a job waiting for room', () => {
  it('starts once a slot frees, not at the next quiet rescan', async () => {
    const db = freshDb('room');
    const started: Record<number, number> = {};
    const finished: Record<number, number> = {};
    const one = defineJob({
      name: 'test.one',
      payload: z.object({ i: z.number(), ms: z.number() }),
      concurrency: 1,
      async handler({ payload }) {
        started[payload.i] = Date.now();
        await new Promise((r) => setTimeout(r, payload.ms));
        finished[payload.i] = Date.now();
      },
    });
    // A long lock lifetime: the quiet rescan comes only after 30 s.
    const worker = await startEngine(db, { jobs: [one], config: { ENGINE_LOCK_LIFETIME_MS: 60_000, ENGINE_MAX_CONCURRENCY: 1 } });
    const producer = await startEngine(db, { jobs: [one], work: false });
    await worker.enqueue('test.one', { i: 1, ms: 1_500 });
    await eventually(async () => started[1], 'the first job to start', 20_000);
    // From another process, while the only slot is taken.
    await producer.enqueue('test.one', { i: 2, ms: 10 });
    await eventually(async () => started[2], 'the second job to start', 30_000);
    expect(started[2] - finished[1]).toBeLessThan(5_000);
    expect(await collections(db).jobRuns.countDocuments({ outcome: 'success' })).toBeGreaterThanOrEqual(1);
  }, 60_000);
});

describe('a job locked but given back unrun', () => {
  it('is due again as it was, with its attempt not spent', async () => {
    const db = freshDb('giveback');
    const ran: number[] = [];
    const later = defineJob({
      name: 'test.later',
      payload: z.object({}),
      async handler({ attempt }) {
        ran.push(attempt);
      },
    });
    // Locked a tick early (due within the next poll), then the engine stops before it runs.
    const first = await startEngine(db, { jobs: [later], config: { ENGINE_PROCESS_EVERY_MS: 3_000 } });
    const { id } = await first.enqueue('test.later', {}, { at: new Date(Date.now() + 2_000) });
    const _id = new ObjectId(id);
    await eventually(async () => (await collections(db).agendaJobs.findOne({ _id }))?.lockedAt, 'the job to be locked ahead of time', 10_000);
    await first.stop(500);
    const back = await collections(db).agendaJobs.findOne({ _id });
    expect(back?.lockedAt ?? null).toBeNull();
    expect(back?.nextRunAt).toBeInstanceOf(Date);
    expect(back?.lastRunAt ?? null).toBeNull();
    expect(back?.sb?.attempts ?? 0).toBe(0);
    expect(ran).toEqual([]);
    await startEngine(db, { jobs: [later] });
    await eventually(async () => ran.length > 0, 'the job to run elsewhere', 20_000);
    expect(ran).toEqual([1]);
  }, 40_000);
});
