/**
 * An idle `serve` with many jobs scheduled for tomorrow: how much CPU it and its server burn doing
 * nothing, and whether a job enqueued from another process still starts within the poll interval.
 * Run: `npx node bench/idle.ts` (MONGODB_URL, else its own local server in a temp dir: FerretDB on
 * SQLite, or on PostgreSQL with LOCAL_MONGO_STORAGE=postgresql).
 *
 * 1. BENCH_JOBS `http.invoke` documents inserted into `agendaJobs` (1000 per insert), due 24 h
 *    from now (spread over an hour), calling a local HTTP server of the bench if they ever ran.
 * 2. One real `serve` (`node src/cli.ts serve`, stdin not a terminal, no chat tokens, PORT=0)
 *    against that database with the engine's default timings, waited for until it logs
 *    "Switchboard serving on", then BENCH_WARMUP_S seconds.
 * 3. For BENCH_SECONDS: CPU time (utime+stime of /proc/<pid>/stat) of the server process (the one
 *    listening on the server's port; with PostgreSQL storage also the PostgreSQL backends of
 *    FerretDB's database) and of the serve process, as % of one core; the load average before and
 *    after; and, for FerretDB, the commands it served in that window (its /debug/metrics).
 * 4. Then BENCH_PROBES `http.invoke` jobs enqueued one at a time from the bench process (an Engine
 *    that does not work, as `jobs run` enqueues), each after a random pause of up to one poll
 *    interval: enqueue→start is from the enqueue's return to the request reaching the local server.
 *    The target: within the poll interval + 0.5 s.
 * Prints a table and one JSON line.
 *
 * Knobs: BENCH_JOBS (10000), BENCH_SECONDS (60), BENCH_WARMUP_S (20), BENCH_PROBES (5),
 * BENCH_PROBE_TIMEOUT_S (60), BENCH_POLL_MS (ENGINE_PROCESS_EVERY_MS), BENCH_LOCK_MS
 * (ENGINE_LOCK_LIFETIME_MS), BENCH_LEASE_MS (SLOT_LEASE_MS), BENCH_GUARD_REFRESH_MS
 * (GUARD_REFRESH_MS), BENCH_LOG_LEVEL (serve's LOG_LEVEL: info or debug); unset, the defaults of
 * src/config.ts.
 */
import { execFileSync } from 'node:child_process';
import os from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { loadConfig } from '../src/config.ts';
import { databaseOf } from '../src/db/localPostgres.ts';
import { errorLines, percentile, startServe, type ServeProcess } from '../test/faults/cluster.ts';
import { Producer, SlowProvider } from '../test/faults/workload.ts';
import { waitFor } from '../test/support/waitFor.ts';
import { cmdline, CpuMeter, pidListeningOn, postgresBackendsOf } from './procStat.ts';
import { benchDb, insertInBatches } from './support.ts';

const defaults = loadConfig({});
const num = (name: string, def: number) => Number(process.env[name] ?? def);
const JOBS = num('BENCH_JOBS', 10_000);
const SECONDS = num('BENCH_SECONDS', 60);
const WARMUP_S = num('BENCH_WARMUP_S', 20);
const PROBES = num('BENCH_PROBES', 5);
const PROBE_TIMEOUT_MS = num('BENCH_PROBE_TIMEOUT_S', 60) * 1000;
const POLL_MS = num('BENCH_POLL_MS', defaults.ENGINE_PROCESS_EVERY_MS);
const LOCK_MS = num('BENCH_LOCK_MS', defaults.ENGINE_LOCK_LIFETIME_MS);
const LEASE_MS = num('BENCH_LEASE_MS', defaults.SLOT_LEASE_MS);
const GUARD_MS = num('BENCH_GUARD_REFRESH_MS', defaults.GUARD_REFRESH_MS);
const LOG_LEVEL = process.env.BENCH_LOG_LEVEL ?? 'info';
const TARGET_MS = POLL_MS + 500;
const SERVE_START_MS = 180_000;
const DAY_MS = 24 * 3600_000;

// A hard bound on the whole run: exiting SIGKILLs serve and the local server (their exit hooks).
const boundS = 600 + WARMUP_S + SECONDS + (PROBES * (PROBE_TIMEOUT_MS + POLL_MS)) / 1000 + JOBS / 100;
setTimeout(() => {
  console.error(`bench/idle: still running after ${Math.round(boundS)} s: giving up`);
  process.exit(2);
}, boundS * 1000).unref();
for (const sig of ['SIGINT', 'SIGTERM'] as const) process.once(sig, () => process.exit(130));

// What serve runs: the checkout as it is now (others may commit while this runs).
const commit = git(['log', '-1', '--oneline']);
const dirtyFiles = git(['status', '--porcelain', '--untracked-files=no']).split('\n').filter(Boolean).length;
const bench = await benchDb('bench_idle');
const db = bench.db;
let provider: SlowProvider | undefined;
let producer: Producer | undefined;
let serve: ServeProcess | undefined;
try {
  const local = (provider = await SlowProvider.start(0));
  const { base, port } = serverAddress();
  const mongoUrl = withDatabase(base, db.databaseName);
  const server = serverProcesses(port);

  const seedFrom = Date.now();
  const now = Date.now();
  await insertInBatches(db.collection('agendaJobs'), JOBS, (i) => ({
    name: 'http.invoke',
    data: { url: local.url(`tomorrow-${i}`), timeoutMs: 10_000 },
    type: 'normal',
    priority: 0,
    nextRunAt: new Date(now + DAY_MS + (i % 3600) * 1000),
    lastModifiedBy: 'bench-idle',
  }));
  const seedS = (Date.now() - seedFrom) / 1000;

  const env = {
    LOG_LEVEL,
    ENGINE_PROCESS_EVERY_MS: String(POLL_MS),
    ENGINE_LOCK_LIFETIME_MS: String(LOCK_MS),
    SLOT_LEASE_MS: String(LEASE_MS),
    GUARD_REFRESH_MS: String(GUARD_MS),
    ENGINE_MAX_CONCURRENCY: String(defaults.ENGINE_MAX_CONCURRENCY),
  };
  const startFrom = Date.now();
  serve = await startServe({ name: 'bench-idle', mongoUrl, env, startTimeoutMs: SERVE_START_MS });
  const startS = (Date.now() - startFrom) / 1000;
  const worker = serve;
  const workerPid = worker.child.pid ?? -1;
  console.log(`seeded ${JOBS} jobs in ${round(seedS)} s; serve (pid ${workerPid}) serving after ${round(startS)} s; warming up ${WARMUP_S} s`);
  await whileAlive(worker, WARMUP_S * 1000);

  // The measured window.
  const serverMeter = new CpuMeter(() => (server.pid === undefined ? [] : [server.pid]));
  const backendMeter = new CpuMeter(() => (server.postgresDb ? postgresBackendsOf(server.postgresDb) : []));
  const workerMeter = new CpuMeter(() => [workerPid]);
  const loadBefore = os.loadavg();
  const commandsBefore = await server.commands();
  serverMeter.start();
  backendMeter.start();
  workerMeter.start();
  await whileAlive(worker, SECONDS * 1000);
  const serverCpu = serverMeter.read();
  const backendCpu = backendMeter.read();
  const workerCpu = workerMeter.read();
  const commandsAfter = await server.commands();
  const loadAfter = os.loadavg();
  const windowS = workerCpu.wallMs / 1000;
  const commandsPerMin = perMinute(commandsBefore, commandsAfter, windowS);
  const serverPct = serverCpu.pct === undefined ? undefined : serverCpu.pct + (backendCpu.pct ?? 0);

  // Enqueue → start from another process, one at a time.
  producer = await Producer.connect(mongoUrl);
  const probes: { key: string; enqueueMs: number; latencyMs: number | null }[] = [];
  for (let i = 0; i < PROBES; i++) {
    await sleep(Math.random() * POLL_MS); // not in step with the worker's ticks
    const key = `probe-${i}`;
    const t0 = Date.now();
    await producer.invoke(local.url(key));
    const enqueuedAt = Date.now();
    const call = await waitFor(() => local.items.find((c) => c.key === key), { signal: local, timeoutMs: PROBE_TIMEOUT_MS, what: `${key} to start` }).catch(() => undefined);
    probes.push({ key, enqueueMs: enqueuedAt - t0, latencyMs: call ? call.startedAt - enqueuedAt : null });
    if (!worker.alive()) throw new Error(`serve exited during the probes:\n${worker.output()}`);
  }
  const started = probes.flatMap((p) => (p.latencyMs === null ? [] : [p.latencyMs]));
  const missed = probes.length - started.length;
  const p50 = started.length ? percentile(started, 50) : null;
  const max = missed ? null : Math.max(...started, 0);

  // Sanity: tomorrow's jobs are still tomorrow's, none ran.
  const stillTomorrow = await db.collection('agendaJobs').countDocuments({ name: 'http.invoke', nextRunAt: { $gte: new Date(now + DAY_MS - 60_000) } });
  const tomorrowCalls = local.items.filter((c) => c.key.startsWith('tomorrow-')).length;

  const figures = {
    bench: 'idle',
    server: bench.source,
    commit,
    dirtyFiles,
    node: process.version,
    cpus: os.cpus().length,
    jobsSeeded: JOBS,
    seedS: round(seedS),
    serveStartS: round(startS),
    warmupS: WARMUP_S,
    seconds: round(windowS),
    serverCpuPct: roundOrNull(serverPct),
    ferretdbCpuPct: server.postgresDb ? roundOrNull(serverCpu.pct) : undefined,
    postgresBackendsCpuPct: server.postgresDb ? roundOrNull(backendCpu.pct) : undefined,
    postgresBackends: server.postgresDb ? backendCpu.pids.length : undefined,
    workerCpuPct: roundOrNull(workerCpu.pct),
    serverCommandsPerMin: commandsPerMin,
    pollMs: POLL_MS,
    targetMs: TARGET_MS,
    latencyMs: { p50, max, missed, each: probes.map((p) => p.latencyMs), enqueueMs: probes.map((p) => p.enqueueMs) },
    loadavgBefore: loadBefore.map(round),
    loadavgAfter: loadAfter.map(round),
    check: { stillTomorrow, tomorrowCalls, serveErrors: errorLines(worker).length },
    pass: {
      serverCpu: serverPct !== undefined && serverPct < 10,
      workerCpu: workerCpu.pct !== undefined && workerCpu.pct < 2,
      latency: max !== null && max <= TARGET_MS,
    },
  };

  const pct = (x: number | undefined) => (x === undefined ? 'n/a' : `${round(x)} %`);
  const ms = (x: number | null) => (x === null ? `> ${PROBE_TIMEOUT_MS} (missed)` : `${x}`);
  console.log(`\nIdle serve, ${JOBS} jobs due tomorrow (${bench.source}, poll ${POLL_MS} ms, ${figures.cpus} cores; load ${figures.loadavgBefore.join(' ')} → ${figures.loadavgAfter.join(' ')})`);
  console.table({
    'jobs seeded (still due tomorrow / ran)': `${JOBS} (${stillTomorrow} / ${tomorrowCalls})`,
    'serve start → serving, s': round(startS),
    'seconds measured (after warm-up)': `${round(windowS)} (${WARMUP_S})`,
    'server CPU, % of one core (target < 10)': server.postgresDb
      ? `${pct(serverPct)} (FerretDB ${pct(serverCpu.pct)} + ${backendCpu.pids.length} PostgreSQL backends ${pct(backendCpu.pct)})`
      : `${pct(serverPct)} (pid ${server.pid ?? 'not found'})`,
    'worker CPU, % of one core (target < 2)': pct(workerCpu.pct),
    'server commands / min': commandsPerMin ? Object.values(commandsPerMin).reduce((a, b) => a + b, 0) : 'n/a',
    [`enqueue → start, ms p50 / max (target ≤ ${TARGET_MS})`]: `${p50 ?? '-'} / ${ms(max)}`,
    'each probe, ms': probes.map((p) => ms(p.latencyMs)).join(', '),
    'enqueue call, ms each': probes.map((p) => p.enqueueMs).join(', '),
    'poll interval, ms': POLL_MS,
    'load average before → after': `${figures.loadavgBefore.join(' ')} → ${figures.loadavgAfter.join(' ')}`,
    'serve error lines': figures.check.serveErrors,
  });
  if (commandsPerMin) console.log(`server commands per minute in the window: ${JSON.stringify(commandsPerMin)}`);
  console.log(JSON.stringify(figures));
} finally {
  await serve?.stop(10_000).catch(() => {});
  await producer?.close().catch(() => {});
  await provider?.close().catch(() => {});
  await bench.close().catch((err: unknown) => console.error(`closing the database: ${String(err)}`));
}

/** The server's connection string without a database, and its port (for its pid). */
function serverAddress(): { base: string; port: number } {
  const host = db.client.options.hosts[0];
  const port = host?.port ?? 27017;
  return { base: process.env.MONGODB_URL ?? `mongodb://${host?.host ?? '127.0.0.1'}:${port}/`, port };
}

/** `url` naming database `name` (MONGODB_URL's form for serve). */
function withDatabase(url: string, name: string): string {
  const u = new URL(url);
  u.pathname = `/${name}`;
  return u.toString();
}

/**
 * The server process (listening on `port`), the PostgreSQL database it keeps its data in (FerretDB
 * on PostgreSQL storage) and the commands it has served so far (FerretDB's /debug/metrics).
 */
function serverProcesses(port: number) {
  const pid = pidListeningOn(port);
  if (pid === undefined) console.log(`no process of ours listens on port ${port}: server CPU is n/a`);
  const args = pid === undefined ? [] : cmdline(pid);
  const arg = (name: string) => args.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
  const pgUrl = arg('postgresql-url');
  const debugAddr = arg('debug-addr');
  return {
    pid,
    postgresDb: pgUrl ? databaseOf(pgUrl) : undefined,
    /** Requests by command name so far; undefined when the server has no FerretDB metrics. */
    async commands(): Promise<Map<string, number> | undefined> {
      if (!debugAddr) return undefined;
      try {
        const text = await (await fetch(`http://${debugAddr}/debug/metrics`, { signal: AbortSignal.timeout(5000) })).text();
        const out = new Map<string, number>();
        for (const m of text.matchAll(/^ferretdb_client_requests_total\{command="([^"]+)",opcode="([^"]+)"\} (\d+)/gm)) {
          const name = m[2] === 'OP_MSG' ? m[1] : `${m[1]} (${m[2]})`;
          out.set(name, (out.get(name) ?? 0) + Number(m[3]));
        }
        return out;
      } catch {
        return undefined;
      }
    },
  };
}

function perMinute(before: Map<string, number> | undefined, after: Map<string, number> | undefined, seconds: number): Record<string, number> | undefined {
  if (!before || !after) return undefined;
  const out: Record<string, number> = {};
  for (const [name, n] of [...after].sort((a, b) => b[1] - a[1])) {
    const d = n - (before.get(name) ?? 0);
    if (d > 0) out[name] = round((d * 60) / seconds);
  }
  return out;
}

/** Waits `ms`, failing at once if serve exits meanwhile. */
async function whileAlive(p: ServeProcess, ms: number): Promise<void> {
  const died = p.exited.then(() => {
    throw new Error(`serve exited while idle:\n${p.output()}`);
  });
  await Promise.race([sleep(ms), died]);
  died.catch(() => {});
}

function git(args: string[]): string {
  try {
    return execFileSync('git', args, { cwd: fileURLToPath(new URL('..', import.meta.url)), encoding: 'utf8' }).trim();
  } catch {
    return '';
  }
}

function round(x: number): number {
  return Math.round(x * 100) / 100;
}

function roundOrNull(x: number | undefined): number | null {
  return x === undefined ? null : round(x);
}
