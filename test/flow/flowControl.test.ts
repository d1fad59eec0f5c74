/** Breakers, rate limits and concurrency across two processes, and runtime config validation. */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { z } from 'zod';
import { startTestApp, asUser, type TestApp } from '../support/app.ts';
import { eventually } from '../support/engine.ts';
import { defineJob } from '../../src/engine/defineJob.ts';
import type { BreakerTransition } from '../../src/flow/breakers.ts';
import type { JobRunDoc } from '../../src/db/collections.ts';

// A provider that fails until told to recover.
let providerUp = false;
let providerCalls = 0;
let server: http.Server;
let providerUrl = '';

const callsProvider = defineJob({
  name: 'test.partner',
  payload: z.object({ i: z.number() }),
  provider: 'partner',
  retry: { maxAttempts: 10, backoffMs: 50, jitter: 0 },
  async handler() {
    providerCalls++;
    const res = await fetch(providerUrl);
    if (!res.ok) throw new Error(`HTTP ${res.status}`);
  },
});

let running = 0;
let maxRunning = 0;
const slow = defineJob({
  name: 'test.slow',
  payload: z.object({ i: z.number() }),
  concurrency: 10,
  async handler() {
    running++;
    maxRunning = Math.max(maxRunning, running);
    await new Promise((r) => setTimeout(r, 150));
    running--;
  },
});
// One at a time per process, each taking a moment: while one worker is busy, the other takes the
// next due job, so the limit is really shared by two processes.
const counted = defineJob({
  name: 'test.counted',
  payload: z.object({ i: z.number() }),
  concurrency: 1,
  async handler() {
    await new Promise((r) => setTimeout(r, 400));
  },
});

const jobs = [callsProvider, slow, counted];
let a: TestApp;
let b: TestApp;
const RATE_WINDOW = 1500;

beforeAll(async () => {
  server = http.createServer((_req, res) => {
    res.writeHead(providerUp ? 200 : 503);
    res.end(providerUp ? 'ok' : 'down');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  providerUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  a = await startTestApp({ extraJobs: jobs, rateWindowMs: RATE_WINDOW, env: { CB_FAILURE_THRESHOLD: '3', CB_COOLDOWN_MS: '800' } });
  b = await startTestApp({ extraJobs: jobs, rateWindowMs: RATE_WINDOW, db: a.t, env: { CB_FAILURE_THRESHOLD: '3', CB_COOLDOWN_MS: '800' } });
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));

describe('circuit breaker', () => {
  it('opens after the threshold, defers without spending attempts, half-opens one trial, closes on success', async () => {
    const transitions: BreakerTransition[] = [];
    a.ops.on('breaker', (t) => transitions.push(t));
    b.ops.on('breaker', (t) => transitions.push(t));
    const { id } = await a.ops.jobs.run('test.partner', { i: 1 });
    await eventually(async () => (await a.flow.breakers.list()).find((x) => x.provider === 'partner' && x.state === 'open'), 'breaker open');
    const callsWhenOpen = providerCalls;
    expect(callsWhenOpen).toBe(3);
    // While open, the cool-down holds the job: the only call that may come is the trial after it.
    providerUp = true;
    await eventually(async () => (await a.t.db.collection<JobRunDoc>('jobRuns').findOne({ jobId: id, outcome: 'success' })), 'success after recovery');
    expect(providerCalls).toBe(4);
    // The trial's worker reports its outcome to the breaker just after the run is recorded.
    await eventually(async () => transitions.length >= 3, 'three breaker transitions');
    const states = transitions.map((t) => `${t.from}>${t.to}`);
    expect(states).toEqual(['closed>open', 'open>half-open', 'half-open>closed']);
    const runs = await a.t.db.collection<JobRunDoc>('jobRuns').find({ jobId: id }).sort({ startedAt: 1 }).toArray();
    expect(runs.map((r) => r.attempt)).toEqual([1, 2, 3, 4]);
    // Transitions are audited in the background: wait for the three entries.
    await eventually(async () => (await a.t.db.collection('auditLog').countDocuments({ action: 'breaker_transition', target: 'partner' })) === 3, '3 audit entries');
    const status = await a.dispatcher.run('breakers', asUser('viewer'));
    expect((status.reply.data as { items: unknown[] }).items).toEqual([{ provider: 'partner', state: 'closed', failures: 0, openedAt: null }]);
  });
});

describe('limits across two processes', { timeout: 120_000 }, () => {
  it('an rpm limit holds across two processes in every window', { timeout: 90_000 }, async () => {
    await a.dispatcher.run('config set test.counted.rpm 4', asUser('admin'));
    // No cross-process concurrency cap: only the rpm limit is under test.
    await a.dispatcher.run('config set test.counted.concurrency 0', asUser('admin'));
    await b.engine.settings.refresh();
    const ids = [];
    for (let i = 0; i < 12; i++) ids.push((await a.ops.jobs.run('test.counted', { i })).id);
    const runs = await eventually(async () => {
      const r = await a.t.db.collection<JobRunDoc>('jobRuns').find({ jobName: 'test.counted', outcome: 'success' }).toArray();
      return r.length === 12 && r;
    }, '12 runs', 60_000);
    // Each admitted attempt holds one numbered slot of its window; a window has 4 slots at most.
    const slots = await a.t.db.collection<{ _id: string; group: string; holder: string }>('rateWindows').find({ group: /^job:test\.counted@/ }).toArray();
    const perWindow = new Map<string, number>();
    for (const slot of slots) perWindow.set(slot.group, (perWindow.get(slot.group) ?? 0) + 1);
    expect(Math.max(...perWindow.values())).toBeLessThanOrEqual(4);
    expect(perWindow.size).toBeGreaterThanOrEqual(3);
    // Every run was admitted through a slot, and no slot was given to two runs.
    expect(new Set(slots.map((x) => x.holder))).toEqual(new Set(runs.map((r) => r.jobId)));
    expect(slots).toHaveLength(12);
    expect(new Set(runs.map((r) => r.worker)).size).toBe(2);
  });

  it('a concurrency cap holds across two processes', { timeout: 90_000 }, async () => {
    await a.dispatcher.run('config set test.slow.concurrency 2', asUser('admin'));
    await b.engine.settings.refresh();
    for (let i = 0; i < 10; i++) await a.ops.jobs.run('test.slow', { i });
    await eventually(async () => (await a.t.db.collection('jobRuns').countDocuments({ jobName: 'test.slow', outcome: 'success' })) === 10, '10 slow runs', 60_000);
    expect(maxRunning).toBeLessThanOrEqual(2);
    expect(maxRunning).toBe(2);
  });
});

describe('runtime config', () => {
  it('refuses unknown keys and bad values with the reason, audits changes with old and new', async () => {
    const unknown = await a.dispatcher.run('config set nope.rpm 3', asUser('admin'));
    expect(unknown.status).toBe('usage');
    expect(unknown.reply.text).toContain('`nope` is not a known job');
    const bad = await a.dispatcher.run('config set test.counted.rpm lots', asUser('admin'));
    expect(bad.status).toBe('usage');
    expect(bad.reply.text).toContain('expected a whole number');
    const ok = await a.dispatcher.run('config set test.counted.max_attempts 7', asUser('admin'));
    expect(ok.reply.data).toEqual({ key: 'test.counted.max_attempts', old: 5, value: 7 });
    const entry = await a.t.db.collection('auditLog').findOne({ action: 'config_set', target: 'test.counted.max_attempts' });
    expect(entry?.detail).toEqual({ old: 5, value: 7 });
    const get = await a.dispatcher.run('config get test.counted.max_attempts', asUser('viewer'));
    expect((get.reply.data as { items: unknown[] }).items).toEqual([{ key: 'test.counted.max_attempts', value: 7, default: 5, description: expect.any(String) }]);
    const viewer = await a.dispatcher.run('config set test.counted.rpm 1', asUser('viewer'));
    expect(viewer.status).toBe('denied');
  });
});
