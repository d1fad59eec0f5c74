/**
 * The example `inbox.generate` job through a real engine: queue capacity, the dedupe window,
 * re-runs that insert nothing, counts and telemetry in the run record; and the OpenAI generator
 * against the local fake (success; a failure counts as an error for that user, no fallback).
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import type { Db } from 'mongodb';
import { useTestDb, type TestDb } from '../support/mongo.ts';
import { startEngine, nextEvent } from '../support/engine.ts';
import { startFakeOpenAI, type FakeOpenAI } from '../support/fakeOpenAI.ts';
import { deterministicGenerator, inboxGenerateJob, type InboxDoc, type UserDoc } from '../../jobs/inboxGenerate.ts';
import type { Engine } from '../../src/engine/engine.ts';
import type { JobRunDoc } from '../../src/db/collections.ts';

const DAY_MS = 86_400_000;
let t: TestDb;
let plain: Engine;
let ai: Engine;
let aiDb: Db;
let fake: FakeOpenAI;

beforeAll(async () => {
  t = await useTestDb('inbox');
  aiDb = t.client.db(`${t.dbName}_ai`);
  fake = await startFakeOpenAI();
  plain = await startEngine(t.db, { jobs: [inboxGenerateJob()] });
  ai = await startEngine(aiDb, { jobs: [inboxGenerateJob({ openai: { apiKey: 'sk-test', baseURL: fake.baseURL, model: 'gpt-4o-mini', timeoutMs: 5_000 } })] });
});
afterAll(async () => {
  await Promise.all([plain?.stop(500), ai?.stop(500)]);
  await fake?.close();
  await aiDb?.dropDatabase().catch(() => {});
  await t?.db.dropDatabase().catch(() => {});
  await t?.client.close();
});

/** Enqueues one run and resolves with its finished run record. */
async function generate(engine: Engine, payload: Record<string, unknown>): Promise<JobRunDoc> {
  const done = nextEvent<JobRunDoc>(engine, 'run', (r) => r.jobName === 'inbox.generate', 30_000);
  await engine.enqueue('inbox.generate', payload);
  return done;
}

const users = (db: Db) => db.collection<UserDoc>('users');
const inbox = (db: Db) => db.collection<InboxDoc>('inbox');
const openOf = (db: Db, user: string) => inbox(db).countDocuments({ user, status: 'open' });
const today = () => new Date().toISOString().slice(0, 10);
const ago = (days: number) => new Date(Date.now() - days * DAY_MS);
const item = (user: string, key: string, createdAt: Date, status: InboxDoc['status']): InboxDoc => ({
  _id: `${user}:${key}:seed`, user, key, title: key, body: '', status, day: createdAt.toISOString().slice(0, 10), generator: 'seed', createdAt,
});

describe('inbox.generate (deterministic generator)', () => {
  it('fills each queue up to its capacity, skips full ones, and records counts and telemetry', async () => {
    const t0 = Date.now();
    await users(t.db).insertMany([
      { _id: 'u1', name: 'Ann', createdAt: new Date(t0) },
      { _id: 'u2', name: 'Bob', createdAt: new Date(t0 + 1) },
      { _id: 'u3', name: 'Cy', createdAt: new Date(t0 + 2) },
    ]);
    await inbox(t.db).insertMany([
      item('u2', 'old-a', ago(30), 'open'),
      item('u2', 'old-b', ago(30), 'open'),
      ...['x', 'y', 'z'].map((k) => item('u3', k, ago(30), 'open')),
    ]);
    const run = await generate(plain, { queue: 3 });
    expect(run.outcome).toBe('success');
    expect(run.counts).toEqual({ users: 3, inserted: 4, queue_full: 1 });
    expect(run.telemetry.map((x) => [x.tool, x.data.model, x.data.user])).toEqual([
      ['generator', 'deterministic', 'u1'],
      ['generator', 'deterministic', 'u2'],
    ]);
    expect(typeof run.telemetry[0].data.ms).toBe('number');
    expect([await openOf(t.db, 'u1'), await openOf(t.db, 'u2'), await openOf(t.db, 'u3')]).toEqual([3, 3, 3]);

    const limited = await generate(plain, { queue: 5, limit: 1 });
    // Only the oldest user; her new room is taken by today's observations already (the window).
    expect(limited.counts).toEqual({ users: 1, skipped: 2 });
  });

  it('a re-run with the same parameters inserts nothing, even once the queue has room again', async () => {
    const before = await inbox(t.db).countDocuments({});
    const rerun = await generate(plain, { queue: 3 });
    expect(rerun.counts).toEqual({ users: 3, queue_full: 3 });
    // Ann dismisses everything: her queue has room, but today's observations are within the window.
    await inbox(t.db).updateMany({ user: 'u1' }, { $set: { status: 'dismissed' } });
    const again = await generate(plain, { queue: 3, user: 'u1' });
    expect(again.counts).toMatchObject({ users: 1, skipped: 3 });
    expect(again.counts.inserted ?? 0).toBe(0);
    expect(await inbox(t.db).countDocuments({})).toBe(before);
  });

  it('skips a key seen within the window and allows one seen before it', async () => {
    await users(t.db).insertOne({ _id: 'u4', name: 'Dee', createdAt: new Date() });
    const { observations } = await deterministicGenerator().generate({ user: { id: 'u4', name: 'Dee' }, day: today(), count: 3, avoid: [], signal: new AbortController().signal });
    const [recent, old, fresh] = observations.map((o) => o.key);
    await inbox(t.db).insertMany([item('u4', recent, ago(5), 'dismissed'), item('u4', old, ago(20), 'dismissed')]);
    const run = await generate(plain, { user: 'u4', queue: 3, window: 14 });
    expect(run.counts).toEqual({ users: 1, inserted: 2, skipped: 1 });
    const open = await inbox(t.db).find({ user: 'u4', status: 'open' }).toArray();
    expect(open.map((d) => d.key).sort()).toEqual([old, fresh].sort());
  });
});

describe('inbox.generate (OpenAI generator against the fake)', () => {
  const answer = (...keys: string[]) => JSON.stringify({ observations: keys.map((k) => ({ key: k, title: `About ${k}`, body: 'Body.' })) });

  it('inserts what the model suggests, with model and tokens in the telemetry', async () => {
    await users(aiDb).insertMany([
      { _id: 'v1', name: 'Vi', createdAt: new Date(Date.now() - 2) },
      { _id: 'v2', name: 'Wu', createdAt: new Date(Date.now() - 1) },
    ]);
    fake.respondWith(answer('Sleep', 'focus'));
    const run = await generate(ai, { queue: 2 });
    expect(run.outcome).toBe('success');
    expect(run.counts).toEqual({ users: 2, inserted: 4 });
    expect(run.telemetry).toHaveLength(2);
    expect(run.telemetry[0].data).toMatchObject({ model: 'gpt-4o-mini', user: 'v1' });
    expect(run.telemetry[0].data.tokens).toBeGreaterThan(0);
    expect((await inbox(aiDb).find({ user: 'v1' }).toArray()).map((d) => d.key).sort()).toEqual(['focus', 'sleep']);
    expect(fake.requests[0].body).toMatchObject({ model: 'gpt-4o-mini', response_format: { type: 'json_object' } });
  });

  it('counts a failed call as an error for that user and carries on; fails the run only if every user failed', async () => {
    fake.reset();
    fake.respondWithStatus(500);
    fake.respondWith(answer('energy'));
    const run = await generate(ai, { queue: 3 });
    expect(run.outcome).toBe('success');
    expect(run.counts).toEqual({ users: 2, errors: 1, inserted: 1 });
    expect(run.telemetry[0].data).toMatchObject({ user: 'v1', error: expect.stringMatching(/500/) });
    expect(fake.requests).toHaveLength(2);

    fake.reset();
    fake.respondWithStatus(500);
    fake.respondWithStatus(503);
    const failed = await generate(ai, { queue: 4 });
    expect(failed.outcome).toBe('failed');
    expect(failed.counts).toEqual({ users: 2, errors: 2 });
    expect(failed.error?.message).toContain('failed for all 2 users');
  });
});
