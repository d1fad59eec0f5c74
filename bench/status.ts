/**
 * How long `status` takes with 100 000 jobs and 100 000 dead letters (plus 100 000 run records).
 * Run: `node bench/status.ts` (uses MONGODB_URL, else starts a local server in a temp dir).
 * Prints seeding time, then each timed `status` and the median.
 */
import { ObjectId } from 'mongodb';
import { createApp, localAdmin } from '../src/app.ts';
import { loadConfig } from '../src/config.ts';
import { silentLogger } from '../src/log.ts';
import { benchDb, insertInBatches } from './support.ts';

const JOBS = Number(process.env.BENCH_JOBS ?? 100_000);
const DEAD = Number(process.env.BENCH_DEAD ?? 100_000);
const RUNS = Number(process.env.BENCH_RUNS ?? 100_000);
const NAMES = ['http.invoke', 'feeds.sync', 'inbox.generate', 'discovery.harvest', 'embeddings.batch'];

const bench = await benchDb('bench_status');
const db = bench.db;
try {
  const now = Date.now();
  const t0 = Date.now();
  await insertInBatches(db.collection('agendaJobs'), JOBS, (i) => {
    const kind = i % 4;
    return {
      _id: new ObjectId(),
      name: NAMES[i % NAMES.length],
      data: { i },
      type: 'normal',
      priority: 0,
      nextRunAt: kind === 3 ? null : new Date(now + (kind === 0 ? -60_000 : kind === 1 ? 3600_000 : -1000)),
      lockedAt: kind === 2 && i % 100 === 2 ? new Date(now) : null,
      failCount: kind === 3 && i % 8 === 3 ? 5 : 0,
      lastFinishedAt: kind === 3 ? new Date(now - 1000) : null,
    };
  });
  await insertInBatches(db.collection('deadLetters'), DEAD, (i) => ({
    jobId: new ObjectId().toHexString(),
    generation: 0,
    jobName: NAMES[i % NAMES.length],
    payload: { i },
    error: { message: 'HTTP 500', class: 'HttpStatusError' },
    attempts: 5,
    reason: 'retries_exhausted',
    firstFailedAt: new Date(now - 7200_000),
    lastFailedAt: new Date(now - (i % 3600) * 1000),
    status: i % 10 === 0 ? 'retry_scheduled' : i % 10 === 1 ? 'deleted' : 'pending',
    createdAt: new Date(now),
  }));
  await insertInBatches(db.collection('jobRuns'), RUNS, (i) => ({
    jobId: new ObjectId().toHexString(),
    jobName: NAMES[i % NAMES.length],
    attempt: 1,
    startedAt: new Date(now - (i % 7200) * 1000),
    finishedAt: new Date(now - (i % 7200) * 1000 + 50),
    outcome: i % 20 === 0 ? 'failed' : 'success',
    counts: {},
    telemetry: [],
    worker: 'bench',
    timeoutMs: 1000,
  }));
  console.log(`seeded ${JOBS} jobs, ${DEAD} dead letters, ${RUNS} runs in ${((Date.now() - t0) / 1000).toFixed(1)} s (${bench.source})`);

  const app = createApp({ config: loadConfig({}), db, log: silentLogger() });
  await app.engine.start({ work: false });
  const rounds = Number(process.env.BENCH_ROUNDS ?? 3);
  const times: number[] = [];
  for (let i = 0; i < rounds; i++) {
    const start = performance.now();
    const r = await app.dispatcher.run('status', localAdmin('cli'));
    times.push(performance.now() - start);
    if (r.status !== 'ok') throw new Error(r.reply.text);
    console.log(`status #${i + 1}: ${times[i].toFixed(0)} ms`);
  }
  app.engine.settings.stop();
  times.sort((a, b) => a - b);
  console.log(`status median over ${rounds}: ${times[Math.floor(rounds / 2)].toFixed(0)} ms`);
} finally {
  await bench.close();
}
