/**
 * The workers bench/engine.ts measures, and how it watches them: raw Agenda 6 and our engine
 * (bare, or as `serve` builds it) in the bench's process, or `serve`-built in a child process,
 * all running the same no-op job types whose handler reports each call; a command counter on a
 * monitored client; the messages between the bench and a child.
 *
 * Run as a child (by bench/engine.ts, with an IPC channel and BENCH_MONGO_URL, BENCH_DB,
 * WORKER_NAME, ENGINE_PROCESS_EVERY_MS), it starts one `createApp(...)` engine with `work: true`
 * on a client with command monitoring, says `ready`, reports every handler call (`call`) and
 * completion (`done`), records commands while the bench says `count` on, measures its CPU from
 * its first load call to its last load completion, and on `stop` stops the app and reports the
 * commands in the windows the bench names (`stopped`). It exits when the bench goes away.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import type { EventEmitter } from 'node:events';
import { fileURLToPath } from 'node:url';
import { MongoBackend } from '@agendajs/mongo-backend';
import { Agenda, type Job } from 'agenda';
import { MongoClient, type CommandStartedEvent, type Db } from 'mongodb';
import { z } from 'zod';
import { createApp } from '../src/app/index.ts';
import { loadConfig } from '../src/config.ts';
import { defineJob, JobRegistry, type JobDefinition } from '../src/engine/defineJob.ts';
import { Engine } from '../src/engine/engine.ts';
import { silentLogger } from '../src/log.ts';

/** The job type of the throughput load; its keys start with `load-`. */
export const NOOP = 'bench.noop';
/** The job type of the latency probes: a queue of its own. */
export const PROBE = 'bench.probe';
/** ENGINE_MAX_CONCURRENCY and each job type's concurrency. */
export const CONCURRENCY = 20;

/** One handler call: the job's key (its payload), its id, and when the handler's first line ran (epoch ms). */
export interface HandlerCall {
  key: string;
  id: string;
  at: number;
}

/** What a worker tells about its jobs: each handler call, and each completion of a job whose handler ran. */
export interface WorkerEvents {
  call(c: HandlerCall): void;
  done(key: string, at: number): void;
}

/** A worker in this process. */
export interface InProcessWorker {
  start(): Promise<unknown>;
  enqueue(name: string, key: string, at?: Date): Promise<unknown>;
  stop(): Promise<unknown>;
}

/**
 * Raw Agenda 6 on MongoBackend with Agenda's defaults but concurrency 20 (and `lockLimit`, 0 =
 * Agenda's default, no limit). Without `events` it only enqueues: `start` only connects.
 */
export function rawAgenda(db: Db, opts: { name: string; pollMs: number; lockLimit?: number }, events?: WorkerEvents): InProcessWorker {
  const agenda = new Agenda({
    backend: new MongoBackend({ mongo: db }),
    name: opts.name,
    processEvery: opts.pollMs,
    maxConcurrency: CONCURRENCY,
    defaultConcurrency: CONCURRENCY,
    lockLimit: opts.lockLimit ?? 0,
  });
  if (events) {
    const call = watchCompletions(agenda, events);
    for (const job of [NOOP, PROBE]) {
      agenda.define(job, async (j: Job<{ key: string }>) => call({ key: j.attrs.data.key, id: String(j.attrs._id), at: Date.now() }), { concurrency: CONCURRENCY });
    }
  }
  return {
    start: async () => {
      await agenda.ready;
      if (events) await agenda.start();
    },
    enqueue: (job, key, at) => agenda.create(job, { key }).schedule(at ?? new Date()).save(),
    stop: () => agenda.stop(false),
  };
}

/**
 * Our engine with the two no-op job types at concurrency 20: `bare` is `new Engine(...)`, `serve`
 * is `createApp(...)` (flow-control guards, built-in jobs). Without `events` it only enqueues
 * (`start` is `work: false`, as the CLI's `jobs run`).
 */
export function ourEngine(kind: 'bare' | 'serve', db: Db, opts: { name: string; pollMs: number }, events?: WorkerEvents): InProcessWorker {
  const config = Object.freeze({ ...loadConfig({}), WORKER_NAME: opts.name, ENGINE_PROCESS_EVERY_MS: opts.pollMs, ENGINE_MAX_CONCURRENCY: CONCURRENCY });
  let call = (_: HandlerCall) => {};
  const jobs = [NOOP, PROBE].map(
    (name): JobDefinition =>
      defineJob({
        name,
        payload: z.object({ key: z.string() }),
        concurrency: CONCURRENCY,
        async handler(ctx) {
          call({ key: ctx.payload.key, id: ctx.jobId, at: Date.now() });
        },
      }),
  );
  const app = kind === 'serve' ? createApp({ config, db, log: silentLogger(), extraJobs: jobs }) : undefined;
  const engine = app?.engine ?? new Engine({ db, config, log: silentLogger(), jobs: new JobRegistry(jobs) });
  if (events) call = watchCompletions(engine.agenda, events);
  return {
    start: () => engine.start({ work: !!events }),
    enqueue: (job, key, at) => engine.enqueue(job, { key }, { at }),
    stop: () => (app ? app.stop(5000) : engine.stop(5000)),
  };
}

/**
 * Reports `done` on Agenda's 'complete' (the job's state saved) of a job whose handler ran here
 * (a deferred attempt completes too); returns what the handler calls.
 */
function watchCompletions(agenda: EventEmitter, events: WorkerEvents): (c: HandlerCall) => void {
  const called = new Set<string>();
  agenda.on('complete', (job: { attrs: { data?: { key?: unknown } } }) => {
    const key = job.attrs.data?.key;
    if (typeof key === 'string' && called.has(key)) events.done(key, Date.now());
  });
  return (c) => {
    called.add(c.key);
    events.call(c);
  };
}

/** Commands by command and collection ("update agendaJobs"), and their total. */
export interface CommandCounts {
  total: number;
  byName: Record<string, number>;
}

/** Database commands started on one client against one database while `counting`, with their start times. */
export class CommandCounter {
  counting = false;
  private readonly seen: Array<{ at: number; key: string }> = [];

  constructor(client: MongoClient, dbName: string) {
    client.on('commandStarted', (e: CommandStartedEvent) => {
      if (!this.counting || e.databaseName !== dbName) return;
      const target = e.commandName === 'getMore' ? e.command.collection : e.command[e.commandName];
      this.seen.push({ at: Date.now(), key: typeof target === 'string' ? `${e.commandName} ${target}` : e.commandName });
    });
  }

  /** The commands started in [from, to] (epoch ms). */
  between(from: number, to: number): CommandCounts {
    const byName: Record<string, number> = {};
    let total = 0;
    for (const c of this.seen) {
      if (c.at < from || c.at > to) continue;
      total++;
      byName[c.key] = (byName[c.key] ?? 0) + 1;
    }
    return { total, byName };
  }
}

type Stopped = { t: 'stopped'; commands: CommandCounts[]; cpuMs: number };
/** Child → bench. */
type WorkerMessage = { t: 'ready'; startupMs: number } | { t: 'call'; call: HandlerCall } | { t: 'done'; key: string; at: number } | Stopped;
/** Bench → child: `stop` asks for the commands counted in each window ([from, to], epoch ms). */
type BenchMessage = { t: 'count'; on: boolean } | { t: 'stop'; windows: Array<[number, number]> };

/** A worker in a child process. */
export interface ChildWorker {
  child: ChildProcess;
  /** Its engine's start-up, ms; rejects if it exits first. */
  ready: Promise<number>;
  /** Commands per asked window, and its CPU over the load; rejects if it exits first. */
  stopped: Promise<Stopped>;
  send(m: BenchMessage): void;
}

/** Starts a `serve`-built worker process on database `dbName`. */
export function startChildWorker(opts: { name: string; url: string; dbName: string; pollMs: number }, events: WorkerEvents): ChildWorker {
  const child = spawn(process.execPath, [fileURLToPath(import.meta.url)], {
    env: { ...process.env, BENCH_MONGO_URL: opts.url, BENCH_DB: opts.dbName, WORKER_NAME: opts.name, ENGINE_PROCESS_EVERY_MS: String(opts.pollMs) },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const exited = new Promise<never>((_, reject) => child.once('exit', (code, signal) => reject(new Error(`${opts.name} exited (${code ?? signal})`))));
  let ready!: (ms: number) => void;
  let stopped!: (m: Stopped) => void;
  const readyP = Promise.race([new Promise<number>((r) => (ready = r)), exited]);
  const stoppedP = Promise.race([new Promise<Stopped>((r) => (stopped = r)), exited]);
  for (const p of [exited, readyP, stoppedP]) p.catch(() => {});
  child.on('message', (m: WorkerMessage) => {
    if (m.t === 'ready') ready(m.startupMs);
    else if (m.t === 'call') events.call(m.call);
    else if (m.t === 'done') events.done(m.key, m.at);
    else if (m.t === 'stopped') stopped(m);
  });
  return { child, ready: readyP, stopped: stoppedP, send: (m) => void (child.connected && child.send(m)) };
}

/** Ends the worker processes still running: SIGTERM, then SIGKILL after 5 s. */
export async function reap(workers: ChildWorker[]): Promise<void> {
  await Promise.all(
    workers.map(async ({ child }) => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const gone = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await gone;
      clearTimeout(timer);
    }),
  );
}

/** CPU time (user + system) of this process since `from`, ms. */
export function cpuMsSince(from: NodeJS.CpuUsage): number {
  const d = process.cpuUsage(from);
  return (d.user + d.system) / 1000;
}

async function child(): Promise<void> {
  const send = (m: WorkerMessage) => process.send?.(m);
  process.on('disconnect', () => process.exit(1));
  const url = process.env.BENCH_MONGO_URL;
  if (!url) throw new Error('BENCH_MONGO_URL is not set: bench/engine.ts starts this file');
  const client = new MongoClient(url, { monitorCommands: true });
  await client.connect();
  const db = client.db(process.env.BENCH_DB);
  const counter = new CommandCounter(client, db.databaseName);
  let cpuFrom: NodeJS.CpuUsage | undefined;
  let cpuMs = 0;
  const worker = ourEngine(
    'serve',
    db,
    { name: process.env.WORKER_NAME ?? `bench-${process.pid}`, pollMs: Number(process.env.ENGINE_PROCESS_EVERY_MS ?? 1000) },
    {
      call(call) {
        if (!cpuFrom && call.key.startsWith('load-')) cpuFrom = process.cpuUsage();
        send({ t: 'call', call });
      },
      done(key, at) {
        if (cpuFrom && key.startsWith('load-')) cpuMs = cpuMsSince(cpuFrom);
        send({ t: 'done', key, at });
      },
    },
  );
  const t0 = Date.now();
  await worker.start();
  send({ t: 'ready', startupMs: Date.now() - t0 });
  process.on('message', (m: BenchMessage) => {
    if (m.t === 'count') counter.counting = m.on;
    else if (m.t === 'stop') {
      counter.counting = false;
      void worker
        .stop()
        .catch(() => {})
        .finally(async () => {
          send({ t: 'stopped', commands: m.windows.map(([from, to]) => counter.between(from, to)), cpuMs });
          await client.close().catch(() => {});
          process.disconnect();
        });
    }
  });
}

if (import.meta.main) await child();
