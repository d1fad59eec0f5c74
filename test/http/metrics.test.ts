/** /metrics: attempts, durations, DLQ, breakers, queue depth (background refresh, not per scrape), engine events. */
import { ObjectId } from 'mongodb';
import { beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { defineJob } from '../../src/engine/defineJob.ts';
import type { ReclaimEvent } from '../../src/engine/engine.ts';
import { eventually, nextEvent } from '../support/engine.ts';
import { startServing, type Serving } from './serving.ts';

const ok = defineJob({ name: 'test.metrics-ok', payload: z.object({}), async handler() {} });
const failing = defineJob({ name: 'test.metrics-fail', payload: z.object({}), provider: 'acme', retry: { maxAttempts: 1 }, async handler() { throw new Error('acme is down'); } });

let s: Serving;
beforeAll(async () => {
  s = await startServing({ extraJobs: [ok, failing], env: { CB_FAILURE_THRESHOLD: '1', CB_COOLDOWN_MS: '600000' }, health: { metricsRefreshMs: 300 } });
});

const scrape = async () => (await s.get('/metrics')).text;
/** The value of one sample, e.g. value(text, 'switchboard_job_attempts_total{job="x",outcome="success"}'). */
const value = (text: string, sample: string): number | undefined => {
  const line = text.split('\n').find((l) => l.startsWith(`${sample} `));
  return line === undefined ? undefined : Number(line.slice(sample.length + 1));
};

describe('/metrics', () => {
  it('counts attempts by job and outcome with their durations, and dead letters', async () => {
    const ran = nextEvent(s.app.ops, 'run', (r: { jobName: string }) => r.jobName === ok.name);
    const failed = nextEvent(s.app.ops, 'run', (r: { jobName: string }) => r.jobName === failing.name);
    await s.app.engine.enqueue(ok.name, {});
    await s.app.engine.enqueue(failing.name, {});
    await Promise.all([ran, failed]);
    await eventually(async () => (await s.app.t.db.collection('deadLetters').countDocuments({ jobName: failing.name })) === 1, 'the dead letter');
    // A run is announced before its attempt has given back its slot: wait for that too.
    await eventually(async () => value(await scrape(), 'switchboard_running_attempts') === 0, 'the attempts to end');
    const text = await scrape();
    expect(value(text, `switchboard_job_attempts_total{job="${ok.name}",outcome="success"}`)).toBe(1);
    expect(value(text, `switchboard_job_attempts_total{job="${failing.name}",outcome="dead"}`)).toBe(1);
    expect(value(text, `switchboard_job_attempt_duration_seconds_count{job="${ok.name}"}`)).toBe(1);
    expect(value(text, `switchboard_dead_letters_total{job="${failing.name}"}`)).toBe(1);
    expect(text).toContain('# TYPE switchboard_unhandled_errors_total counter');
    expect(value(text, 'switchboard_running_attempts')).toBe(0);
    expect(value(text, 'switchboard_engine_wedged')).toBe(0);
  });

  it('shows DLQ pending and breaker states from the background refresh', async () => {
    await eventually(async () => {
      const text = await scrape();
      return value(text, 'switchboard_dlq_pending') === 1 && value(text, 'switchboard_breaker_state{provider="acme"}') === 2;
    }, 'dlq pending 1 and the acme breaker open (2)');
  });

  it('reports queue depth and the oldest due age per job type, read in the background, never per scrape', async () => {
    // A second process whose timer never fires within the test: only an explicit refresh may change its gauges.
    const q = await startServing({ db: s.app.t, work: false, extraJobs: [ok, failing], health: { metricsRefreshMs: 3600_000 } });
    await q.health.metrics.refresh();
    const due = new Date(Date.now() - 90_000);
    // A job type no engine here defines stays due: a queue that does not drain.
    await s.app.t.db.collection('agendaJobs').insertMany([
      { _id: new ObjectId(), name: 'test.metrics-nobody', data: {}, nextRunAt: due, lockedAt: null, priority: 0, type: 'normal' },
      { _id: new ObjectId(), name: 'test.metrics-nobody', data: {}, nextRunAt: new Date(), lockedAt: null, priority: 0, type: 'normal' },
      { _id: new ObjectId(), name: 'test.metrics-nobody', data: {}, nextRunAt: new Date(Date.now() + 3600_000), lockedAt: null, priority: 0, type: 'normal' },
    ]);
    const sample = 'switchboard_queue_due_jobs{job="test.metrics-nobody"}';
    const scrapeQ = async () => (await q.get('/metrics')).text;
    expect(value(await scrapeQ(), sample)).toBeUndefined();
    expect(value(await scrapeQ(), sample)).toBeUndefined();
    await q.health.metrics.refresh();
    const text = await scrapeQ();
    expect(value(text, sample)).toBe(2);
    expect(value(text, 'switchboard_queue_oldest_due_age_seconds{job="test.metrics-nobody"}')).toBeGreaterThanOrEqual(90);
    expect(value(text, `switchboard_queue_due_jobs{job="${ok.name}"}`)).toBe(0);
    expect(value(text, `switchboard_queue_oldest_due_age_seconds{job="${ok.name}"}`)).toBe(0);
  });

  it('counts reclaims by kind and poll durations from engine events', async () => {
    const reclaim: ReclaimEvent = { kind: 'concurrency-slot', group: ok.name, holder: 'dead-worker' };
    s.app.engine.emit('reclaim', reclaim);
    s.app.engine.emit('reclaim', reclaim);
    s.app.engine.emit('poll', { durationMs: 12 });
    const text = await scrape();
    expect(value(text, 'switchboard_reclaims_total{kind="concurrency-slot"}')).toBeGreaterThanOrEqual(2);
    expect(value(text, 'switchboard_engine_poll_duration_seconds_count')).toBeGreaterThanOrEqual(1);
  });
});
