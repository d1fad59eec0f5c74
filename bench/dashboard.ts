/**
 * How long does the dashboard's overview take at 100 000 jobs and a month of 1 000 000 runs, and
 * does the history matter? Seeds 100 000 jobs (BENCH_LIVE of them live in agendaJobs, default
 * 1 000; the rest finished and retired to finishedJobs, where the engine puts a one-off job 30 s
 * after it succeeds; BENCH_LIVE=100000 is the worst case, every job waiting) and the rollups of
 * 1 000 000 runs over 30 days
 * (the minutes of the last two hours, folded hours before: what the overview reads; the run
 * documents themselves are not read by any page), then times GET /ui over HTTP with a signed-in
 * session (median of BENCH_ROUNDS); then adds 100 000 run records and 100 000 closed dead letters
 * (history no page should scan) and times it again. Prints both, their ratio and the load average.
 * Run: `npx node bench/dashboard.ts` (uses MONGODB_URL, else starts a local server in a temp dir).
 * BENCH_JOBS, BENCH_LIVE, BENCH_RUNS (the runs the rollups count), BENCH_HISTORY, BENCH_ROUNDS change the sizes.
 */
import os from 'node:os';
import type { Db } from 'mongodb';
import { createApp } from '../src/app/index.ts';
import { loadConfig } from '../src/config.ts';
import { registerDashboard } from '../src/dashboard/routes.ts';
import { foldCutoff } from '../src/engine/rollupStore.ts';
import { minuteOf, newRollup } from '../src/engine/rollups.ts';
import { HttpServer } from '../src/http/server.ts';
import { silentLogger } from '../src/log.ts';
import { ObjectId } from 'mongodb';
import { deadLetter, NAMES, seedLiveJobs, seedRuns } from './history.ts';
import { benchDb, insertInBatches } from './support.ts';

const JOBS = Number(process.env.BENCH_JOBS ?? 100_000);
/** Of BENCH_JOBS, the ones still live in agendaJobs; the rest finished and were retired to finishedJobs, as the engine does. */
const LIVE = Math.min(JOBS, Number(process.env.BENCH_LIVE ?? 1_000));
const RUNS = Number(process.env.BENCH_RUNS ?? 1_000_000);
const HISTORY = Number(process.env.BENCH_HISTORY ?? 100_000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 7);
const DAYS = 30;

const load = () => os.loadavg().map((n) => n.toFixed(2)).join(' ');
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** Rollups counting RUNS runs spread evenly over DAYS days: minutes for the kept window, hours before. */
async function seedRollups(db: Db, now: number): Promise<{ minutes: number; hours: number }> {
  const cutoff = foldCutoff(now).getTime();
  const totalMinutes = DAYS * 24 * 60;
  const perMinute = RUNS / totalMinutes / NAMES.length;
  const doc = (job: string, minute: Date, spanMin: number) => {
    const d = newRollup(job, minute, 'bench');
    const n = Math.round(perMinute * spanMin);
    const failed = Math.round(n * 0.05);
    Object.assign(d, { started: n, ok: n - failed, failed, durationSum: n * 80, durationMax: 900 });
    return { ...d, updatedAt: new Date(now) };
  };
  const minutes: ReturnType<typeof doc>[] = [];
  for (let t = minuteOf(cutoff).getTime(); t <= now; t += 60_000) for (const job of NAMES) minutes.push(doc(job, new Date(t), 1));
  const hours: ReturnType<typeof doc>[] = [];
  for (let t = cutoff - 3600_000; t >= now - DAYS * 24 * 3600_000; t -= 3600_000) for (const job of NAMES) hours.push(doc(job, new Date(t), 60));
  await insertInBatches(db.collection('runRollups'), minutes.length, (i) => minutes[i]);
  await insertInBatches(db.collection('runRollupsHourly'), hours.length, (i) => hours[i]);
  return { minutes: minutes.length, hours: hours.length };
}

async function main(): Promise<void> {
  const bench = await benchDb('dashboard');
  const { db } = bench;
  const now = Date.now();
  const t0 = performance.now();
  await seedLiveJobs(db, LIVE, now);
  await insertInBatches(db.collection('finishedJobs'), JOBS - LIVE, (i) => ({
    _id: new ObjectId(),
    name: NAMES[i % NAMES.length],
    data: { i },
    type: 'normal',
    priority: 0,
    nextRunAt: null,
    lockedAt: null,
    lastRunAt: new Date(now - 60_000 - i * 1000),
    lastFinishedAt: new Date(now - 59_000 - i * 1000),
    failCount: 0,
  }));
  const rollups = await seedRollups(db, now);
  const seeded = ((performance.now() - t0) / 1000).toFixed(0);

  const config = loadConfig({ PORT: '0' });
  const app = createApp({ config, db, log: silentLogger() });
  await app.engine.start({ work: false, ensureIndexes: true });
  const http = new HttpServer(app.log);
  registerDashboard(app.frontEnd, http);
  const port = await http.listen(0, '127.0.0.1');
  const base = `http://127.0.0.1:${port}`;
  const { url } = await app.ops.signInLinks.create({ platform: 'cli', id: 'bench', name: 'bench' });
  const signin = await fetch(`${base}/ui/signin`, { method: 'POST', body: new URLSearchParams({ t: new URL(url).searchParams.get('t') ?? '' }), redirect: 'manual' });
  const cookie = (signin.headers.get('set-cookie') ?? '').split(';')[0];

  const timeOverview = async () => {
    const times: number[] = [];
    for (let i = 0; i < ROUNDS; i++) {
      const t = performance.now();
      const res = await fetch(`${base}/ui`, { headers: { cookie } });
      const html = await res.text();
      if (res.status !== 200 || !html.includes('run-series')) throw new Error(`overview answered ${res.status}`);
      times.push(performance.now() - t);
    }
    return median(times);
  };
  await timeOverview(); // warm-up
  const live = await timeOverview();
  const loadLive = load();
  await seedRuns(db, HISTORY, { now, spreadMin: DAYS * 24 * 60, worker: 'bench-history', outcome: (i) => (i % 20 === 0 ? 'failed' : 'success') });
  await insertInBatches(db.collection('deadLetterHistory'), HISTORY, (i) => deadLetter(i, now, i % 2 ? 'retried' : 'deleted'));
  const withHistory = await timeOverview();
  const loadHistory = load();

  console.log(`dashboard overview (GET /ui over HTTP, median of ${ROUNDS}) on ${bench.source}`);
  console.log(`  ${JOBS} jobs (${LIVE} live, ${JOBS - LIVE} finished and retired), rollups of ${RUNS} runs over ${DAYS} days (${rollups.minutes} minute + ${rollups.hours} hour documents), seeded in ${seeded} s`);
  console.log(`  live and rollups only:                  ${live.toFixed(0)} ms   load ${loadLive}`);
  console.log(`  plus ${HISTORY} runs and ${HISTORY} closed dead letters: ${withHistory.toFixed(0)} ms   load ${loadHistory}`);
  console.log(JSON.stringify({ bench: 'dashboard', source: bench.source, jobs: JOBS, live: LIVE, runs: RUNS, history: HISTORY, overviewMs: Math.round(live), overviewWithHistoryMs: Math.round(withHistory), ratio: Number((withHistory / live).toFixed(2)), load: os.loadavg() }));
  await app.stop();
  await http.close();
  await bench.close();
}

await main();
