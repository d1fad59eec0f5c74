/**
 * Per-minute rollups: the writer counts the engine's events per job type and minute and writes
 * totals (one writer per document); `status` reads them after real attempts in a working app.
 */
import { EventEmitter } from 'node:events';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ObjectId } from 'mongodb';
import { z } from 'zod';
import { collections, type JobRunDoc } from '../../src/db/collections.ts';
import { defineJob } from '../../src/engine/defineJob.ts';
import { Rollups, minuteOf, rollupId } from '../../src/engine/rollups.ts';
import { readRollups, recentErrors, totalsByJob } from '../../src/engine/rollupStore.ts';
import { silentLogger } from '../../src/log.ts';
import type { StatusData } from '../../src/ops/status.ts';
import { asUser, startTestApp } from '../support/app.ts';
import { eventually } from '../support/engine.ts';
import { useTestDb, type TestDb } from '../support/mongo.ts';

let t: TestDb;
beforeAll(async () => {
  t = await useTestDb('rollups');
});
afterAll(async () => {
  await t.db.dropDatabase().catch(() => {});
});

const T0 = Date.UTC(2026, 11, 1, 10, 0, 0);
const log = silentLogger();

/** A writer on a fake engine and a clock the test moves. */
function writer(worker: string, start = T0) {
  const events = new EventEmitter();
  const clock = { now: start };
  const rollups = new Rollups({ db: t.db, worker, events, log, flushEveryMs: 60_000, now: () => clock.now });
  rollups.start();
  return { events, clock, rollups };
}

function run(jobName: string, outcome: JobRunDoc['outcome'], durationMs: number, error?: string): JobRunDoc {
  const finishedAt = new Date(T0 + 1000);
  return {
    _id: new ObjectId(),
    jobId: 'j',
    jobName,
    attempt: 1,
    startedAt: new Date(finishedAt.getTime() - durationMs),
    finishedAt,
    durationMs,
    outcome,
    ...(error ? { error: { message: error, class: 'HttpError' } } : {}),
    counts: {},
    telemetry: [],
    worker: 'w',
    timeoutMs: 1000,
  };
}

const doc = (job: string, minute: number, worker: string) => collections(t.db).runRollups.findOne({ _id: rollupId(job, new Date(minute), worker) });

describe('Rollups', () => {
  it('counts attempts, outcomes, deferrals, durations and the last error (masked) per job type and minute', async () => {
    const { events, rollups } = writer('w1');
    for (const name of ['a.job', 'a.job', 'a.job', 'b.job']) events.emit('attempt', { jobId: 'j', jobName: name, attempt: 1, startedAt: new Date(T0) });
    events.emit('deferred', { jobId: 'j', jobName: 'a.job', reason: 'rate limit', guard: 'rate' });
    events.emit('run', run('a.job', 'success', 40));
    events.emit('run', run('a.job', 'dead', 60, 'HTTP 500'));
    events.emit('run', run('a.job', 'failed', 100, 'HTTP 401 for https://x.io/?token=SECRET123'));
    events.emit('run', run('b.job', 'aborted', 5));
    events.emit('run', null);
    await rollups.flush();
    expect(await doc('a.job', T0, 'w1')).toMatchObject({
      job: 'a.job',
      minute: new Date(T0),
      worker: 'w1',
      started: 3,
      ok: 1,
      failed: 1,
      dead: 1,
      aborted: 0,
      deferred: 1,
      durationSum: 200,
      durationMax: 100,
      lastErrorClass: 'HttpError',
      lastError: 'HTTP 401 for https://x.io/?token=[redacted]',
      lastOkAt: new Date(T0 + 1000),
      errors: [
        { class: 'HttpError', message: 'HTTP 500', n: 1 },
        { class: 'HttpError', message: 'HTTP 401 for https://x.io/?token=[redacted]', n: 1 },
      ],
    });
    expect(await doc('b.job', T0, 'w1')).toMatchObject({ started: 1, aborted: 1, ok: 0, durationSum: 5 });
    await rollups.stop();
    expect(JSON.stringify(await t.db.collection('runRollups').find({}).toArray())).not.toContain('SECRET123');
  });

  it('writes totals, so writing again changes nothing; a new minute gets a document of its own', async () => {
    const { events, clock, rollups } = writer('w2');
    events.emit('run', run('c.job', 'failed', 10, 'boom'));
    await rollups.flush();
    await rollups.flush();
    events.emit('run', run('c.job', 'failed', 10, 'boom'));
    await rollups.flush();
    expect(await doc('c.job', T0, 'w2')).toMatchObject({ failed: 2, errors: [{ class: 'HttpError', message: 'boom', n: 2 }] });
    clock.now = T0 + 61_000;
    events.emit('run', run('c.job', 'success', 10));
    await rollups.stop();
    expect(await doc('c.job', T0, 'w2')).toMatchObject({ failed: 2, ok: 0 });
    expect(await doc('c.job', T0 + 60_000, 'w2')).toMatchObject({ failed: 0, ok: 1 });
    // Events after stop are not counted.
    events.emit('run', run('c.job', 'success', 10));
    expect(await doc('c.job', T0 + 60_000, 'w2')).toMatchObject({ ok: 1 });
  });

  it('continues the totals of a process that restarted within the minute under the same worker name', async () => {
    const first = writer('w3');
    first.events.emit('run', run('d.job', 'failed', 10, 'boom'));
    await first.rollups.stop();
    const second = writer('w3', T0 + 30_000);
    second.events.emit('run', run('d.job', 'failed', 10, 'boom'));
    second.events.emit('run', run('d.job', 'success', 10));
    await second.rollups.stop();
    expect(await doc('d.job', T0, 'w3')).toMatchObject({ failed: 2, ok: 1, errors: [{ message: 'boom', n: 2 }] });
  });

  it('keeps the first five distinct errors of a minute with their counts; triage reads them newest first', async () => {
    const { events, clock, rollups } = writer('w6');
    for (let i = 0; i < 14; i++) events.emit('run', run('f.job', 'failed', 10, `error ${i % 7}`));
    clock.now = T0 + 60_000;
    events.emit('run', run('f.job', 'dead', 10, 'newest'));
    await rollups.stop();
    expect((await doc('f.job', T0, 'w6'))?.errors.map((e) => [e.message, e.n])).toEqual([0, 1, 2, 3, 4].map((i) => [`error ${i}`, 2]));
    const errors = await recentErrors(collections(t.db), ['f.job', 'g.job'], new Date(T0), new Date(T0 + 60_000), 4);
    expect(errors.get('f.job')?.map((e) => e.message)).toEqual(['newest', 'error 0', 'error 0', 'error 1']);
    expect(errors.get('g.job')).toEqual([]);
  });

  it('sums workers and whole minutes from the one holding `since`', async () => {
    const a = writer('w4', T0 + 120_000);
    const b = writer('w5', T0 + 120_000);
    a.events.emit('run', run('e.job', 'failed', 10, 'x'));
    b.events.emit('run', run('e.job', 'success', 30));
    b.clock.now = T0 + 185_000;
    b.events.emit('run', run('e.job', 'success', 50));
    await Promise.all([a.rollups.stop(), b.rollups.stop()]);
    const docs = await readRollups(collections(t.db), new Date(T0 + 150_000), new Date(T0 + 240_000), { job: 'e.job' });
    expect(totalsByJob(docs).get('e.job')).toMatchObject({ ok: 2, failed: 1, durationSum: 90, durationMax: 50 });
    expect(totalsByJob(docs, new Date(T0 + 181_000)).get('e.job')).toMatchObject({ ok: 1, failed: 0 });
    expect(minuteOf(T0 + 59_999)).toEqual(new Date(T0));
  });
});

describe('rollups in a working app', () => {
  it('status shows the failures and success rate of attempts that just ran', async () => {
    const flaky = defineJob({
      name: 'test.rollup',
      payload: z.object({ fail: z.boolean() }),
      retry: { maxAttempts: 1, backoffMs: 10 },
      handler: async ({ payload }) => {
        if (payload.fail) throw new Error('partner said no');
      },
    });
    const app = await startTestApp({ extraJobs: [flaky] });
    for (const fail of [true, false, false, false]) await app.engine.enqueue('test.rollup', { fail });
    const status = async () => {
      const r = await app.dispatcher.run('status', asUser('viewer'));
      return (r.reply.data as StatusData).jobs.find((j) => j.job === 'test.rollup');
    };
    // Written within a few seconds of the attempts (flush every 5 s).
    const seen = await eventually(async () => {
      const s = await status();
      return s && s.successRate15m === 0.75 && s;
    }, 'the rollups in status', 20_000);
    expect(seen.failedLastHour).toBe(1);
  });
});
