/**
 * Does one `alerts.evaluate` tick (`evaluateOnce`) cost in proportion to live work only? The same
 * live set (1 000 jobs, 2 000 open dead letters, 20 000 closed ones, breakers, recurring jobs)
 * with 10 000 run records, then with 1 000 000 (each with the rollups a worker wrote for them,
 * spread over 2 hours): the ratio 1M / 10k (issue 11's target: ≤ 1.5) with the load average.
 * Both sizes live in one run on one server (a database each) and their ticks alternate, so load
 * from elsewhere hits both alike; each size times the tick that opens the alerts (failure alerts
 * get their triage note) and the median of the ticks after it.
 * Run: `npx node bench/alertsEvaluate.ts` (uses MONGODB_URL, else starts a local server in a temp dir).
 * BENCH_JOBS, BENCH_RUNS_SMALL, BENCH_RUNS, BENCH_DEAD and BENCH_TICKS change the sizes.
 */
import os from 'node:os';
import type { Db } from 'mongodb';
import { createApp } from '../src/app/index.ts';
import type { Alerting } from '../src/alerting/index.ts';
import { loadConfig } from '../src/config.ts';
import { silentLogger } from '../src/log.ts';
import { deadLetter, seedLiveJobs, seedRuns } from './history.ts';
import { benchDb, insertInBatches } from './support.ts';

const JOBS = Number(process.env.BENCH_JOBS ?? 1_000);
const RUNS_SMALL = Number(process.env.BENCH_RUNS_SMALL ?? 10_000);
const RUNS = Number(process.env.BENCH_RUNS ?? 1_000_000);
const DEAD = Number(process.env.BENCH_DEAD ?? 20_000);
const TICKS = Number(process.env.BENCH_TICKS ?? 6);
const ERRORS = [
  { message: 'HTTP 500 Internal Server Error', class: 'HttpStatusError' },
  { message: 'HTTP 401 Unauthorized', class: 'HttpStatusError' },
  { message: 'connect ETIMEDOUT 10.0.0.5:443', class: 'Error', code: 'ETIMEDOUT' },
  { message: "Cannot read properties of undefined (reading 'id')", class: 'TypeError' },
];

const load = () => os.loadavg().map((n) => n.toFixed(2)).join(' ');
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function seedLive(db: Db, now: number): Promise<void> {
  await seedLiveJobs(db, JOBS, now);
  for (const name of ['alerts.evaluate', 'maintenance.cleanup']) {
    await db.collection('agendaJobs').insertOne({ name, data: {}, type: 'single', repeatInterval: name === 'alerts.evaluate' ? '1 minute' : '15 minutes', nextRunAt: new Date(now + 30_000), lastRunAt: new Date(now - 30_000) });
  }
  await insertInBatches(db.collection('deadLetters'), 2000, (i) => deadLetter(i, now, 'pending', ERRORS[i % ERRORS.length]));
  await insertInBatches(db.collection('deadLetterHistory'), DEAD, (i) => deadLetter(i, now, i % 2 ? 'retried' : 'deleted', ERRORS[i % ERRORS.length]));
  await db.collection<{ _id: string }>('breakers').insertMany([
    { _id: 'partner-api', state: 'open', openedAt: new Date(now - 120_000), failures: 9 },
    { _id: 'feedly', state: 'closed', failures: 0 },
  ] as never);
}

/** `n` runs with their rollups, spread over the last 2 hours; the recurring jobs' last success. */
async function seedHistory(db: Db, n: number, now: number): Promise<{ minutes: number; hours: number }> {
  const rollups = await seedRuns(db, n, {
    now,
    spreadMin: 120,
    worker: 'bench',
    outcome: (i) => (i % 20 === 0 ? 'failed' : i % 97 === 0 ? 'dead' : i % 5000 === 1 ? 'running' : 'success'),
    error: (i) => ERRORS[i % ERRORS.length],
  });
  // The recurring jobs succeeded 30 s ago.
  await seedRuns(db, 2, { now: now - 30_000, spreadMin: 0, worker: 'bench-recurring', outcome: () => 'success' });
  return rollups;
}

interface Side {
  label: string;
  runs: number;
  rollups: { minutes: number; hours: number };
  alerting: Alerting;
  stop(): void;
  ticks: number[];
}

/** One tick at `at`, printed with its slowest rules. */
async function tick(side: Side, at: Date, i: number): Promise<void> {
  const start = performance.now();
  const report = await side.alerting.evaluateOnce(at);
  side.ticks.push(performance.now() - start);
  const slowest = [...report.rules].sort((a, b) => b.ms - a.ms).slice(0, 3).map((r) => `${r.rule} ${r.ms} ms`).join(', ');
  const breaches = report.rules.map((r) => `${r.rule}=${r.breaches}`).join(' ');
  console.log(`${side.label.padEnd(13)} tick ${i + 1}: ${side.ticks[i].toFixed(0).padStart(5)} ms; ${report.events.length} events; slowest: ${slowest}; breaches: ${breaches}; load ${load()}`);
}

const bench = await benchDb('bench_alerts');
// Both sizes in one run, on one server, each in a database of its own, their ticks alternating.
const dbs = [bench.db, bench.db.client.db(`${bench.db.databaseName}_large`)];
try {
  const now = Date.now();
  const sides: Side[] = [];
  for (const [db, runs] of [[dbs[0], RUNS_SMALL], [dbs[1], RUNS]] as const) {
    const app = createApp({ config: loadConfig({}), db, log: silentLogger() });
    await app.engine.start({ work: false, ensureIndexes: true });
    await seedLive(db, now);
    const t0 = Date.now();
    const rollups = await seedHistory(db, runs, now);
    console.log(`${db.databaseName}: ${JOBS} live jobs, 2000 open and ${DEAD} closed dead letters, ${runs} runs (rollups: ${rollups.minutes} of minutes, ${rollups.hours} of hours) seeded in ${((Date.now() - t0) / 1000).toFixed(1)} s (${bench.source})`);
    sides.push({ label: `${runs} runs`, runs, rollups, alerting: app.alerting, stop: () => app.engine.settings.stop(), ticks: [] });
  }
  // The first tick opens the alerts (failure alerts get their triage note); later ticks a minute apart.
  for (let i = 0; i < TICKS; i++) for (const side of sides) await tick(side, new Date(now + i * 60_000), i);
  for (const side of sides) side.stop();
  const [small, large] = sides;
  const steady = (s: Side) => median(s.ticks.slice(1));
  const ratio = steady(large) / steady(small);
  const opening = large.ticks[0] / small.ticks[0];
  console.log(
    `alerts.evaluate: ${RUNS} / ${RUNS_SMALL} runs = ${ratio.toFixed(2)} (median tick ${steady(large).toFixed(0)} vs ${steady(small).toFixed(0)} ms; target ≤ 1.5); ` +
      `opening tick ${opening.toFixed(2)} (${large.ticks[0].toFixed(0)} vs ${small.ticks[0].toFixed(0)} ms); load average ${load()}`,
  );
  console.log(
    JSON.stringify({
      bench: 'alertsEvaluate',
      server: bench.source,
      jobs: JOBS,
      ...Object.fromEntries(sides.map((s, i) => [i ? 'large' : 'small', { runs: s.runs, rollups: s.rollups, openingMs: Math.round(s.ticks[0]), tickMs: Math.round(steady(s)) }])),
      ratio: Number(ratio.toFixed(2)),
      openingRatio: Number(opening.toFixed(2)),
      loadavg: os.loadavg(),
    }),
  );
} finally {
  await dbs[1].dropDatabase().catch(() => {});
  await bench.close();
}
