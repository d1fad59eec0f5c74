/**
 * A lean live set: a one-off job that succeeded leaves `agendaJobs` for `finishedJobs` shortly
 * after, and is still found by `jobs show` and `jobs list --state completed`; a dead-lettered
 * job and a recurring one stay.
 */
import { describe, it, expect, beforeAll } from 'vitest';
import { z } from 'zod';
import { ObjectId } from 'mongodb';
import { useTestDb, type TestDb } from '../support/mongo.ts';
import { startEngine, eventually } from '../support/engine.ts';
import { defineJob } from '../../src/engine/defineJob.ts';
import { collections } from '../../src/db/collections.ts';
import { FINISHED_JOBS } from '../../src/engine/retirement.ts';
import { Jobs } from '../../src/ops/jobs.ts';

let t: TestDb;
beforeAll(async () => {
  t = await useTestDb('retire');
});

const ok = defineJob({ name: 'test.ok', payload: z.object({ i: z.number() }), async handler() {} });
const bad = defineJob({ name: 'test.bad', payload: z.object({}), retry: { maxAttempts: 1, backoffMs: 10 }, async handler() {
  throw new Error('always');
} });

describe('retiring finished one-off jobs', () => {
  it('moves a success out of the live set and keeps it visible; keeps a dead-lettered job in place', async () => {
    const engine = await startEngine(t.db, { jobs: [ok, bad], retireAfterMs: 300 });
    const { id } = await engine.enqueue('test.ok', { i: 1 });
    const { id: badId } = await engine.enqueue('test.bad', {});
    const live = collections(t.db).agendaJobs;
    await eventually(async () => !(await live.findOne({ _id: new ObjectId(id) })), 'the finished job to leave agendaJobs', 20_000);
    const archived = await t.db.collection(FINISHED_JOBS).findOne({ _id: new ObjectId(id) });
    expect(archived).toMatchObject({ name: 'test.ok', data: { i: 1 }, nextRunAt: null, lockedAt: null });
    expect(archived?.lastFinishedAt).toBeInstanceOf(Date);

    const jobs = new Jobs(engine);
    await expect(jobs.show(id)).resolves.toMatchObject({ id, job: 'test.ok', state: 'completed', payload: { i: 1 } });
    const completed = await jobs.list({ state: 'completed' });
    expect(completed.items.map((i) => i.id)).toContain(id);
    expect(completed.total).toBeGreaterThanOrEqual(1);

    await eventually(async () => (await collections(t.db).deadLetters.countDocuments({ jobId: badId })) === 1, 'the bad job in the DLQ', 20_000);
    // Well past the grace: the failed job stays where a DLQ retry requeues it.
    await new Promise((r) => setTimeout(r, 1_000));
    expect(await live.findOne({ _id: new ObjectId(badId) })).toMatchObject({ failCount: 1, nextRunAt: null });
  }, 60_000);
});
