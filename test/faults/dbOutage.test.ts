/**
 * The database killed and restarted under a working `serve`: the worker lives, `/readyz` says 503
 * within a second of the outage and 200 within two seconds of the database's return, `/healthz`
 * stays a fast 200, and every job finishes, none dead-lettered, repeated only if its handler was
 * running when the outage began. The full version, with figures, is bench/faults.ts.
 */
import { describe, it, expect, beforeAll, afterAll, onTestFailed } from 'vitest';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { startRestartableMongo, type RestartableMongo } from '../support/restartableMongo.ts';
import { waitFor } from '../support/waitFor.ts';
import { deathNote, pollUntil, probe, startServe, type ServeProcess } from './cluster.ts';
import { jobStory, Producer, SlowProvider, waitForJobs } from './workload.ts';

const JOBS = 16;
const CALL_MS = 1500;
/** How long the database stays down. */
const OUTAGE_MS = 4000;

let dir: string;
let mongo: RestartableMongo;
let provider: SlowProvider;
let producer: Producer;
let worker: ServeProcess | undefined;

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'sb-faults-db-'));
  mongo = await startRestartableMongo(dir);
  provider = await SlowProvider.start(CALL_MS);
  producer = await Producer.connect(`${mongo.url}faults_outage`);
});

afterAll(async () => {
  await worker?.stop(2000);
  await producer?.close().catch(() => {});
  await provider?.close();
  await mongo?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('the database killed and restarted', () => {
  it('keeps the worker alive, answers /readyz 503 then 200 in time, and loses nothing', { timeout: 180_000 }, async () => {
    const probes: Array<{ at: number; path: string; status: number; ms: number }> = [];
    onTestFailed(() => {
      console.error(`fault suite, database outage: probes ${JSON.stringify(probes)}\ncalls ${JSON.stringify(Object.fromEntries(provider.counts()))}`);
      if (worker) console.error(worker.output());
    });
    const w = (worker = await startServe({ name: 'outage-worker', mongoUrl: `${mongo.url}faults_outage` }));
    const check = async (p: '/readyz' | '/healthz') => {
      const r = await probe(`${w.origin}${p}`, 1000);
      probes.push({ at: Date.now(), path: p, status: r.status, ms: Math.round(r.ms) });
      return r;
    };
    expect((await pollUntil(() => check('/readyz'), (r) => r.status === 200, 30_000, 200)).status, 'ready before the outage').toBe(200);

    const ids = await producer.invokeMany(provider, JOBS);
    await waitFor(() => provider.openKeys().length >= 3, { signal: provider, timeoutMs: 60_000, what: 'three calls in flight' });

    const openAtOutage = provider.openKeys();
    const outageAt = Date.now();
    await mongo.kill();
    const first = await check('/readyz');
    const firstAt = Date.now();
    const health = await check('/healthz');
    // Keep probing for the rest of the outage: every answer a fast 503, the process alive.
    const during = [first];
    while (Date.now() - outageAt < OUTAGE_MS) during.push(await check('/readyz'));
    expect(w.alive(), `the worker died in the outage: ${deathNote(w)}`).toBe(true);

    await mongo.start();
    const backAt = Date.now();
    const ready = await pollUntil(() => check('/readyz'), (r) => r.status === 200, 10_000, 100);
    const readyAfterMs = Date.now() - backAt;

    const report = await waitForJobs(producer.db, ids, 60_000);
    const counts = provider.counts();
    const duplicates = [...counts].filter(([, c]) => c > 1).map(([key]) => key);

    expect.soft(first.status, `first /readyz after the kill (${Math.round(first.ms)} ms): ${first.body}`).toBe(503);
    expect.soft(firstAt - outageAt, 'ms from the kill to the first /readyz answer').toBeLessThanOrEqual(1000);
    expect.soft(health.status, `/healthz in the outage (${Math.round(health.ms)} ms)`).toBe(200);
    expect.soft(during.filter((r) => r.status !== 503), '/readyz answers in the outage other than a timely 503').toEqual([]);
    expect.soft(ready.status, '/readyz after the database returned').toBe(200);
    expect.soft(readyAfterMs, 'ms from the database answering again to /readyz 200').toBeLessThanOrEqual(2000);
    expect.soft(w.alive(), `the worker died: ${deathNote(w)}`).toBe(true);
    expect.soft([...producer.idOf.keys()].filter((key) => !counts.has(key)), 'jobs never called').toEqual([]);
    expect.soft(report.unfinished.map((id) => producer.keyOf.get(id)), 'jobs not finished successfully').toEqual([]);
    expect.soft(report.deadLetters.map((d) => producer.keyOf.get(d.jobId) ?? d.jobId), 'jobs in the DLQ').toEqual([]);
    const marks = [
      { what: 'outage', at: outageAt },
      { what: 'back', at: backAt },
    ];
    // Running at the outage: a call open at the kill, or an attempt that had started and not
    // finished (its call may reach the provider a few ms after the kill; its lock then expires).
    const attemptsOpen = report.runs
      .filter((r) => r.startedAt.getTime() <= outageAt && (!r.finishedAt || r.finishedAt.getTime() > outageAt))
      .map((r) => producer.keyOf.get(r.jobId) ?? r.jobId);
    const running = [...new Set([...openAtOutage, ...attemptsOpen])];
    const unexplained = duplicates.filter((key) => !running.includes(key)).map((key) => ({ key, ...jobStory(key, { producer, provider, runs: report.runs, marks }) }));
    expect.soft(unexplained, `called twice though not running at the outage (running: ${running.join(', ')})`).toEqual([]);
  });
});
