import { describe, it, expect, beforeAll } from 'vitest';
import { z } from 'zod';
import { ObjectId } from 'mongodb';
import { useTestDb, type TestDb } from '../support/mongo.ts';
import { startEngine, nextEvent, eventually } from '../support/engine.ts';
import { defineJob } from '../../src/engine/defineJob.ts';
import type { DeadLetterDoc, JobRunDoc } from '../../src/db/collections.ts';
import { KILL_SWITCH_KEY } from '../../src/engine/settings.ts';
import type { Engine } from '../../src/engine/engine.ts';

let t: TestDb;
let engine: Engine;
let flaky = { failing: true };

const alwaysFails = defineJob({
  name: 'test.fails',
  payload: z.object({ n: z.number() }),
  retry: { maxAttempts: 3, backoffMs: 400, factor: 2, jitter: 0.2 },
  async handler() {
    throw new Error('provider said no');
  },
});
const flakyJob = defineJob({
  name: 'test.flaky',
  payload: z.object({}),
  retry: { maxAttempts: 1 },
  async handler({ count }) {
    if (flaky.failing) throw new TypeError('still broken');
    count('done');
  },
});
const quick = defineJob({
  name: 'test.quick',
  payload: z.object({ i: z.number() }),
  concurrency: 5,
  async handler({ count }) {
    count('ran');
  },
});

beforeAll(async () => {
  t = await useTestDb('engine');
  engine = await startEngine(t.db, { jobs: [alwaysFails, flakyJob, quick] });
});

describe('retries and the dead-letter queue', () => {
  it('retries a failing job with growing delays, then dead-letters it with the attempts and error', async () => {
    const dead = nextEvent<DeadLetterDoc>(engine, 'dead-letter', (d) => d.jobName === 'test.fails');
    const { id } = await engine.enqueue('test.fails', { n: 1 });
    const entry = await dead;
    expect(entry).toMatchObject({ jobId: id, attempts: 3, status: 'pending', reason: 'retries_exhausted', payload: { n: 1 } });
    expect(entry.error).toMatchObject({ message: 'provider said no', class: 'Error' });
    const runs = await t.db.collection<JobRunDoc>('jobRuns').find({ jobId: id }).sort({ startedAt: 1 }).toArray();
    expect(runs.map((r) => [r.attempt, r.outcome])).toEqual([[1, 'failed'], [2, 'failed'], [3, 'dead']]);
    const gap1 = runs[1].startedAt.getTime() - runs[0].finishedAt!.getTime();
    const gap2 = runs[2].startedAt.getTime() - runs[1].finishedAt!.getTime();
    expect(gap1).toBeGreaterThanOrEqual(300);
    expect(gap2).toBeGreaterThan(gap1);
    expect(entry.firstFailedAt.getTime()).toBeLessThanOrEqual(entry.lastFailedAt.getTime());
    // the job is final: no further run is scheduled
    const job = await t.db.collection('agendaJobs').findOne({ _id: new ObjectId(id) });
    expect(job?.nextRunAt).toBeNull();
  });

  it('sends a payload that fails its schema straight to the DLQ', async () => {
    const dead = nextEvent<DeadLetterDoc>(engine, 'dead-letter', (d) => d.jobName === 'test.fails');
    const job = engine.agenda.create('test.fails', { n: 'not a number' });
    await job.save();
    const entry = await dead;
    expect(entry).toMatchObject({ jobId: String(job.attrs._id), attempts: 1, reason: 'invalid_payload' });
    expect(entry.error.class).toBe('PayloadError');
    expect(entry.error.message).toContain('n:');
  });

  it('refuses to enqueue an invalid payload, naming the field', async () => {
    await expect(engine.enqueue('test.fails', { n: 'x' })).rejects.toThrow(/^n: /);
  });
});

describe('kill switch', () => {
  it('holds 20 queued jobs while on, runs all 20 after off, none failed', async () => {
    await engine.settings.set(KILL_SWITCH_KEY, { active: true, reason: 'test' });
    const ids = await Promise.all(Array.from({ length: 20 }, (_, i) => engine.enqueue('test.quick', { i }).then((r) => r.id)));
    // Ten scan cycles and guard refreshes pass: nothing may start.
    await new Promise((r) => setTimeout(r, 1200));
    const runs = t.db.collection<JobRunDoc>('jobRuns');
    expect(await runs.countDocuments({ jobName: 'test.quick' })).toBe(0);
    const held = await t.db.collection('agendaJobs').find({ name: 'test.quick' }).toArray();
    expect(held).toHaveLength(20);
    expect(held.every((j) => j.nextRunAt !== null && !j.failCount)).toBe(true);

    await engine.settings.set(KILL_SWITCH_KEY, { active: false, reason: 'done' });
    await eventually(async () => (await runs.countDocuments({ jobName: 'test.quick', outcome: 'success' })) === 20, '20 successes');
    const all = await runs.find({ jobName: 'test.quick' }).toArray();
    expect(all.filter((r) => r.outcome !== 'success')).toEqual([]);
    expect(new Set(all.map((r) => r.jobId))).toEqual(new Set(ids));
    expect(all.every((r) => r.attempt === 1)).toBe(true);
  });
});

describe('dead-letter retry', () => {
  it('a retried dead letter that then succeeds ends `retried`, with a fresh attempt budget', async () => {
    flaky.failing = true;
    const dead = nextEvent<DeadLetterDoc>(engine, 'dead-letter', (d) => d.jobName === 'test.flaky');
    const { id } = await engine.enqueue('test.flaky', {});
    const entry = await dead;
    const { Ops } = await import('../../src/ops/index.ts');
    const { FlowControl } = await import('../../src/flow/index.ts');
    const { loadConfig } = await import('../../src/config.ts');
    const flow = new FlowControl(t.db, loadConfig({}), engine.jobs);
    flow.guards(engine.settings);
    const { AlertOps } = await import('../../src/alerting/alertOps.ts');
    const { AlertStore } = await import('../../src/alerting/store.ts');
    const { ActionTokens } = await import('../../src/chat/actions.ts');
    const ops = new Ops(engine, flow, { alerts: new AlertOps({ store: new AlertStore(t.db), rules: [], config: engine.settings }), tokens: new ActionTokens(t.db) });
    flaky.failing = false;
    const ok = nextEvent<JobRunDoc>(engine, 'run', (r) => r?.jobId === id && r.outcome === 'success');
    const res = await ops.deadLetters.retry({ ids: [String(entry._id)] }, { platform: 'cli', id: 'me', name: 'me' });
    expect(res.done).toEqual([String(entry._id)]);
    const run = await ok;
    expect(run.attempt).toBe(1);
    const after = await eventually(async () => {
      const d = await t.db.collection<DeadLetterDoc>('deadLetters').findOne({ _id: entry._id });
      return d?.status === 'retried' && d;
    }, 'entry retried');
    expect(after.actedBy?.id).toBe('me');
  });
});
