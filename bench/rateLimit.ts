/**
 * How an rpm limit behaves across two worker processes sharing a database: the most attempts
 * started in one window (overshoot) and how long a deferred job waited past its window's start.
 * Run: `node bench/rateLimit.ts` (MONGODB_URL, else a local server in a temp dir). The window is
 * shortened to BENCH_WINDOW_MS (default 5 s) so the run takes seconds, not minutes.
 */
import { z } from 'zod';
import { createApp } from '../src/app/index.ts';
import { localAdmin } from '../src/chat/localAdmin.ts';
import { loadConfig } from '../src/config.ts';
import type { JobRunDoc } from '../src/db/collections.ts';
import { defineJob } from '../src/engine/defineJob.ts';
import { silentLogger } from '../src/log.ts';
import { benchDb } from './support.ts';

const WINDOW = Number(process.env.BENCH_WINDOW_MS ?? 5000);
const RPM = Number(process.env.BENCH_RPM ?? 10);
const JOBS = Number(process.env.BENCH_JOBS ?? 40);

const job = defineJob({ name: 'bench.limited', payload: z.object({ i: z.number() }), async handler() {} });
const bench = await benchDb('bench_rate');
const db = bench.db;
const config = Object.freeze({ ...loadConfig({}), ENGINE_PROCESS_EVERY_MS: 250, GUARD_REFRESH_MS: 200 });
const apps = [1, 2].map((n) => createApp({ config: { ...config, WORKER_NAME: `bench-${n}` }, db, log: silentLogger(), extraJobs: [job], rateWindowMs: WINDOW }));
try {
  for (const app of apps) await app.engine.start({ work: true });
  await apps[0].dispatcher.run(`config set bench.limited.rpm ${RPM}`, localAdmin('cli'));
  for (const app of apps) await app.engine.settings.refresh();
  const t0 = Date.now();
  for (let i = 0; i < JOBS; i++) await apps[0].ops.jobs.run('bench.limited', { i });
  const runs = db.collection<JobRunDoc>('jobRuns');
  while ((await runs.countDocuments({ jobName: 'bench.limited', outcome: 'success' })) < JOBS) await new Promise((r) => setTimeout(r, 200));
  const slots = await db.collection<{ group: string; holder: string; at: Date }>('rateWindows').find({}).toArray();
  const perWindow = new Map<string, number>();
  for (const s of slots) perWindow.set(s.group, (perWindow.get(s.group) ?? 0) + 1);
  const done = await runs.find({ jobName: 'bench.limited' }).toArray();
  const firstWindow = Math.min(...done.map((r) => Math.floor(r.startedAt.getTime() / WINDOW)));
  const late = done
    .filter((r) => Math.floor(r.startedAt.getTime() / WINDOW) > firstWindow)
    .map((r) => r.startedAt.getTime() - Math.floor(r.startedAt.getTime() / WINDOW) * WINDOW)
    .sort((a, b) => a - b);
  const pct = (p: number) => late[Math.min(late.length - 1, Math.floor((p / 100) * late.length))] ?? 0;
  console.log(`${JOBS} jobs, rpm ${RPM} per ${WINDOW} ms window, 2 workers, ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  console.log(`most attempts started in one window: ${Math.max(...perWindow.values())} (limit ${RPM}; overshoot ${Math.max(0, Math.max(...perWindow.values()) - RPM)})`);
  console.log(`deferred jobs, start past their window's start: p50 ${pct(50)} ms, p99 ${pct(99)} ms, max ${late.at(-1) ?? 0} ms`);
  console.log(`workers used: ${[...new Set(done.map((r) => r.worker))].join(', ')}`);
} finally {
  for (const app of apps) await app.stop(500);
  await bench.close();
}
