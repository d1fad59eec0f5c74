/**
 * How long one `alerts.evaluate` tick (`evaluateOnce`) takes with 100 000 jobs and 1 000 000 run
 * records (plus 20 000 dead letters, open breakers and recurring jobs).
 * Run: `node bench/alertsEvaluate.ts` (uses MONGODB_URL, else starts a local server in a temp dir).
 * BENCH_JOBS, BENCH_RUNS and BENCH_DEAD shrink it (`BENCH_RUNS=200000 node bench/alertsEvaluate.ts`).
 * Prints seeding time, then each timed evaluation with its slowest rules, and the median.
 */
import { ObjectId } from 'mongodb';
import { createApp } from '../src/app.ts';
import { createAlerting } from '../src/alerting/index.ts';
import { loadConfig } from '../src/config.ts';
import { silentLogger } from '../src/log.ts';
import { benchDb, insertInBatches } from './support.ts';

const JOBS = Number(process.env.BENCH_JOBS ?? 100_000);
const RUNS = Number(process.env.BENCH_RUNS ?? 1_000_000);
const DEAD = Number(process.env.BENCH_DEAD ?? 20_000);
const NAMES = ['http.invoke', 'feeds.sync', 'inbox.generate', 'discovery.harvest', 'embeddings.batch'];
const ERRORS = [
  { message: 'HTTP 500 Internal Server Error', class: 'HttpStatusError' },
  { message: 'HTTP 401 Unauthorized', class: 'HttpStatusError' },
  { message: 'connect ETIMEDOUT 10.0.0.5:443', class: 'Error', code: 'ETIMEDOUT' },
  { message: "Cannot read properties of undefined (reading 'id')", class: 'TypeError' },
];

const bench = await benchDb('bench_alerts');
const db = bench.db;
try {
  const app = createApp({ config: loadConfig({}), db, log: silentLogger() });
  await app.engine.start({ work: false, ensureIndexes: true });
  const alerting = createAlerting(app);
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
      nextRunAt: kind === 3 ? null : new Date(now + (kind === 0 ? -(i % 1800) * 1000 : kind === 1 ? 3600_000 : -1000)),
      lockedAt: kind === 2 && i % 100 === 2 ? new Date(now - (i % 500 === 2 ? 600_000 : 1000)) : null,
      lastRunAt: kind === 2 ? new Date(now - 2000) : null,
      failCount: kind === 3 && i % 8 === 3 ? 5 : 0,
    };
  });
  for (const name of ['alerts.evaluate', 'maintenance.cleanup']) {
    await db.collection('agendaJobs').insertOne({ name, data: {}, type: 'single', repeatInterval: name === 'alerts.evaluate' ? '1 minute' : '15 minutes', nextRunAt: new Date(now + 30_000), lastRunAt: new Date(now - 30_000) });
    await db.collection('jobRuns').insertOne({ jobId: 'recurring', jobName: name, attempt: 1, startedAt: new Date(now - 30_000), finishedAt: new Date(now - 29_000), outcome: 'success', counts: {}, telemetry: [], worker: 'bench', timeoutMs: 60_000 });
  }
  const tJobs = Date.now();
  await insertInBatches(db.collection('jobRuns'), RUNS, (i) => {
    const startedAt = new Date(now - Math.floor((i / RUNS) * 2 * 3600_000));
    const outcome = i % 20 === 0 ? 'failed' : i % 97 === 0 ? 'dead' : i % 5000 === 1 ? 'running' : 'success';
    return {
      jobId: new ObjectId().toHexString(),
      jobName: NAMES[i % NAMES.length],
      attempt: 1,
      startedAt,
      ...(outcome === 'running' ? {} : { finishedAt: new Date(startedAt.getTime() + 50), durationMs: 50 }),
      outcome,
      ...(outcome === 'failed' || outcome === 'dead' ? { error: ERRORS[i % ERRORS.length] } : {}),
      counts: {},
      telemetry: [],
      worker: 'bench',
      timeoutMs: 60_000,
    };
  });
  const tRuns = Date.now();
  await insertInBatches(db.collection('deadLetters'), DEAD, (i) => ({
    jobId: new ObjectId().toHexString(),
    generation: 0,
    jobName: NAMES[i % NAMES.length],
    payload: { i },
    error: ERRORS[i % ERRORS.length],
    attempts: 5,
    reason: 'retries_exhausted',
    firstFailedAt: new Date(now - 7200_000),
    lastFailedAt: new Date(now - (i % 3600) * 1000),
    status: i % 10 === 0 ? 'retried' : 'pending',
    createdAt: new Date(now - (i % 3600) * 1000),
  }));
  await db.collection<{ _id: string }>('breakers').insertMany([
    { _id: 'partner-api', state: 'open', openedAt: new Date(now - 120_000), failures: 9 },
    { _id: 'feedly', state: 'closed', failures: 0 },
  ] as never);
  console.log(
    `seeded ${JOBS} jobs (${((tJobs - t0) / 1000).toFixed(1)} s), ${RUNS} runs (${((tRuns - tJobs) / 1000).toFixed(1)} s), ` +
      `${DEAD} dead letters; total ${((Date.now() - t0) / 1000).toFixed(1)} s (${bench.source})`,
  );

  const times: number[] = [];
  for (let i = 0; i < 3; i++) {
    const start = performance.now();
    const report = await alerting.evaluateOnce(new Date(now + i * 60_000));
    const ms = performance.now() - start;
    times.push(ms);
    const slowest = [...report.rules].sort((a, b) => b.ms - a.ms).slice(0, 3).map((r) => `${r.rule} ${r.ms} ms`).join(', ');
    const breaches = report.rules.map((r) => `${r.rule}=${r.breaches}`).join(' ');
    console.log(`evaluateOnce #${i + 1}: ${ms.toFixed(0)} ms; ${report.events.length} events; slowest: ${slowest}; breaches: ${breaches}`);
  }
  app.engine.settings.stop();
  const sorted = [...times].sort((a, b) => a - b);
  console.log(`alerts.evaluate: ${times.map((t) => `${t.toFixed(0)} ms`).join(', ')}; median ${sorted[1].toFixed(0)} ms`);
} finally {
  await bench.close();
}
