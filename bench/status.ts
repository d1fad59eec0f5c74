/**
 * Does `status` cost in proportion to live work only? The same 1 000 live jobs (and 200 open dead
 * letters) with an empty history, and with 100 000 finished runs (plus the rollups a worker wrote
 * for them) and 100 000 closed dead letters: the ratio history / empty (issue 11's target: ≤ 2)
 * with the load average. Each case has a database of its own on one server; their rounds
 * alternate. The runs are spread over 2 hours (about 600 rollup documents); BENCH_SPREAD_LONG_MIN
 * (default 43 200 = 30 days; 0 skips it) adds a case with them spread over that many minutes,
 * where nearly every run has a rollup document of its own.
 * Run: `npx node bench/status.ts` (uses MONGODB_URL, else starts a local server in a temp dir).
 * BENCH_JOBS, BENCH_RUNS, BENCH_DEAD, BENCH_ROUNDS change the sizes.
 */
import os from 'node:os';
import type { Db } from 'mongodb';
import { createApp, type App } from '../src/app/index.ts';
import { localAdmin } from '../src/chat/localAdmin.ts';
import { loadConfig } from '../src/config.ts';
import { silentLogger } from '../src/log.ts';
import { deadLetter, seedLiveJobs, seedRuns } from './history.ts';
import { benchDb, insertInBatches } from './support.ts';

const JOBS = Number(process.env.BENCH_JOBS ?? 1_000);
const RUNS = Number(process.env.BENCH_RUNS ?? 100_000);
const DEAD = Number(process.env.BENCH_DEAD ?? 100_000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const SPREAD_LONG_MIN = Number(process.env.BENCH_SPREAD_LONG_MIN ?? 43_200);

const load = () => os.loadavg().map((n) => n.toFixed(2)).join(' ');
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** The live set, the same every time: due, scheduled and running jobs, open dead letters. */
async function seedLive(db: Db, now: number): Promise<void> {
  await seedLiveJobs(db, JOBS, now);
  await insertInBatches(db.collection('deadLetters'), 200, (i) => deadLetter(i, now, i % 10 === 0 ? 'retry_scheduled' : 'pending'));
}

/** Finished runs spread over `spreadMin` minutes with their rollups, closed dead letters; returns the rollup documents. */
async function seedHistory(db: Db, now: number, spreadMin: number): Promise<{ minutes: number; hours: number }> {
  const rollups = await seedRuns(db, RUNS, { now, spreadMin, worker: 'bench', outcome: (i) => (i % 20 === 0 ? 'failed' : 'success') });
  await insertInBatches(db.collection('deadLetterHistory'), DEAD, (i) => deadLetter(i, now, i % 2 ? 'retried' : 'deleted'));
  return rollups;
}

interface Side {
  label: string;
  app: App;
  rollups: { minutes: number; hours: number };
  times: number[];
}

/** One timed `status`. */
async function time(side: Side): Promise<void> {
  const start = performance.now();
  const r = await side.app.dispatcher.run('status', localAdmin('cli'));
  side.times.push(performance.now() - start);
  if (r.status !== 'ok') throw new Error(r.reply.text);
}

const bench = await benchDb('bench_status');
// Every case in one run, on one server, each in a database of its own; their rounds alternate,
// so load from elsewhere hits them alike.
const cases: Array<[string, number | null]> = [
  ['empty history', null],
  ['history, runs over 2 h', 120],
  ...(SPREAD_LONG_MIN > 0 ? [[`history, runs over ${Math.round(SPREAD_LONG_MIN / 1440)} d`, SPREAD_LONG_MIN] as [string, number]] : []),
];
const dbs = cases.map((_, i) => (i ? bench.db.client.db(`${bench.db.databaseName}_${i}`) : bench.db));
try {
  const now = Date.now();
  const sides: Side[] = [];
  for (const [i, [label, spread]] of cases.entries()) {
    const db = dbs[i];
    const app = createApp({ config: loadConfig({}), db, log: silentLogger() });
    await app.engine.start({ work: false, ensureIndexes: true });
    const t0 = Date.now();
    await seedLive(db, now);
    const rollups = spread === null ? { minutes: 0, hours: 0 } : await seedHistory(db, now, spread);
    console.log(
      `${label}: ${JOBS} live jobs, 200 open dead letters` +
        `${spread === null ? '' : `, ${RUNS} finished runs (rollups: ${rollups.minutes} of minutes, ${rollups.hours} of hours), ${DEAD} closed dead letters`}; seeded in ${((Date.now() - t0) / 1000).toFixed(1)} s`,
    );
    sides.push({ label, app, rollups, times: [] });
  }
  console.log(`${bench.source}; load ${load()}`);
  for (const side of sides) await side.app.dispatcher.run('status', localAdmin('cli')); // warm-up, not timed
  for (let round = 0; round < ROUNDS; round++) for (const side of sides) await time(side);
  for (const side of sides) {
    side.app.engine.settings.stop();
    console.log(`${side.label.padEnd(26)} status median ${median(side.times).toFixed(0).padStart(6)} ms (${side.times.map((t) => t.toFixed(0)).join(', ')})`);
  }
  const [empty, full, long] = sides;
  const ratio = (s: Side) => median(s.times) / median(empty.times);
  console.log(`status: history / empty = ${ratio(full).toFixed(2)} (target ≤ 2)${long ? `; ${long.label}: ${ratio(long).toFixed(2)}` : ''}; load average ${load()}`);
  console.log(
    JSON.stringify({
      bench: 'status',
      server: bench.source,
      jobs: JOBS,
      runs: RUNS,
      closedDeadLetters: DEAD,
      emptyMs: Math.round(median(empty.times)),
      historyMs: Math.round(median(full.times)),
      rollups: full.rollups,
      ratio: Number(ratio(full).toFixed(2)),
      ...(long ? { longSpreadMin: SPREAD_LONG_MIN, longRollups: long.rollups, longMs: Math.round(median(long.times)), longRatio: Number(ratio(long).toFixed(2)) } : {}),
      loadavg: os.loadavg(),
    }),
  );
} finally {
  for (const db of dbs.slice(1)) await db.dropDatabase().catch(() => {});
  await bench.close();
}
