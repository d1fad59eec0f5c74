/**
 * Locks across workers: renewal keeps a second engine off a long job, every job runs once with
 * two engines, a SIGKILLed worker's job is retaken, a dead worker's claim does not hold a job, a
 * graceful stop hands the job back, and the start-up reconciler moves an exhausted job to the DLQ
 * once.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { ObjectId, type Db } from 'mongodb';
import { useTestDb, type TestDb } from '../support/mongo.ts';
import { startEngine, eventually, type StartEngineOptions } from '../support/engine.ts';
import { executions, hangOnceJob, longJob, shortJob } from '../support/testJobs.ts';
import { collections, type AgendaJobDoc } from '../../src/db/collections.ts';
import type { Engine } from '../../src/engine/engine.ts';
import { RunClaims, type ClaimDoc } from '../../src/engine/claims.ts';

const LOCK_MS = 1000;
// Generous: the machine has two cores and other test runs share them.
const WAIT_MS = 60_000;
const TEST_MS = 120_000;
const WORKER_SCRIPT = fileURLToPath(new URL('../support/worker.ts', import.meta.url));

let t: TestDb;
const engines: Engine[] = [];
const children: ChildProcess[] = [];
const dbs: Db[] = [];

beforeAll(async () => {
  t = await useTestDb('locks');
});
// Registered while the file is collected: hooks registered later (in beforeAll or a test) do not run.
afterAll(async () => {
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  await Promise.all(engines.map((e) => e.stop(500).catch(() => {})));
  for (const db of [...dbs, t?.db]) await db?.dropDatabase().catch(() => {});
  await t?.client.close();
});

/** A database of its own per test, so engines of one test never see another's jobs. */
function freshDb(name: string): Db {
  const db = t.client.db(`${t.dbName}_${name}`);
  dbs.push(db);
  return db;
}

/** An engine that knows only the job types a test uses: fewer scans on a shared, busy server. */
async function engineOn(db: Db, opts: StartEngineOptions): Promise<Engine> {
  const engine = await startEngine(db, { ...opts, config: { ENGINE_LOCK_LIFETIME_MS: LOCK_MS, ...opts.config } });
  engines.push(engine);
  return engine;
}

const job = (db: Db, id: string) => collections(db).agendaJobs.findOne({ _id: new ObjectId(id) });
/** Agenda saved the job's final state: unlocked, nothing scheduled, so no engine can take it again. */
const settled = (doc: AgendaJobDoc | null): doc is AgendaJobDoc => !!doc && doc.lockedAt == null && doc.nextRunAt == null && !!doc.lastFinishedAt;

describe('lock renewal with two engines', () => {
  it('runs a job longer than the lock lifetime exactly once', async () => {
    const db = freshDb('long');
    const a = await engineOn(db, { jobs: [longJob], config: { WORKER_NAME: 'worker-a' } });
    const b = await engineOn(db, { jobs: [longJob], config: { WORKER_NAME: 'worker-b' } });
    const { id } = await a.enqueue('test.long', { ms: 3 * LOCK_MS });

    const finalDoc = await eventually(async () => {
      const doc = await job(db, id);
      return settled(doc) ? doc : undefined;
    }, 'the long job to finish', WAIT_MS);
    const runs = await collections(db).jobRuns.find({ jobId: id }).toArray();
    expect(runs.map((r) => [r.attempt, r.outcome])).toEqual([[1, 'success']]);
    expect(runs[0].durationMs).toBeGreaterThanOrEqual(3 * LOCK_MS);
    expect(['worker-a', 'worker-b']).toContain(runs[0].worker);
    const ran = await executions(db).find({ jobId: id }).toArray();
    expect(ran.map((e) => e.phase).sort()).toEqual(['end', 'start']);
    expect(finalDoc.failCount ?? 0).toBe(0);
    expect(finalDoc.sb?.attempts).toBe(1);
    await Promise.all([a.stop(500), b.stop(500)]);
  }, TEST_MS);

  it('runs each of 30 short jobs exactly once', async () => {
    const db = freshDb('short');
    // Locks that outlive a loaded machine's slowest lock-to-start: this is about racing for due
    // jobs, not about expiry (an expired lock is retaken by design: at least once).
    const config = { ENGINE_LOCK_LIFETIME_MS: 15_000 };
    const a = await engineOn(db, { jobs: [shortJob], config: { ...config, WORKER_NAME: 'worker-a' } });
    const b = await engineOn(db, { jobs: [shortJob], config: { ...config, WORKER_NAME: 'worker-b' } });
    const ids: string[] = [];
    for (let i = 0; i < 30; i++) ids.push((await (i % 2 ? a : b).enqueue('test.short', { i })).id);

    const jobs = collections(db).agendaJobs;
    await eventually(
      async () => (await jobs.countDocuments({ name: 'test.short', lockedAt: null, nextRunAt: null, lastFinishedAt: { $ne: null } })) === 30,
      '30 short jobs to finish',
      WAIT_MS,
    );
    const perJob = new Map<string, number>();
    for (const e of await executions(db).find({ job: 'test.short' }).toArray()) perJob.set(e.jobId, (perJob.get(e.jobId) ?? 0) + 1);
    expect([...perJob.keys()].sort()).toEqual([...ids].sort());
    expect([...perJob.entries()].filter(([, n]) => n !== 1)).toEqual([]);
    const runs = await collections(db).jobRuns.find({ jobName: 'test.short' }).toArray();
    expect(runs).toHaveLength(30);
    expect(runs.filter((r) => r.outcome !== 'success' || r.attempt !== 1)).toEqual([]);
    await Promise.all([a.stop(500), b.stop(500)]);
  }, TEST_MS);
});

describe('a worker killed mid-job', () => {
  it('has its job retaken after the lock expires and completed', async () => {
    const db = freshDb('kill');
    const producer = await engineOn(db, { jobs: [hangOnceJob], work: false });
    const { id } = await producer.enqueue('test.hang-once', {});

    const child = spawn(process.execPath, [WORKER_SCRIPT], {
      env: { ...process.env, SB_TEST_MONGO_URL: t.url, SB_TEST_DB: db.databaseName, SB_TEST_WORKER: 'child-worker', SB_TEST_LOCK_MS: String(LOCK_MS) },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    children.push(child);
    let stderr = '';
    child.stderr?.on('data', (b: Buffer) => (stderr = (stderr + b.toString()).slice(-4000)));
    const exited = once(child, 'exit');

    const marker = await eventually(
      async () => {
        if (child.exitCode !== null) throw new Error(`worker exited with ${child.exitCode}: ${stderr}`);
        return (await db.collection<{ _id: string; pid: number }>('markers').findOne({ _id: id })) ?? undefined;
      },
      'the child to start the job',
      WAIT_MS,
    );
    expect(marker.pid).toBe(child.pid);
    child.kill('SIGKILL');
    const [, signal] = await exited;
    expect(signal).toBe('SIGKILL');
    const killedAt = Date.now();

    const engine = await engineOn(db, { jobs: [hangOnceJob], config: { WORKER_NAME: 'rescuer' } });
    const doc = await eventually(async () => {
      const d = await job(db, id);
      return settled(d) ? d : undefined;
    }, 'the job to be retaken and finished', WAIT_MS);

    const runs = await collections(db).jobRuns.find({ jobId: id }).sort({ startedAt: 1 }).toArray();
    expect(runs.map((r) => [r.attempt, r.outcome, r.worker])).toEqual([
      [1, 'running', 'child-worker'],
      [2, 'success', 'rescuer'],
    ]);
    // Not before the dead worker's lock ran out.
    expect(runs[1].startedAt.getTime()).toBeGreaterThanOrEqual(killedAt);
    expect(doc.sb?.attempts).toBe(2);
    expect(doc.failCount ?? 0).toBe(0);
    const ran = await executions(db).find({ jobId: id }).sort({ at: 1 }).toArray();
    expect(ran.map((e) => [e.phase, e.pid])).toEqual([
      ['start', child.pid],
      ['start', process.pid],
      ['end', process.pid],
    ]);
    expect(await collections(db).deadLetters.countDocuments({ jobId: id })).toBe(0);
    await engine.stop(500);
  }, TEST_MS);
});

describe('a worker that died between claiming and locking a job', () => {
  it('does not hold the job: its claim is taken over once a lock lifetime old', async () => {
    const db = freshDb('claim');
    const producer = await engineOn(db, { jobs: [shortJob], work: false });
    const { id } = await producer.enqueue('test.short', { i: 1 }, { at: new Date(Date.now() - 10_000) });
    const state = await job(db, id);
    const claimId = await new RunClaims(db, 'dead-worker', LOCK_MS).claim(state!);
    expect(claimId).toBeDefined();
    const claims = db.collection<ClaimDoc>('jobClaims');
    const claimedAt = new Date(Date.now() - 2 * LOCK_MS);
    await claims.updateOne({ _id: claimId! }, { $set: { at: claimedAt } });

    const engine = await engineOn(db, { jobs: [shortJob], config: { WORKER_NAME: 'survivor' } });
    const doc = await eventually(async () => {
      const d = await job(db, id);
      return settled(d) ? d : undefined;
    }, 'the job to run despite the dead claim', WAIT_MS);
    expect(doc.sb?.attempts).toBe(1);
    const runs = await collections(db).jobRuns.find({ jobId: id }).toArray();
    expect(runs.map((r) => [r.attempt, r.outcome, r.worker])).toEqual([[1, 'success', 'survivor']]);
    expect(await executions(db).countDocuments({ jobId: id })).toBe(1);
    const takeover = await claims.findOne({ _id: `${claimId}#${claimedAt.getTime()}` });
    expect(takeover?.worker).toBe('survivor');
    await engine.stop(500);
  }, TEST_MS);
});

describe('graceful shutdown', () => {
  it('aborts a running attempt after the grace period, does not count it, and hands the job back', async () => {
    const db = freshDb('stop');
    const first = await engineOn(db, { jobs: [hangOnceJob], config: { WORKER_NAME: 'stopping', SHUTDOWN_GRACE_MS: 300 } });
    const { id } = await first.enqueue('test.hang-once', {});
    const runs = collections(db).jobRuns;
    await eventually(async () => (await db.collection('markers').findOne({ _id: id as never })) !== null, 'the job to start', WAIT_MS);
    expect((await job(db, id))?.sb?.attempts).toBe(1);

    const t0 = Date.now();
    await first.stop();
    expect(Date.now() - t0).toBeLessThan(5_000);
    expect(first.runningHere()).toBe(0);

    const aborted = await runs.find({ jobId: id }).toArray();
    expect(aborted.map((r) => [r.attempt, r.outcome, r.worker])).toEqual([[1, 'aborted', 'stopping']]);
    expect(aborted[0].error?.message).toMatch(/shutting down/);
    const handedBack = await job(db, id);
    expect(handedBack?.sb?.attempts).toBe(0);
    expect(handedBack?.lockedAt ?? null).toBeNull();
    expect(handedBack?.nextRunAt).toBeInstanceOf(Date);
    expect(handedBack!.nextRunAt!.getTime()).toBeLessThanOrEqual(Date.now());
    expect(handedBack?.failCount ?? 0).toBe(0);

    const second = await engineOn(db, { jobs: [hangOnceJob], config: { WORKER_NAME: 'taking-over' } });
    const doc = await eventually(async () => {
      const d = await job(db, id);
      return settled(d) ? d : undefined;
    }, 'the second engine to finish the job', WAIT_MS);
    const all = await runs.find({ jobId: id }).sort({ startedAt: 1 }).toArray();
    expect(all.map((r) => [r.attempt, r.outcome, r.worker])).toEqual([
      [1, 'aborted', 'stopping'],
      [1, 'success', 'taking-over'],
    ]);
    expect(doc.sb?.attempts).toBe(1);
    await second.stop(500);
  }, TEST_MS);
});

describe('dead-letter reconciler at start-up', () => {
  it('gives an exhausted job without a DLQ entry exactly one entry', async () => {
    const db = freshDb('dlq');
    const finishedAt = new Date(Date.now() - 60_000);
    const { insertedId } = await collections(db).agendaJobs.insertOne({
      _id: new ObjectId(),
      name: 'test.short',
      data: { i: 7 },
      type: 'normal',
      priority: 0,
      nextRunAt: null,
      lockedAt: null,
      lastRunAt: finishedAt,
      lastFinishedAt: finishedAt,
      failedAt: finishedAt,
      failCount: 3,
      failReason: 'x',
    });
    const jobId = String(insertedId);
    const dlq = collections(db).deadLetters;

    const a = await engineOn(db, { jobs: [shortJob], config: { WORKER_NAME: 'first' } });
    const entries = await dlq.find({ jobId }).toArray();
    expect(entries).toHaveLength(1);
    expect(entries[0]).toMatchObject({ jobName: 'test.short', generation: 0, reason: 'reconciled', status: 'pending', attempts: 3, payload: { i: 7 } });
    expect(entries[0].error).toMatchObject({ message: 'x', class: 'Error' });
    expect(entries[0].firstFailedAt.getTime()).toBe(finishedAt.getTime());

    const b = await engineOn(db, { jobs: [shortJob], config: { WORKER_NAME: 'second' } });
    expect(await dlq.countDocuments({ jobId })).toBe(1);
    expect(await dlq.countDocuments({})).toBe(1);
    // The job itself stays final: reconciling does not run it.
    expect(await collections(db).jobRuns.countDocuments({ jobId })).toBe(0);
    await Promise.all([a.stop(500), b.stop(500)]);
  }, TEST_MS);
});
