/**
 * The engine against raw Agenda, on one server in one run: raw Agenda 6 (MongoBackend, no-op
 * job, concurrency 20), our engine bare (`new Engine`, no guards beyond the kill switch) and as
 * `serve` builds it (`createApp`, flow-control guards, built-in jobs), then `serve`-built workers
 * in one and in two child processes (bench/engineWorker.ts). Variants alternate within each round
 * (raw, bare, serve, 1 proc, 2 procs, raw, ...), each on a fresh database.
 * Run: `npx node bench/engine.ts` (MONGODB_URL, else a local server in a temp dir).
 *
 * Per variant:
 * - jobs/s: BENCH_JOBS no-op jobs enqueued first through the worker's own enqueue (raw: Agenda's
 *   `create().schedule(at).save()`; ours: `engine.enqueue(name, payload, { at })`; processes: a
 *   bare producer Engine's enqueue, as the CLI does), 10 at a time, all due at one moment after
 *   the last enqueue; jobs / (last completion − due moment), and / (last completion − first
 *   handler call). A completion is Agenda's 'complete' (state saved) of a job whose handler ran.
 * - duplicates: handler calls per job id, counted in memory (worker processes report every call).
 * - commands per attempt: the worker's client has command monitoring (each process its own);
 *   commands started from one poll before the first handler call (not before the due moment) to
 *   the last completion, / handler calls in that window. The bench's own reads and the probes'
 *   enqueues from the producer go through another client, so they are not counted. Commands
 *   before the first start and in 2 polls after the last completion are reported apart.
 * - enqueue → handler's first line: BENCH_PROBES single jobs of another type (`bench.probe`). On
 *   the idle worker one at a time, each waited for, enqueued in its own process and then through
 *   the producer; under load, one every BENCH_PROBE_EVERY_MS through the producer while the load
 *   runs (a probe may queue behind it), each waited for after the load.
 * - CPU from the first handler call to the last completion: the server (the process listening
 *   on its port, when local; not PostgreSQL behind FerretDB), the whole machine (/proc/stat) and
 *   the worker process(es), in % of one core.
 *
 * Knobs: BENCH_JOBS (2000), BENCH_RAW_JOBS (raw Agenda's size; BENCH_JOBS), BENCH_ROUNDS (1),
 * BENCH_PROBES (30), BENCH_PROBE_EVERY_MS (1000), BENCH_PROCESS_EVERY_MS (ENGINE_PROCESS_EVERY_MS
 * and Agenda's processEvery; serve's default 1000), BENCH_PHASE_TIMEOUT_MS (bound on one load;
 * 600000), BENCH_STALL_MS (a load with no completion for this long is given up; 60000),
 * BENCH_VARIANTS (raw,bare,serve,one,two), BENCH_RAW_LOCK_LIMIT (raw Agenda's lockLimit; 0, its
 * default: no limit), BENCH_MAX_MS (the whole run; 1 h). Prints a table, commands per attempt by
 * command and collection, and one JSON line.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { readFileSync } from 'node:fs';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import { MongoClient, type Db } from 'mongodb';
import { percentile } from '../test/faults/cluster.ts';
import { waitFor } from '../test/support/waitFor.ts';
import { CLOCK_TICKS, cpuTicks, pidListeningOn } from './procStat.ts';
import { benchDb } from './support.ts';
import {
  CommandCounter,
  CONCURRENCY,
  cpuMsSince,
  NOOP,
  ourEngine,
  PROBE,
  rawAgenda,
  reap,
  startChildWorker,
  type ChildWorker,
  type CommandCounts,
  type HandlerCall,
  type WorkerEvents,
} from './engineWorker.ts';

const num = (name: string, def: number) => Number(process.env[name] ?? def);
const JOBS = num('BENCH_JOBS', 2000);
const RAW_JOBS = num('BENCH_RAW_JOBS', JOBS);
const ROUNDS = num('BENCH_ROUNDS', 1);
const PROBES = num('BENCH_PROBES', 30);
const POLL_MS = num('BENCH_PROCESS_EVERY_MS', 1000);
const PHASE_MS = num('BENCH_PHASE_TIMEOUT_MS', 600_000);
const STALL_MS = num('BENCH_STALL_MS', 60_000);
const VARIANTS = (process.env.BENCH_VARIANTS ?? 'raw,bare,serve,one,two').split(',').map((s) => s.trim()) as Variant[];
/** Bound on one probe's start, on a worker's start and stop. */
const PROBE_WAIT_MS = Math.max(10_000, 10 * POLL_MS);
const PROBE_EVERY_MS = num('BENCH_PROBE_EVERY_MS', 1000);
const RAW_LOCK_LIMIT = num('BENCH_RAW_LOCK_LIMIT', 0);
const START_MS = 120_000;
const STOP_MS = 30_000;
const ENQUEUE_PARALLEL = 10;

type Variant = 'raw' | 'bare' | 'serve' | 'one' | 'two';
const LABELS: Record<Variant, string> = { raw: 'raw Agenda', bare: 'ours, bare', serve: 'ours, as serve', one: 'serve, 1 process', two: 'serve, 2 processes' };

/**
 * Handler calls and completions of one variant's run, by job key (its payload). Events: 'change'
 * on each, 'first-load' with the first load job's call, 'load-complete' with each load completion.
 */
class Tracker extends EventEmitter {
  readonly calls: HandlerCall[] = [];
  readonly firstStart = new Map<string, number>();
  readonly done = new Map<string, number>();
  loadDone = 0;
  firstLoadAt = 0;
  lastLoadDone = 0;

  /** What the workers report to. */
  readonly events: WorkerEvents = { call: (c) => this.call(c), done: (key, at) => this.complete(key, at) };

  constructor() {
    super();
    this.setMaxListeners(0);
  }

  call(c: HandlerCall): void {
    this.calls.push(c);
    if (!this.firstStart.has(c.key)) this.firstStart.set(c.key, c.at);
    if (!this.firstLoadAt && c.key.startsWith('load-')) {
      this.firstLoadAt = c.at;
      this.emit('first-load');
    }
    this.emit('change');
  }

  complete(key: string, at: number): void {
    if (this.done.has(key)) return;
    this.done.set(key, at);
    if (key.startsWith('load-')) {
      this.lastLoadDone = at;
      this.loadDone++;
      this.emit('load-complete');
    }
    this.emit('change');
  }

  /** True once `check` holds, false after `timeoutMs`. */
  until(check: () => boolean, timeoutMs: number): Promise<boolean> {
    return waitFor(check, { signal: this, timeoutMs: Math.max(0, timeoutMs), intervalMs: 100 }).then(
      () => true,
      () => false,
    );
  }
}

interface Latency {
  /** Probes that started, and those that did not within the wait (with their indexes). */
  n: number;
  missed: number;
  missedProbes: number[];
  p50: number;
  p99: number;
  /** Mean enqueue call, ms. */
  enqueueMs: number;
}

function latency(ms: number[], missed: number[], enqueueMs: number[]): Latency {
  return { n: ms.length, missed: missed.length, missedProbes: missed, p50: percentile(ms, 50), p99: percentile(ms, 99), enqueueMs: round(mean(enqueueMs)) };
}

/** Single jobs on an idle worker, one at a time: enqueue → handler's first line, each waited for (and its completion). */
async function idleLatencies(tr: Tracker, prefix: string, enqueue: (key: string) => Promise<unknown>): Promise<Latency> {
  const ms: number[] = [];
  const enqueueMs: number[] = [];
  const missed: number[] = [];
  for (let k = 0; k < PROBES && missed.length < 3; k++) {
    const key = `${prefix}-${k}`;
    const t0 = Date.now();
    await enqueue(key);
    enqueueMs.push(Date.now() - t0);
    if (await tr.until(() => tr.firstStart.has(key), PROBE_WAIT_MS)) ms.push(tr.firstStart.get(key)! - t0);
    else missed.push(k);
    await tr.until(() => tr.done.has(key), PROBE_WAIT_MS);
  }
  return latency(ms, missed, enqueueMs);
}

/** Single jobs enqueued one every BENCH_PROBE_EVERY_MS while `busy()`; returns when each was enqueued. */
async function loadProbes(tr: Tracker, enqueue: (key: string) => Promise<unknown>, busy: () => boolean): Promise<{ sent: Map<string, number>; enqueueMs: number[] }> {
  const sent = new Map<string, number>();
  const enqueueMs: number[] = [];
  for (let k = 0; k < PROBES && busy(); k++) {
    const key = `busy-${k}`;
    const t0 = Date.now();
    sent.set(key, t0);
    await enqueue(key);
    enqueueMs.push(Date.now() - t0);
    await tr.until(() => !busy(), t0 + PROBE_EVERY_MS - Date.now());
  }
  return { sent, enqueueMs };
}

/** What a variant offers the load phase. */
interface LoadTarget {
  /** Enqueues one load job due at `at`. */
  enqueue(key: string, at: Date): Promise<unknown>;
  /** Enqueues one probe from another client, now. */
  probe(key: string): Promise<unknown>;
  /** Start and stop recording commands. */
  count(on: boolean): void;
}

interface LoadFigures {
  jobs: number;
  completed: number;
  /** Not all completed within BENCH_PHASE_TIMEOUT_MS. */
  timedOut: boolean;
  /** No first start, or no completion, for BENCH_STALL_MS with jobs left: given up. */
  stalled: boolean;
  /** The enqueue of all jobs ran past their due time (the enqueue's own commands then count). */
  enqueueOverlap: boolean;
  enqueueS: number;
  /** From the due moment to the first handler call, ms. */
  firstStartMs: number;
  /** From the due moment to the last completion: jobs/s; and the same from the first handler call. */
  seconds: number;
  jobsPerS: number;
  jobsPerSFromFirstStart: number;
  /**
   * Windows of the recorded commands (epoch ms): `window`, the one commands per attempt are counted
   * in, from one poll before the first handler call (not before the due moment) to the last
   * completion; `idleWindow`, before it from the due moment (a late first start); `trailingWindow`,
   * 2 polls after the last completion (work left behind, and idle polls).
   */
  window: [number, number];
  idleWindow: [number, number];
  trailingWindow: [number, number];
  /** Handler calls in `window` (load, probes and duplicates). */
  attemptsInWindow: number;
  underLoad: Latency;
  /** From the first handler call to the last completion, % of one core: the server (when local), and the whole machine (all cores). */
  serverCpuPct: number | null;
  machineCpuPct: number | null;
}

/** Enqueues `n` jobs all due at one moment, then times them to the last completion. */
async function runLoad(tr: Tracker, n: number, msPerEnqueue: number, target: LoadTarget): Promise<LoadFigures> {
  const enqueueFrom = Date.now();
  const due = enqueueFrom + Math.round(3000 + n * msPerEnqueue * 1.2);
  let next = 0;
  await Promise.all(
    Array.from({ length: ENQUEUE_PARALLEL }, async () => {
      while (next < n) await target.enqueue(`load-${next++}`, new Date(due));
    }),
  );
  const enqueued = Date.now();
  let cpuFrom = cpuSample();
  let cpuTo = cpuFrom;
  tr.on('first-load', () => (cpuFrom = cpuSample()));
  tr.on('load-complete', () => (cpuTo = cpuSample()));
  await new Promise((r) => setTimeout(r, Math.max(0, due - Date.now())));
  const countFrom = Date.now();
  target.count(true);
  const deadline = countFrom + PHASE_MS;
  let over = false;
  let stalled = !(await tr.until(() => tr.firstLoadAt > 0, Math.min(STALL_MS, deadline - Date.now())));
  const probes = loadProbes(tr, (key) => target.probe(key), () => tr.loadDone < n && !over);
  while (!stalled && tr.loadDone < n && Date.now() < deadline) {
    const seen = tr.loadDone;
    await tr.until(() => tr.loadDone > seen, Math.min(STALL_MS, deadline - Date.now()));
    stalled = tr.loadDone === seen && tr.loadDone < n && Date.now() < deadline;
  }
  over = true;
  const { sent, enqueueMs } = await probes;
  // Probes queued behind the load start after it: wait for them (bounded), then for late duplicates.
  await tr.until(() => [...sent.keys()].every((key) => tr.firstStart.has(key)), STALL_MS);
  const lastDone = tr.lastLoadDone;
  await new Promise((r) => setTimeout(r, Math.max(0, lastDone + 2 * POLL_MS - Date.now())));
  const countTo = Date.now();
  target.count(false);
  const started = [...sent].filter(([key]) => tr.firstStart.has(key));
  const notStarted = [...sent.keys()].filter((key) => !tr.firstStart.has(key)).map((key) => Number(key.split('-')[1]));
  const from = tr.firstLoadAt ? Math.max(countFrom, tr.firstLoadAt - POLL_MS) : countFrom;
  const to = lastDone || countTo;
  const pct = (a: number | null, b: number | null) => (a === null || b === null || !tr.firstLoadAt ? null : round(((b - a) / Math.max(1, cpuTo.at - cpuFrom.at)) * 100));
  const seconds = (since: number) => (since && lastDone ? (lastDone - since) / 1000 : 0);
  return {
    jobs: n,
    completed: tr.loadDone,
    timedOut: tr.loadDone < n && !stalled,
    stalled,
    enqueueOverlap: enqueued > due,
    enqueueS: round((enqueued - enqueueFrom) / 1000),
    firstStartMs: tr.firstLoadAt ? tr.firstLoadAt - due : -1,
    seconds: round(seconds(due)),
    jobsPerS: seconds(due) > 0 ? round(tr.loadDone / seconds(due)) : 0,
    jobsPerSFromFirstStart: seconds(tr.firstLoadAt) > 0 ? round(tr.loadDone / seconds(tr.firstLoadAt)) : 0,
    window: [from, to],
    idleWindow: [countFrom, from - 1],
    trailingWindow: [to + 1, Math.min(countTo, to + 2 * POLL_MS)],
    attemptsInWindow: tr.calls.filter((c) => c.at >= from && c.at <= to).length,
    underLoad: latency(
      started.map(([key, at]) => tr.firstStart.get(key)! - at),
      notStarted,
      enqueueMs,
    ),
    serverCpuPct: pct(cpuFrom.server, cpuTo.server),
    machineCpuPct: pct(cpuFrom.machine, cpuTo.machine),
  };
}

interface Result {
  variant: Variant;
  round: number;
  startupMs: number;
  load?: LoadFigures;
  handlerCalls: number;
  duplicateJobs: number;
  duplicateCalls: number;
  /** Commands in the load's windows (see LoadFigures). */
  commands: CommandCounts;
  idleCommands: CommandCounts;
  trailingCommands: CommandCounts;
  commandsPerAttempt: number;
  idleInProcess?: Latency;
  idleOtherClient?: Latency;
  /** The worker processes' CPU (summed) from the first handler call to the last completion, % of one core. */
  workerCpuPct: number;
  loadavg1: number;
  /** The engine code it ran (see codeState). */
  code: string;
  error?: string;
}

/** Handler calls per job id. */
function duplicates(tr: Tracker): { calls: number; jobs: number; extra: number } {
  const perId = new Map<string, number>();
  for (const c of tr.calls) perId.set(c.id, (perId.get(c.id) ?? 0) + 1);
  const dup = [...perId.values()].filter((v) => v > 1);
  return { calls: tr.calls.length, jobs: dup.length, extra: dup.reduce((a, v) => a + v - 1, 0) };
}

/** raw Agenda, bare or serve, in this process. */
async function runInProcess(variant: 'raw' | 'bare' | 'serve', roundNo: number): Promise<Result> {
  const dbName = `bench_engine_${variant}_${roundNo}_${Date.now()}`;
  const client = new MongoClient(url, { monitorCommands: true, serverSelectionTimeoutMS: 15_000 });
  const counter = new CommandCounter(client, dbName);
  const plainDb = bench.db.client.db(dbName);
  const tr = new Tracker();
  const db = client.db(dbName);
  const opts = { name: `bench-${variant}`, pollMs: POLL_MS, lockLimit: RAW_LOCK_LIMIT };
  const worker = variant === 'raw' ? rawAgenda(db, opts, tr.events) : ourEngine(variant, db, opts, tr.events);
  // The producer enqueues through another client, as the CLI or another process would.
  const producer = variant === 'raw' ? rawAgenda(plainDb, { name: 'bench-producer', pollMs: POLL_MS }) : ourEngine('bare', plainDb, { name: 'bench-producer', pollMs: POLL_MS });
  let cpuFrom = process.cpuUsage();
  let cpuMs = 0;
  tr.on('first-load', () => (cpuFrom = process.cpuUsage()));
  tr.on('load-complete', () => (cpuMs = cpuMsSince(cpuFrom)));
  const result = emptyResult(variant, roundNo);
  try {
    await client.connect();
    const t0 = Date.now();
    await withTimeout(worker.start(), START_MS, `${variant} start`);
    result.startupMs = Date.now() - t0;
    await withTimeout(producer.start(), START_MS, 'producer start');
    result.idleInProcess = await idleLatencies(tr, 'idle-in', (key) => worker.enqueue(PROBE, key));
    result.idleOtherClient = await idleLatencies(tr, 'idle-other', (key) => producer.enqueue(PROBE, key));
    producerEnqueueMs = Math.max(producerEnqueueMs, result.idleOtherClient.enqueueMs);
    result.load = await runLoad(tr, variant === 'raw' ? RAW_JOBS : JOBS, result.idleInProcess.enqueueMs, {
      enqueue: (key, at) => worker.enqueue(NOOP, key, at),
      probe: (key) => producer.enqueue(PROBE, key),
      count: (on) => (counter.counting = on),
    });
    result.workerCpuPct = cpuPct(cpuMs, tr);
  } catch (err) {
    result.error = (err as Error).message;
  } finally {
    counter.counting = false;
    await withTimeout(worker.stop(), STOP_MS, 'worker stop').catch((err: Error) => (result.error ??= err.message));
      await withTimeout(producer.stop(), STOP_MS, 'producer stop').catch(() => {});
    await plainDb.dropDatabase().catch(() => {});
    await client.close().catch(() => {});
  }
  const windows = result.load ? [result.load.window, result.load.idleWindow, result.load.trailingWindow] : [];
  return finish(result, tr, windows.map(([from, to]) => counter.between(from, to)));
}

/** Mean producer enqueue (ms) seen so far: sizes the wait before the processes' load is due. */
let producerEnqueueMs = 20;

/** `serve`-built workers in one or two child processes on one database; jobs from a producer here. */
async function runProcesses(variant: 'one' | 'two', roundNo: number): Promise<Result> {
  const dbName = `bench_engine_${variant}_${roundNo}_${Date.now()}`;
  const plainDb = bench.db.client.db(dbName);
  const tr = new Tracker();
  const producer = ourEngine('bare', plainDb, { name: 'bench-producer', pollMs: POLL_MS });
  const result = emptyResult(variant, roundNo);
  const kids: ChildWorker[] = [];
  const counts: CommandCounts[] = [];
  try {
    await withTimeout(producer.start(), START_MS, 'producer start');
    for (let k = 1; k <= (variant === 'one' ? 1 : 2); k++) kids.push(startChildWorker({ name: `bench-proc-${roundNo}-${k}`, url, dbName, pollMs: POLL_MS }, tr.events));
    result.startupMs = Math.max(...(await withTimeout(Promise.all(kids.map((k) => k.ready)), START_MS, 'worker processes ready')));
    result.load = await runLoad(tr, JOBS, producerEnqueueMs, {
      enqueue: (key, at) => producer.enqueue(NOOP, key, at),
      probe: (key) => producer.enqueue(PROBE, key),
      count: (on) => kids.forEach((k) => k.send({ t: 'count', on })),
    });
    const windows = [result.load.window, result.load.idleWindow, result.load.trailingWindow];
    kids.forEach((k) => k.send({ t: 'stop', windows }));
    let cpuMs = 0;
    for (const s of await withTimeout(Promise.all(kids.map((k) => k.stopped)), STOP_MS, 'worker processes stop')) {
      s.commands.forEach((c, i) => addCounts((counts[i] ??= { total: 0, byName: {} }), c));
      cpuMs += s.cpuMs;
    }
    result.workerCpuPct = cpuPct(cpuMs, tr);
  } catch (err) {
    result.error = (err as Error).message;
  } finally {
    await reap(kids);
    await withTimeout(producer.stop(), STOP_MS, 'producer stop').catch(() => {});
    await plainDb.dropDatabase().catch(() => {});
  }
  return finish(result, tr, counts);
}

function addCounts(to: CommandCounts, from: CommandCounts): void {
  to.total += from.total;
  for (const [name, n] of Object.entries(from.byName)) to.byName[name] = (to.byName[name] ?? 0) + n;
}

/** CPU ms over the load, from its first handler call to its last completion, in % of one core. */
function cpuPct(cpuMs: number, tr: Tracker): number {
  return round((cpuMs / Math.max(1, tr.lastLoadDone - tr.firstLoadAt)) * 100);
}

function emptyResult(variant: Variant, roundNo: number): Result {
  const none = { total: 0, byName: {} };
  return {
    variant,
    round: roundNo,
    startupMs: 0,
    handlerCalls: 0,
    duplicateJobs: 0,
    duplicateCalls: 0,
    commands: none,
    idleCommands: none,
    trailingCommands: none,
    commandsPerAttempt: 0,
    workerCpuPct: 0,
    loadavg1: round2(os.loadavg()[0]),
    code: variant === 'one' || variant === 'two' ? codeState() : startCode,
  };
}

/** Fills in duplicates and commands (`counts`: the load's window, idle window, trailing window). */
function finish(result: Result, tr: Tracker, counts: CommandCounts[]): Result {
  const dup = duplicates(tr);
  result.handlerCalls = dup.calls;
  result.duplicateJobs = dup.jobs;
  result.duplicateCalls = dup.extra;
  [result.commands = result.commands, result.idleCommands = result.idleCommands, result.trailingCommands = result.trailingCommands] = counts;
  result.commandsPerAttempt = round(result.commands.total / Math.max(1, result.load?.attemptsInWindow ?? 0));
  return result;
}

async function serverAnswers(): Promise<boolean> {
  return withTimeout(bench.db.command({ ping: 1 }), 15_000, 'ping').then(
    () => true,
    () => false,
  );
}

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what}: no answer within ${ms} ms`)), ms)));
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}

/** CPU ms so far of the server (the process listening on its port, if local and ours to see), and busy ms of the whole machine. */
function cpuSample(): { at: number; server: number | null; machine: number | null } {
  const ticksToMs = (t: number) => (t * 1000) / CLOCK_TICKS;
  let machine: number | null = null;
  try {
    // cpu  user nice system idle iowait irq softirq steal ...: busy = all but idle and iowait.
    const f = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1, 9).map(Number);
    machine = ticksToMs(f.reduce((a, b) => a + b, 0) - f[3] - f[4]);
  } catch {
    // not Linux
  }
  const ticks = serverPid === undefined ? undefined : cpuTicks(serverPid);
  return { at: Date.now(), server: ticks === undefined ? null : ticksToMs(ticks), machine };
}

const round = (x: number) => Math.round(x * 10) / 10;
const round2 = (x: number) => Math.round(x * 100) / 100;
const mean = (xs: number[]) => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : 0);
const pair = (l: Latency | undefined) => (l ? `${l.p50} / ${l.p99}${l.missed ? ` (${l.missed} missed)` : ''}` : '-');

async function serverInfo(db: Db, source: string): Promise<Record<string, unknown>> {
  const info = await db.admin().command({ buildInfo: 1 }).catch(() => ({}) as Record<string, unknown>);
  const status = await db.admin().command({ serverStatus: 1 }).catch(() => ({}) as Record<string, unknown>);
  const ferretdb = info.ferretdbVersion ?? status.ferretdbVersion ?? (info.ferretdb as { version?: string } | undefined)?.version;
  return { source, version: info.version ?? status.version ?? null, ...(ferretdb ? { ferretdb } : {}) };
}

/**
 * The engine code a worker runs: the commit, and `+<hash>` of the uncommitted changes to src/ and
 * jobs/ (untracked files included). Workers in this process run the code loaded at the bench's
 * start; a worker process loads the code of the moment it is spawned.
 */
function codeState(): string {
  const head = git(['rev-parse', '--short', 'HEAD']);
  const diff = git(['diff', 'HEAD', '--', 'src', 'jobs']);
  const untracked = git(['ls-files', '--others', '--exclude-standard', '--', 'src', 'jobs']).split('\n').filter(Boolean);
  if (!diff && untracked.length === 0) return head;
  const hash = createHash('sha1').update(diff);
  for (const file of untracked) hash.update(file).update(readFileSync(new URL(`../${file}`, import.meta.url)));
  return `${head}+${hash.digest('hex').slice(0, 12)}`;
}

function git(args: string[]): string {
  try {
    return execFileSync('git', args, { cwd: fileURLToPath(new URL('..', import.meta.url)), encoding: 'utf8' }).trim();
  } catch {
    return '';
  }
}

// A hard bound on the whole run: the local server dies with this process, the workers on disconnect.
const MAX_MS = num('BENCH_MAX_MS', 60 * 60_000);
setTimeout(() => {
  console.error(`bench/engine.ts: over BENCH_MAX_MS (${MAX_MS} ms); exiting`);
  process.exit(2);
}, MAX_MS).unref();

const loadavgBefore = os.loadavg().map(round2);
const commit = git(['log', '-1', '--oneline']);
const dirty = git(['status', '--porcelain', '--', 'src', 'jobs']).split('\n').filter(Boolean);
const startCode = codeState();
const diffSha = startCode.split('+')[1] ?? null;
const bench = await benchDb('bench_engine');
const url = process.env.MONGODB_URL ?? `mongodb://${bench.db.client.options.hosts.map(String).join(',')}/`;
const serverHost = bench.db.client.options.hosts[0];
const serverPid = serverHost && /^(127\.0\.0\.1|localhost|::1)$/.test(serverHost.host ?? '') && serverHost.port ? pidListeningOn(serverHost.port) : undefined;
const results: Result[] = [];
let server: Record<string, unknown> = { source: bench.source };
try {
  server = await serverInfo(bench.db, bench.source);
  console.log(`engine bench at ${commit}${dirty.length ? ` (uncommitted changes ${diffSha}: ${dirty.map((d) => d.trim()).join(', ')})` : ''}; server ${JSON.stringify(server)}; poll ${POLL_MS} ms; load ${loadavgBefore.join(' ')}`);
  for (let r = 1; r <= ROUNDS; r++) {
    for (const v of VARIANTS) {
      const t0 = Date.now();
      const res = v === 'one' || v === 'two' ? await runProcesses(v, r) : await runInProcess(v, r);
      results.push(res);
      const l = res.load;
      console.log(
        `round ${r}, ${LABELS[v]}${res.code === startCode ? '' : ` (code ${res.code}, changed since the start)`}: ${l ? `${l.completed}/${l.jobs} jobs, ${l.jobsPerS} jobs/s (${l.jobsPerSFromFirstStart} from the first start)` : 'no load'}, ${res.commandsPerAttempt} cmds/attempt, ` +
          `${res.duplicateJobs} duplicated jobs${res.error ? `; error: ${res.error}` : ''} (${round((Date.now() - t0) / 1000)} s)`,
      );
      if (res.error && !(await serverAnswers())) throw new Error(`the server stopped answering during ${LABELS[v]}: figures so far follow`);
    }
  }
} catch (err) {
  console.error((err as Error).message);
} finally {
  await bench.close();
}
const loadavgAfter = os.loadavg().map(round2);

const byVariant = (v: Variant) => results.filter((r) => r.variant === v);
const meanRate = (v: Variant, from: 'due' | 'first' = 'due') =>
  round(mean(byVariant(v).map((r) => (from === 'due' ? r.load?.jobsPerS : r.load?.jobsPerSFromFirstStart) ?? 0)));
const ratio = (a: Variant, b: Variant, from: 'due' | 'first' = 'due') =>
  meanRate(b, from) > 0 && byVariant(a).length ? round2(meanRate(a, from) / meanRate(b, from)) : null;
const ratiosFor = (from: 'due' | 'first') => ({ bareOverRaw: ratio('bare', 'raw', from), serveOverRaw: ratio('serve', 'raw', from), twoOverOne: ratio('two', 'one', from) });
const ratios = ratiosFor('due');
const ratiosFromFirstStart = ratiosFor('first');

console.log(`\nraw Agenda vs our engine (${JSON.stringify(server)}, poll ${POLL_MS} ms, concurrency ${CONCURRENCY}; load ${loadavgBefore.join(' ')} → ${loadavgAfter.join(' ')})`);
console.table(
  Object.fromEntries(
    results.map((r) => [
      `${LABELS[r.variant]}${ROUNDS > 1 ? ` #${r.round}` : ''}`,
      {
        jobs: r.load ? `${r.load.completed}/${r.load.jobs}${r.load.timedOut ? ' (timed out)' : r.load.stalled ? ' (stalled)' : ''}${r.load.enqueueOverlap ? ' (enqueue overlapped)' : ''}` : r.error,
        's': r.load?.seconds,
        'jobs/s': r.load?.jobsPerS,
        'jobs/s from 1st start': r.load?.jobsPerSFromFirstStart,
        '1st start after due, ms': r.load?.firstStartMs,
        'handler calls': r.handlerCalls,
        'dup jobs (extra calls)': `${r.duplicateJobs} (${r.duplicateCalls})`,
        'cmds/attempt': r.commandsPerAttempt,
        'idle, own process p50/p99 ms': pair(r.idleInProcess),
        'idle, other client p50/p99 ms': pair(r.idleOtherClient),
        'under load p50/p99 ms (n)': r.load ? `${pair(r.load.underLoad)} (${r.load.underLoad.n})` : '-',
        'server CPU %': r.load?.serverCpuPct ?? '-',
        'machine CPU % (of 1 core)': r.load?.machineCpuPct ?? '-',
        'worker CPU % (all processes)': r.workerCpuPct,
        'start-up ms': r.startupMs,
        'load 1m': r.loadavg1,
        code: r.code,
      },
    ]),
  ),
);
const says = (r: typeof ratios) => `ours bare / raw ${r.bareOverRaw}, ours as serve / raw ${r.serveOverRaw}, two processes / one ${r.twoOverOne}`;
console.log(`jobs/s ratios, from the due moment: ${says(ratios)}; from the first handler call: ${says(ratiosFromFirstStart)}`);
if (RAW_JOBS !== JOBS) console.log(`NB: raw Agenda ran ${RAW_JOBS} jobs, the others ${JOBS}: the ours/raw ratios compare different sizes.`);
if (results.some((r) => r.code !== startCode)) console.log(`NB: the engine code changed during the run (started at ${startCode}); see each row's code.`);

// Commands per attempt by command and collection, summed over rounds.
const breakdown: Record<string, Record<string, number>> = {};
for (const v of VARIANTS) {
  const attempts = byVariant(v).reduce((a, r) => a + (r.load?.attemptsInWindow ?? 0), 0);
  for (const r of byVariant(v)) {
    for (const [name, n] of Object.entries(r.commands.byName)) {
      breakdown[name] ??= {};
      breakdown[name][LABELS[v]] = round2((breakdown[name][LABELS[v]] ?? 0) + n / Math.max(1, attempts));
    }
  }
}
const sortBy = LABELS[VARIANTS.includes('serve') ? 'serve' : VARIANTS[0]];
console.log('\ncommands per attempt, by command and collection');
console.table(Object.fromEntries(Object.entries(breakdown).sort(([, a], [, b]) => (b[sortBy] ?? 0) - (a[sortBy] ?? 0))));
const listed = (c: CommandCounts) => Object.entries(c.byName).map(([name, n]) => `${n} ${name}`).join(', ') || 'none';
for (const r of results) {
  if (r.idleCommands.total) console.log(`${LABELS[r.variant]} #${r.round}, before its first start: ${listed(r.idleCommands)}`);
  console.log(`${LABELS[r.variant]} #${r.round}, in ${2 * POLL_MS} ms after its last completion: ${listed(r.trailingCommands)}`);
}

console.log(
  JSON.stringify({
    bench: 'engine',
    commit,
    uncommitted: dirty,
    code: startCode,
    server,
    node: process.version,
    cpus: os.cpus().length,
    loadavgBefore,
    loadavgAfter,
    settings: {
      jobs: JOBS,
      rawJobs: RAW_JOBS,
      rounds: ROUNDS,
      probes: PROBES,
      probeEveryMs: PROBE_EVERY_MS,
      processEveryMs: POLL_MS,
      concurrency: CONCURRENCY,
      enqueue: 'load: the worker’s own enqueue (processes: a producer Engine’s), 10 at a time, all due at one moment; probes: one at a time',
    },
    ratios,
    ratiosFromFirstStart,
    meanJobsPerS: Object.fromEntries(VARIANTS.map((v) => [v, meanRate(v)])),
    results,
  }),
);
process.exit(0);
