/**
 * The work of the fault suite and bench/faults.ts: a slow local HTTP provider that counts
 * `http.invoke` calls per job and knows which are open, a producer that enqueues keyed jobs,
 * read-backs of jobs, runs and dead letters, and kills of a worker caught mid-call.
 */
import { MongoClient, ObjectId, type Db } from 'mongodb';
import { loadConfig } from '../../src/config.ts';
import { collections, type AgendaJobDoc, type DeadLetterDoc, type JobRunDoc } from '../../src/db/collections.ts';
import { JobRegistry } from '../../src/engine/defineJob.ts';
import { Engine } from '../../src/engine/engine.ts';
import { FINISHED_JOBS } from '../../src/engine/retirement.ts';
import { silentLogger } from '../../src/log.ts';
import { httpInvokeJob } from '../../jobs/httpInvoke.ts';
import { sendJson, startHttpServer, type FakeServer } from '../support/fakeHttp.ts';
import { Recorder, waitFor } from '../support/waitFor.ts';
import { deathNote, pollUntil, type ServeProcess } from './cluster.ts';

/** One `http.invoke` call as the provider saw it. */
export interface ProviderCall {
  key: string;
  startedAt: number;
  /** When the answer was sent or the caller went away. */
  endedAt?: number;
  /** True once the 200 was written. */
  answered: boolean;
}

/**
 * A local HTTP provider for `http.invoke`: `POST /call/<key>` answers 200 after `delayMs`.
 * Counts calls per key and knows which are open (the worker's connection still up, no answer yet).
 * Emits 'change' on every call start and end.
 */
export class SlowProvider extends Recorder<ProviderCall> {
  delayMs: number;
  private readonly server: FakeServer;
  private readonly open = new Set<ProviderCall>();
  private readonly timers = new Set<NodeJS.Timeout>();

  private constructor(server: FakeServer, delayMs: number) {
    super();
    this.server = server;
    this.delayMs = delayMs;
  }

  static async start(delayMs: number): Promise<SlowProvider> {
    let provider: SlowProvider | undefined;
    const server = await startHttpServer((req, res) => provider?.handle(req.url ?? '', res));
    provider = new SlowProvider(server, delayMs);
    return provider;
  }

  /** The payload URL for job `key`. */
  url(key: string): string {
    return `${this.server.origin}/call/${encodeURIComponent(key)}`;
  }

  /** The calls open now. */
  openCalls(): ProviderCall[] {
    return [...this.open];
  }

  /** Keys of the calls open now. */
  openKeys(): string[] {
    return [...this.open].map((c) => c.key);
  }

  /** Calls per key. */
  counts(): Map<string, number> {
    const out = new Map<string, number>();
    for (const c of this.items) out.set(c.key, (out.get(c.key) ?? 0) + 1);
    return out;
  }

  async close(): Promise<void> {
    for (const t of this.timers) clearTimeout(t);
    await this.server.close();
  }

  private handle(url: string, res: import('node:http').ServerResponse): void {
    const m = /^\/call\/([^/?]+)/.exec(url);
    if (!m) return sendJson(res, 404, { error: 'no such call' });
    const call: ProviderCall = { key: decodeURIComponent(m[1]), startedAt: Date.now(), answered: false };
    this.open.add(call);
    const end = () => {
      clearTimeout(timer);
      this.timers.delete(timer);
      if (!this.open.delete(call)) return;
      call.endedAt = Date.now();
      this.emit('change', call);
    };
    // The caller went away first (its worker was killed): the call stays unanswered.
    res.on('close', end);
    const timer = setTimeout(() => {
      call.answered = true;
      sendJson(res, 200, { ok: true, key: call.key });
      end();
    }, this.delayMs);
    this.timers.add(timer);
    this.record(call);
  }
}

/** Enqueues `http.invoke` jobs from this process (an engine that does not work). */
export class Producer {
  readonly client: MongoClient;
  readonly db: Db;
  private readonly engine: Engine;

  private constructor(client: MongoClient, db: Db, engine: Engine) {
    this.client = client;
    this.db = db;
    this.engine = engine;
  }

  /** `mongoUrl` names the database, as MONGODB_URL does. */
  static async connect(mongoUrl: string): Promise<Producer> {
    const client = await MongoClient.connect(mongoUrl);
    const db = client.db();
    const config = { ...loadConfig({}), WORKER_NAME: 'fault-producer' };
    const engine = new Engine({ db, config, log: silentLogger(), jobs: new JobRegistry([httpInvokeJob({ allowedHosts: [] })]) });
    await engine.start({ work: false, ensureIndexes: true });
    return new Producer(client, db, engine);
  }

  /** Provider key by job id, and job id by key, of every job enqueued with `invokeMany`. */
  readonly keyOf = new Map<string, string>();
  readonly idOf = new Map<string, string>();
  /** When each key was enqueued (ms). */
  readonly enqueuedAt = new Map<string, number>();

  /** One `http.invoke` of `url`; returns the job id. */
  async invoke(url: string): Promise<string> {
    return (await this.engine.enqueue('http.invoke', { url, timeoutMs: 60_000 })).id;
  }

  /** `count` more jobs calling `provider`, keyed `job-<n>`; returns their ids. */
  async invokeMany(provider: SlowProvider, count: number): Promise<string[]> {
    const ids: string[] = [];
    for (let i = 0; i < count; i++) {
      const key = `job-${this.keyOf.size}`;
      const id = await this.invoke(provider.url(key));
      this.keyOf.set(id, key);
      this.idOf.set(key, id);
      this.enqueuedAt.set(key, Date.now());
      ids.push(id);
    }
    return ids;
  }

  async close(): Promise<void> {
    await this.engine.stop(0);
    await this.client.close();
  }
}

/** Where every job of `ids` stands. */
export interface JobsReport {
  /** Ids with a success run whose Agenda document is settled (unlocked, nothing due) or retired to `finishedJobs`. */
  finished: string[];
  unfinished: string[];
  deadLetters: DeadLetterDoc[];
  runs: JobRunDoc[];
}

/** Reads the jobs, their runs and dead letters back. */
export async function reportJobs(db: Db, ids: readonly string[]): Promise<JobsReport> {
  const cols = collections(db);
  const byId = { _id: { $in: ids.map((id) => new ObjectId(id)) } };
  const live = new Map((await cols.agendaJobs.find(byId).toArray()).map((d) => [String(d._id), d]));
  // A one-off job that succeeded leaves agendaJobs a little later (src/engine/retirement.ts).
  const retired = new Set((await db.collection<AgendaJobDoc>(FINISHED_JOBS).find(byId, { projection: { _id: 1 } }).toArray()).map((d) => String(d._id)));
  const runs = await cols.jobRuns.find({ jobName: 'http.invoke' }).toArray();
  const succeeded = new Set(runs.filter((r) => r.outcome === 'success').map((r) => r.jobId));
  const settled = (id: string) => {
    const d = live.get(id);
    return d ? d.lockedAt == null && d.nextRunAt == null && d.lastFinishedAt != null : retired.has(id);
  };
  const finished = ids.filter((id) => succeeded.has(id) && settled(id));
  const deadLetters = await cols.deadLetters.find({}).toArray();
  return { finished, unfinished: ids.filter((id) => !finished.includes(id)), deadLetters, runs };
}

/**
 * Polls `reportJobs` until every job finished or is dead-lettered (it will not finish then), or
 * `timeoutMs` passed; returns the last report.
 */
export function waitForJobs(db: Db, ids: readonly string[], timeoutMs: number): Promise<JobsReport> {
  const over = (r: JobsReport) => {
    const dead = new Set(r.deadLetters.map((d) => d.jobId));
    return r.unfinished.every((id) => dead.has(id));
  };
  return pollUntil(() => reportJobs(db, ids), over, timeoutMs, 500);
}

/** Attempts of `worker` that never recorded an outcome (it died running them). */
export async function runningAttemptsOf(db: Db, worker: string): Promise<JobRunDoc[]> {
  return collections(db).jobRuns.find({ worker, outcome: 'running' }).toArray();
}

/** One SIGKILL of a worker, and what was in flight then. */
export interface Kill {
  victim: string;
  at: number;
  /** Jobs (by key) whose call the provider had open when the kill was sent (on either worker). */
  openAtKill: string[];
  /** Those calls; the killed worker's end unanswered (its connection died with it). */
  openCalls: ProviderCall[];
  /** Jobs (by key) whose attempt on the killed worker never recorded an outcome. */
  diedRunning: string[];
}

/** The kill caught the job in flight: its call dropped by the kill, or its outcome never recorded. */
export function caughtInFlight(k: Kill, key: string): boolean {
  return k.diedRunning.includes(key) || k.openCalls.some((c) => c.key === key && !c.answered);
}

/**
 * Waits (up to `timeoutMs`) until `victim` runs an attempt whose call `provider` has open, then
 * SIGKILLs it there. Whenever every job enqueued so far has been called (the other worker took
 * them all), enqueues `feed` more, so the victim gets work. Throws if the victim dies first or
 * never gets that far.
 */
export async function killMidCall(victim: ServeProcess, provider: SlowProvider, producer: Producer, opts: { timeoutMs?: number; feed?: number } = {}): Promise<Kill> {
  let found: string | undefined;
  let checking = false;
  let feeding = false;
  const check = () => {
    if (!victim.alive()) throw new Error(`${victim.name} died before it was killed: ${deathNote(victim)}`);
    if (!feeding && opts.feed && provider.counts().size >= producer.keyOf.size) {
      feeding = true;
      void producer
        .invokeMany(provider, opts.feed)
        .catch(() => {})
        .finally(() => (feeding = false));
    }
    // Still open now: the kill follows without yielding to the provider's timers.
    if (found && provider.openKeys().includes(found)) return found;
    found = undefined;
    if (!checking && provider.openKeys().length > 0) {
      checking = true;
      void runningAttemptsOf(producer.db, victim.name)
        .then((runs) => {
          const open = new Set(provider.openKeys());
          found = runs.map((r) => producer.keyOf.get(r.jobId)).find((key) => key !== undefined && open.has(key));
        })
        .catch(() => {})
        .finally(() => (checking = false));
    }
    return undefined;
  };
  await waitFor(check, { signal: provider, timeoutMs: opts.timeoutMs ?? 60_000, what: `${victim.name} to be mid-call`, intervalMs: 200 });
  const at = Date.now();
  const openCalls = provider.openCalls();
  await victim.kill();
  const diedRunning = (await runningAttemptsOf(producer.db, victim.name)).map((r) => producer.keyOf.get(r.jobId) ?? r.jobId);
  return { victim: victim.name, at, openAtKill: openCalls.map((c) => c.key), openCalls, diedRunning };
}

/** Jobs called more than once, with their calls and how many kills caught them in flight. */
export function duplicateCalls(provider: SlowProvider, kills: readonly Kill[]): Array<{ key: string; calls: number; inFlightAt: number }> {
  return [...provider.counts()]
    .filter(([, calls]) => calls > 1)
    .map(([key, calls]) => ({ key, calls, inFlightAt: kills.filter((k) => caughtInFlight(k, key)).length }));
}

/**
 * A job's provider calls and attempts, in ms after the first mark (a kill, an outage), for a
 * failure message that shows why it ran twice.
 */
export function jobStory(key: string, o: { producer: Producer; provider: SlowProvider; runs: readonly JobRunDoc[]; marks: Array<{ what: string; at: number }> }) {
  const t0 = o.marks[0]?.at ?? 0;
  const id = o.producer.idOf.get(key);
  const ms = (t: number | undefined) => (t === undefined ? '?' : String(t - t0));
  return {
    marks: o.marks.map((m) => `${m.what} @${ms(m.at)}`),
    calls: o.provider.items.filter((c) => c.key === key).map((c) => `${ms(c.startedAt)}..${ms(c.endedAt)} ${c.answered ? 'answered' : 'dropped'}`),
    runs: o.runs.filter((r) => r.jobId === id).map((r) => `${r.worker} #${r.attempt} ${r.outcome} ${ms(r.startedAt.getTime())}..${ms(r.finishedAt?.getTime())}`),
  };
}
