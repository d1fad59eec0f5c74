/** `status` counts exactly on a seeded collection of several thousand jobs, runs (and their rollups) and dead letters. */
import { describe, it, expect, beforeAll } from 'vitest';
import { ObjectId } from 'mongodb';
import { startTestApp, asUser, type TestApp } from '../support/app.ts';
import type { StatusData } from '../../src/ops/status.ts';
import type { JobRunDoc } from '../../src/db/collections.ts';
import { seedRollups } from '../alerting/helpers.ts';

let app: TestApp;
const now = Date.now();
let oldestHttp = Infinity;

beforeAll(async () => {
  app = await startTestApp({ work: false });
  const jobs = [];
  // 3000 jobs of two types: per type 600 queued (due), 300 scheduled, 50 locked, 550 finished.
  for (let i = 0; i < 3000; i++) {
    const name = i % 2 ? 'feeds.sync' : 'http.invoke';
    const k = Math.floor(i / 2) % 30;
    const state = k < 12 ? 'queued' : k < 18 ? 'scheduled' : k < 19 ? 'running' : 'done';
    if (state === 'queued' && name === 'http.invoke') oldestHttp = Math.min(oldestHttp, now - 60_000 - i);
    jobs.push({
      _id: new ObjectId(),
      name,
      data: {},
      nextRunAt: state === 'queued' ? new Date(now - 60_000 - i) : state === 'scheduled' ? new Date(now + 3600_000) : state === 'running' ? null : null,
      lockedAt: state === 'running' ? new Date(now) : null,
      failCount: 0,
    });
  }
  await app.t.db.collection('agendaJobs').insertMany(jobs);
  const runs: JobRunDoc[] = [];
  for (let i = 0; i < 400; i++) {
    const startedAt = new Date(now - (i % 2 ? 5 * 60_000 : 30 * 60_000));
    runs.push({
      _id: new ObjectId(),
      jobId: 'x',
      jobName: 'http.invoke',
      attempt: 1,
      startedAt,
      finishedAt: new Date(startedAt.getTime() + 20),
      durationMs: 20,
      outcome: i % 4 < 2 ? 'failed' : 'success',
      counts: {},
      telemetry: [],
      worker: 'w',
      timeoutMs: 1,
    });
  }
  await app.t.db.collection('jobRuns').insertMany(runs);
  await seedRollups(app.t.db, runs);
  const dls = [];
  for (let i = 0; i < 1200; i++) {
    dls.push({ jobId: `j${i}`, generation: 0, jobName: 'http.invoke', payload: {}, error: { message: 'x', class: 'Error' }, attempts: 1, reason: 'retries_exhausted', firstFailedAt: new Date(now), lastFailedAt: new Date(now), status: i % 3 === 0 ? 'retry_scheduled' : i % 3 === 1 ? 'pending' : 'deleted', createdAt: new Date(now) });
  }
  // Deleted ones are in the history, where `dlq delete` moves them.
  await app.t.db.collection('deadLetters').insertMany(dls.filter((d) => d.status !== 'deleted'));
  await app.t.db.collection('deadLetterHistory').insertMany(dls.filter((d) => d.status === 'deleted'));
});

describe('status', () => {
  it('counts every state per job type, failures, success rate and the DLQ', async () => {
    const r = await app.dispatcher.run('status', asUser('viewer'));
    expect(r.status).toBe('ok');
    const s = r.reply.data as StatusData;
    const http = s.jobs.find((j) => j.job === 'http.invoke')!;
    const feeds = s.jobs.find((j) => j.job === 'feeds.sync')!;
    expect([http.queued, http.scheduled, http.running]).toEqual([600, 300, 50]);
    expect([feeds.queued, feeds.scheduled, feeds.running]).toEqual([600, 300, 50]);
    // 400 runs in the last hour, half failed; 200 of them in the last 15 minutes, half of those failed.
    expect(http.failedLastHour).toBe(200);
    expect(http.successRate15m).toBe(0.5);
    expect(http.oldestOverdueAt!.getTime()).toBe(oldestHttp);
    expect(s.dlq).toEqual({ pending: 400, retry_scheduled: 400 });
    expect(Math.abs(new Date(s.at).getTime() - Date.now())).toBeLessThan(10_000);
    expect(r.reply.text).toContain('1200 queued');
  });
});
