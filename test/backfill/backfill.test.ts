/**
 * Backfills through the dispatcher: start/status/cancel, every chunk done once against a local
 * provider, a refused admit defers without failing, and a runner SIGKILLed mid-chunk in a child
 * process is resumed from its checkpoint by another engine.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import type { Db } from 'mongodb';
import { createApp, type App } from '../../src/app/index.ts';
import { loadConfig } from '../../src/config.ts';
import type { AgendaJobDoc, JobRunDoc } from '../../src/db/collections.ts';
import { backfillsCollection } from '../../src/engine/backfillStore.ts';
import type { BackfillView } from '../../src/ops/backfills.ts';
import type { DiscoveryDoc } from '../../jobs/discoveryHarvest.ts';
import { startTestApp, asUser, type TestApp } from '../support/app.ts';
import { FAST, eventually, testLogger } from '../support/engine.ts';
import { startFakeDiscovery, type FakeDiscovery } from './provider.ts';

const WAIT_MS = 60_000;
const TEST_MS = 120_000;
const WORKER_SCRIPT = fileURLToPath(new URL('./worker.ts', import.meta.url));

let provider: FakeDiscovery;
let app: TestApp;
const extraApps: App[] = [];
const children: ChildProcess[] = [];
const extraDbs: Db[] = [];

beforeAll(async () => {
  provider = await startFakeDiscovery();
  app = await startTestApp({ env: { DISCOVERY_URL: provider.origin } });
});
// Registered while the file is collected: hooks registered later do not run.
afterAll(async () => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  provider?.release();
  await Promise.all(extraApps.map((a) => a.stop(500).catch(() => {})));
  for (const db of extraDbs) await db.dropDatabase().catch(() => {});
  await provider?.close();
});

const days = (month: string) => [1, 2, 3, 4, 5].map((d) => `2025-${month}-0${d}`);
const run = async (text: string, role: 'viewer' | 'operator' | 'admin' = 'operator', on: App = app) => on.dispatcher.run(text, asUser(role));
const start = async (month: string, on: App = app) => {
  const r = await run(`backfill start discovery.harvest --days 5 --limit 3 {"until":"2025-${month}-05"}`, 'operator', on);
  expect(r.status, r.reply.text).toBe('ok');
  return r.reply.data as BackfillView;
};
const status = async (id: string, on: App = app) => (await run(`backfill status ${id}`, 'viewer', on)).reply.data as BackfillView;
const until = (id: string, want: BackfillView['status'], on: App = app) =>
  eventually(async () => {
    const s = await status(id, on);
    return s.status === want && s;
  }, `backfill ${id} ${want}`, WAIT_MS);
const runnerJob = (db: Db, id: string) => db.collection<AgendaJobDoc>('agendaJobs').findOne({ name: 'backfill.run', 'data.backfillId': id });

describe('backfill start / status', () => {
  it('validates, runs every chunk exactly once, and reports progress and rate', async () => {
    expect((await run('backfill start discovery.harvest --days 2', 'viewer')).status).toBe('denied');
    const bad = await run('backfill start discovery.harvest --days 0');
    expect(bad.status).toBe('usage');
    expect(bad.reply.text).toMatch(/^--days: /);
    expect((await run('backfill start http.invoke --days 2')).reply.text).toContain('has no backfill');
    expect((await run('backfill start nope.job')).reply.text).toContain('Unknown job');

    const started = await start('01');
    expect(started).toMatchObject({ job: 'discovery.harvest', status: 'running', done: 0, total: 5, checkpoint: 0, params: { days: 5, limit: 3, until: '2025-01-05' } });
    const done = await until(started.id, 'completed');
    expect(done).toMatchObject({ id: started.id, done: 5, total: 5, checkpoint: 5, counts: { upserted: 15 } });
    expect(done.rate).toBeGreaterThan(0);
    expect(provider.perDay(days('01'))).toEqual(Object.fromEntries(days('01').map((d) => [d, 1])));
    const stored = await app.t.db.collection<DiscoveryDoc>('discoveries').find({ day: { $in: days('01') } }).toArray();
    expect(stored.map((d) => d._id).sort()).toEqual(days('01').flatMap((d) => [0, 1, 2].map((k) => `${d}-${k}`)).sort());

    const list = await run('backfill status', 'viewer');
    expect((list.reply.data as { items: BackfillView[] }).items.map((i) => i.id)).toContain(started.id);
    const again = await run(`backfill cancel ${started.id}`);
    expect(again.status).toBe('error');
    expect(again.reply.text).toContain('already completed');
    expect(await app.t.db.collection('auditLog').countDocuments({ action: 'backfill_start', outcome: 'ok', target: `discovery.harvest ${started.id}` })).toBe(1);
  }, TEST_MS);
});

describe('backfill cancel', () => {
  it('stops after the chunk in progress', async () => {
    provider.hold('2025-02-02');
    const started = await start('02');
    await provider.requests.waitFor((r) => r.day === '2025-02-02', 'chunk 1 in flight', WAIT_MS);
    const c = await run(`backfill cancel ${started.id}`);
    expect(c.status).toBe('ok');
    expect(c.reply.data).toMatchObject({ status: 'running', cancelRequested: true, changed: true });
    expect(c.reply.text).toContain('will stop after the chunk in progress');
    provider.release();
    const cancelled = await until(started.id, 'cancelled');
    expect(cancelled).toMatchObject({ done: 2, checkpoint: 2, total: 5 });
    expect(provider.perDay(days('02'))).toEqual({ '2025-02-01': 1, '2025-02-02': 1, '2025-02-03': 0, '2025-02-04': 0, '2025-02-05': 0 });
    const job = await runnerJob(app.t.db, started.id);
    expect(job?.failCount ?? 0).toBe(0);
  }, TEST_MS);
});

describe('a refused admit', () => {
  it('defers the runner without failing or spending an attempt, then resumes from the checkpoint', async () => {
    provider.hold('2025-03-02');
    const started = await start('03');
    await provider.requests.waitFor((r) => r.day === '2025-03-02', 'chunk 1 in flight', WAIT_MS);
    expect((await run('jobs pause discovery.harvest --reason "provider maintenance"')).status).toBe('ok');
    provider.release();
    const job = await eventually(async () => (await runnerJob(app.t.db, started.id)) ?? undefined, 'the runner job');
    const runs = app.t.db.collection<JobRunDoc>('jobRuns');
    const deferred = await eventually(
      async () => (await runs.findOne({ jobId: String(job._id), outcome: 'aborted', 'error.message': /paused/ })) ?? undefined,
      'a deferred runner attempt',
      WAIT_MS,
    );
    expect(deferred.error?.message).toMatch(/^chunk 2: job type paused/);
    const waiting = await status(started.id);
    expect(waiting).toMatchObject({ status: 'running', done: 2, checkpoint: 2 });
    expect(provider.perDay(days('03'))).toMatchObject({ '2025-03-03': 0 });
    const held = await runnerJob(app.t.db, started.id);
    expect(held?.sb?.attempts ?? 0).toBe(0);
    expect(held?.failCount ?? 0).toBe(0);

    expect((await run('jobs resume discovery.harvest --reason "back"')).status).toBe('ok');
    await until(started.id, 'completed');
    expect(provider.perDay(days('03'))).toEqual(Object.fromEntries(days('03').map((d) => [d, 1])));
    expect(await runs.countDocuments({ jobId: String(job._id), outcome: { $in: ['failed', 'dead'] } })).toBe(0);
    expect(await app.t.db.collection('deadLetters').countDocuments({ jobId: String(job._id) })).toBe(0);
  }, TEST_MS);
});

describe('a chunk that keeps failing', () => {
  it('defers once after progress, then spends attempts, fails the run, and `dlq retry` resumes it', async () => {
    for (const cmd of ['config set backfill.run.max_attempts 2', 'config set backfill.run.backoff_ms 50']) expect((await run(cmd, 'admin')).status).toBe('ok');
    await app.engine.settings.refresh();
    provider.failingDays.add('2025-05-03');
    const started = await start('05');
    const failed = await until(started.id, 'failed');
    expect(failed).toMatchObject({ done: 2, checkpoint: 2, error: 'HTTP 503: {"error":"down"}' });
    // Chunk 2: once in the attempt that made progress (deferred), then once per attempt of the budget.
    expect(provider.perDay(days('05'))).toEqual({ '2025-05-01': 1, '2025-05-02': 1, '2025-05-03': 3, '2025-05-04': 0, '2025-05-05': 0 });
    const job = await runnerJob(app.t.db, started.id);
    const dead = await eventually(async () => (await app.t.db.collection('deadLetters').findOne({ jobId: String(job!._id) })) ?? undefined, 'the DLQ entry');
    const runs = await app.t.db.collection<JobRunDoc>('jobRuns').find({ jobId: String(job!._id) }).sort({ startedAt: 1 }).toArray();
    expect(runs.map((r) => r.outcome)).toEqual(['aborted', 'failed', 'dead']);

    provider.failingDays.clear();
    expect((await run(`dlq retry ${String(dead._id)}`, 'admin')).status).toBe('ok');
    await until(started.id, 'completed');
    expect(provider.perDay(days('05'))).toEqual({ '2025-05-01': 1, '2025-05-02': 1, '2025-05-03': 4, '2025-05-04': 1, '2025-05-05': 1 });
    for (const key of ['backfill.run.max_attempts', 'backfill.run.backoff_ms']) await run(`config set ${key} default`, 'admin');
  }, TEST_MS);
});

/** An app on `db` without afterAll hooks (created inside a test); stopped by the file's afterAll. */
async function appOn(db: Db, worker: string, work: boolean): Promise<App> {
  const { ENGINE_PROCESS_EVERY_MS, GUARD_REFRESH_MS, SHUTDOWN_GRACE_MS } = FAST;
  const config = Object.freeze({
    ...loadConfig({ DISCOVERY_URL: provider.origin }),
    ENGINE_PROCESS_EVERY_MS,
    GUARD_REFRESH_MS,
    SHUTDOWN_GRACE_MS,
    ENGINE_LOCK_LIFETIME_MS: 1000,
    WORKER_NAME: worker,
  });
  const a = createApp({ config, db, log: testLogger() });
  extraApps.push(a);
  await a.engine.start({ work });
  return a;
}

describe('a runner killed mid-chunk', () => {
  it('is resumed from the checkpoint by another engine: every chunk once, the one in flight twice', async () => {
    const db = app.t.client.db(`${app.t.dbName}_crash`);
    extraDbs.push(db);
    const producer = await appOn(db, 'producer', false);
    provider.hold('2025-04-03');
    const started = await start('04', producer);

    const child = spawn(process.execPath, [WORKER_SCRIPT], {
      env: { ...process.env, SB_TEST_MONGO_URL: app.t.url, SB_TEST_DB: db.databaseName, SB_TEST_WORKER: 'child-worker', SB_TEST_LOCK_MS: '1000', DISCOVERY_URL: provider.origin },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    children.push(child);
    let stderr = '';
    child.stderr?.on('data', (b: Buffer) => (stderr = (stderr + b.toString()).slice(-4000)));
    const exited = once(child, 'exit');
    const inFlight = provider.requests.waitFor((r) => r.day === '2025-04-03', 'chunk 2 in flight in the child', WAIT_MS);
    await Promise.race([inFlight, exited.then(() => Promise.reject(new Error(`worker exited with ${child.exitCode}: ${stderr}`)))]);
    expect(await backfillsCollection(db).findOne({ _id: started.id })).toMatchObject({ checkpoint: 2, status: 'running' });

    child.kill('SIGKILL');
    const [, signal] = await exited;
    expect(signal).toBe('SIGKILL');
    provider.release();

    await appOn(db, 'rescuer', true);
    const done = await until(started.id, 'completed', producer);
    expect(done).toMatchObject({ done: 5, checkpoint: 5, total: 5 });
    expect(provider.perDay(days('04'))).toEqual({ '2025-04-01': 1, '2025-04-02': 1, '2025-04-03': 2, '2025-04-04': 1, '2025-04-05': 1 });
    expect(await db.collection<DiscoveryDoc>('discoveries').countDocuments({})).toBe(15);
    const job = await runnerJob(db, started.id);
    const runs = await db.collection<JobRunDoc>('jobRuns').find({ jobId: String(job!._id) }).sort({ startedAt: 1 }).toArray();
    expect(runs.map((r) => [r.outcome, r.worker])).toEqual([
      ['running', 'child-worker'],
      ['success', 'rescuer'],
    ]);
  }, TEST_MS);
});
