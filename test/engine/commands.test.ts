/**
 * What a successful no-op attempt costs in database commands, counted with the driver's command
 * monitoring on the worker's own connection: at most 6 bare (its share of the scans included),
 * at most 8 with every guard of `serve` on (breaker, rate limit and concurrency for its type).
 * The caches refreshed on a timer (settings, breakers) cost per second, not per attempt: they
 * are printed, not counted.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { MongoClient, type CommandStartedEvent, type Db } from 'mongodb';
import { z } from 'zod';
import { inject } from 'vitest';
import { useTestDb, type TestDb } from '../support/mongo.ts';
import { startEngine, eventually } from '../support/engine.ts';
import { loadConfig } from '../../src/config.ts';
import { startTestApp } from '../support/app.ts';
import { defineJob } from '../../src/engine/defineJob.ts';
import { collections } from '../../src/db/collections.ts';
import { configKey } from '../../src/engine/settings.ts';

const JOBS = 60;
/** Polls and background reads (settings, breakers) at their production pace, as `serve` runs them. */
const PRODUCTION = loadConfig({});
const TIMED_CACHES = new Set(['find settings', 'find breakers']);
const noop = defineJob({ name: 'test.noop', payload: z.object({ i: z.number() }), concurrency: 20, provider: 'nowhere', async handler() {} });

let t: TestDb;
let monitored: MongoClient;
const started: CommandStartedEvent[] = [];
beforeAll(async () => {
  t = await useTestDb('commands');
  monitored = await MongoClient.connect(inject('mongoUrl'), { monitorCommands: true });
  monitored.on('commandStarted', (e) => started.push(e));
});
afterAll(() => monitored?.close());

/** Enqueues the jobs due a moment from now, then counts the worker's commands until all ran. */
async function commandsPerAttempt(db: Db, startWorker: (db: Db) => Promise<unknown>): Promise<{ perAttempt: number; byCommand: Record<string, number> }> {
  const enqueuer = await startEngine(t.client.db(db.databaseName), { jobs: [noop], work: false });
  const at = new Date(Date.now() + 1_500);
  for (let i = 0; i < JOBS; i++) await enqueuer.enqueue('test.noop', { i }, { at });
  await startWorker(db);
  started.length = 0;
  // Watched on the test's own connection, so the watching is not counted.
  const runs = collections(t.client.db(db.databaseName)).jobRuns;
  await eventually(async () => (await runs.countDocuments({ outcome: 'success' })) === JOBS, 'every job to run', 60_000);
  const byCommand: Record<string, number> = {};
  for (const e of started.slice()) {
    const what = `${e.commandName} ${String((e.command as Record<string, unknown>)[e.commandName])}`;
    byCommand[what] = (byCommand[what] ?? 0) + 1;
  }
  const counted = Object.entries(byCommand).reduce((n, [what, k]) => (TIMED_CACHES.has(what) ? n : n + k), 0);
  return { perAttempt: counted / JOBS, byCommand };
}

describe('database commands per attempt', () => {
  it('costs at most 6 bare', async () => {
    const db = monitored.db(`${t.dbName}_bare`);
    const { perAttempt, byCommand } = await commandsPerAttempt(db, (d) => startEngine(d, { jobs: [noop], config: { ENGINE_MAX_CONCURRENCY: 20, GUARD_REFRESH_MS: PRODUCTION.GUARD_REFRESH_MS, ENGINE_PROCESS_EVERY_MS: PRODUCTION.ENGINE_PROCESS_EVERY_MS } }));
    console.info(`bare: ${perAttempt.toFixed(2)} commands per attempt`, JSON.stringify(byCommand));
    expect(perAttempt).toBeLessThanOrEqual(6);
  }, 90_000);

  it('costs at most 8 with every guard on', async () => {
    const db = monitored.db(`${t.dbName}_guarded`);
    const { perAttempt, byCommand } = await commandsPerAttempt(db, async (d) => {
      const app = await startTestApp({ extraJobs: [noop], db: { ...t, db: d } as TestDb, env: { ENGINE_MAX_CONCURRENCY: '20' }, config: { GUARD_REFRESH_MS: PRODUCTION.GUARD_REFRESH_MS, ENGINE_PROCESS_EVERY_MS: PRODUCTION.ENGINE_PROCESS_EVERY_MS } });
      await app.engine.settings.set(configKey('test.noop.rpm'), 100_000);
      await app.engine.settings.set(configKey('test.noop.concurrency'), 20);
      return app;
    });
    console.info(`guarded: ${perAttempt.toFixed(2)} commands per attempt`, JSON.stringify(byCommand));
    expect(perAttempt).toBeLessThanOrEqual(8);
  }, 90_000);

  it('locks a job enqueued by another process by id, without a scan of agendaJobs', async () => {
    const db = monitored.db(`${t.dbName}_announced`);
    const worker = await startEngine(db, { jobs: [noop], config: { GUARD_REFRESH_MS: PRODUCTION.GUARD_REFRESH_MS, ENGINE_PROCESS_EVERY_MS: 200 } });
    const producer = await startEngine(t.client.db(db.databaseName), { jobs: [noop], work: false });
    const runs = collections(t.client.db(db.databaseName)).jobRuns;
    // Idle: the worker has scanned once at its start and knows nothing is due.
    await new Promise((r) => setTimeout(r, 1_000));
    started.length = 0;
    const { id } = await producer.enqueue('test.noop', { i: 1 });
    await eventually(async () => (await runs.countDocuments({ jobId: id, outcome: 'success' })) === 1, 'the announced job to run', 20_000);
    const onJobs = started.filter((e) => (e.command as Record<string, unknown>)[e.commandName] === 'agendaJobs').map((e) => e.commandName);
    console.info('pickup from another process, commands on agendaJobs:', onJobs);
    expect(onJobs.filter((c) => c === 'find')).toEqual([]);
    expect(onJobs.filter((c) => c === 'findAndModify')).toHaveLength(1);
    expect(worker.health().working).toBe(true);
  }, 60_000);
});
