/**
 * Prometheus metrics for `/metrics`. Counters and histograms follow engine events as they
 * happen; what needs the database (queue depth, oldest due job, DLQ pending, breaker states) is
 * read by one background refresh every REFRESH_MS (an idle worker: every 5 minutes), never
 * per scrape, so a scrape costs nothing and a busy Prometheus cannot load the database.
 */
import client from 'prom-client';
import type { DeadLetterDoc, JobRunDoc } from '../db/collections.ts';
import type { Engine, ReclaimEvent } from '../engine/engine.ts';
import type { FlowControl } from '../flow/index.ts';
import type { Logger } from '../log.ts';
import type { Ops } from '../ops/index.ts';
import type { ConnectionSnapshot } from './connections.ts';

const REFRESH_MS = 15_000;
/** An idle worker refreshes once in this many intervals (every 5 minutes by default). */
const IDLE_REFRESH_EVERY = 20;
const BREAKER_VALUE = { closed: 0, 'half-open': 1, open: 2 } as const;

/** What the metrics count and read: the engine's and ops' events, the queue, the breakers. */
export interface MetricsSources {
  engine: Engine;
  flow: FlowControl;
  ops: Ops;
  log: Logger;
}

export interface MetricsOptions {
  /** The adapters' connection states, read at scrape time (in memory). */
  connections: () => ConnectionSnapshot[];
  /** How often the database-backed gauges are refreshed (default 15 s). */
  refreshMs?: number;
}

export class Metrics {
  readonly registry = new client.Registry();
  /** Counted by serve's process handlers (src/main.ts). */
  readonly unhandledErrors: client.Counter<'kind'>;
  private readonly app: MetricsSources;
  private readonly queueDue: client.Gauge<'job'>;
  private readonly queueOldest: client.Gauge<'job'>;
  private readonly dlqPending: client.Gauge;
  private readonly breakerState: client.Gauge<'provider'>;
  private readonly unsubscribe: Array<() => void> = [];
  private readonly timer: NodeJS.Timeout;
  private refreshing: Promise<void> | undefined;
  private active = true;
  private idleTicks = 0;

  constructor(app: MetricsSources, opts: MetricsOptions) {
    this.app = app;
    const registers = [this.registry];
    client.collectDefaultMetrics({ register: this.registry });
    const attempts = new client.Counter({ name: 'switchboard_job_attempts_total', help: 'Finished attempts by job and outcome', labelNames: ['job', 'outcome'], registers });
    const duration = new client.Histogram({
      name: 'switchboard_job_attempt_duration_seconds',
      help: 'How long attempts ran, by job',
      labelNames: ['job'],
      buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 900],
      registers,
    });
    const deadLetters = new client.Counter({ name: 'switchboard_dead_letters_total', help: 'Jobs moved to the DLQ, by job', labelNames: ['job'], registers });
    const reclaims = new client.Counter({ name: 'switchboard_reclaims_total', help: 'Slots, claims and leases taken back from holders that stopped, by kind', labelNames: ['kind'], registers });
    const polls = new client.Histogram({
      name: 'switchboard_engine_poll_duration_seconds',
      help: 'How long one engine poll for due jobs took',
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    });
    this.unhandledErrors = new client.Counter({ name: 'switchboard_unhandled_errors_total', help: 'Unhandled rejections and uncaught exceptions that serve logged and survived', labelNames: ['kind'], registers });
    this.queueDue = new client.Gauge({ name: 'switchboard_queue_due_jobs', help: 'Due, unlocked jobs waiting to run, by job (background refresh)', labelNames: ['job'], registers });
    this.queueOldest = new client.Gauge({ name: 'switchboard_queue_oldest_due_age_seconds', help: 'Age of the oldest due, unlocked job, by job; 0 when none (background refresh)', labelNames: ['job'], registers });
    this.dlqPending = new client.Gauge({ name: 'switchboard_dlq_pending', help: 'Dead letters waiting for an operator (background refresh)', registers });
    this.breakerState = new client.Gauge({ name: 'switchboard_breaker_state', help: 'Breaker per provider: 0 closed, 1 half-open, 2 open (background refresh)', labelNames: ['provider'], registers });
    new client.Gauge({
      name: 'switchboard_running_attempts',
      help: 'Attempts running in this process',
      registers,
      collect() {
        this.set(app.engine.runningHere());
      },
    });
    new client.Gauge({
      name: 'switchboard_engine_wedged',
      help: '1 while the engine watchdog sees due jobs, free capacity and nothing started',
      registers,
      collect() {
        this.set(app.engine.health().wedged ? 1 : 0);
      },
    });
    new client.Gauge({
      name: 'switchboard_adapter_connected',
      help: '1 when a chat adapter is connected (or on standby), by adapter',
      labelNames: ['adapter'],
      registers,
      collect() {
        for (const c of opts.connections()) this.set({ adapter: c.name }, c.ready ? 1 : 0);
      },
    });

    this.listen(app.ops, 'run', (r: JobRunDoc | null) => {
      if (!r) return;
      attempts.inc({ job: r.jobName, outcome: r.outcome });
      if (typeof r.durationMs === 'number') duration.observe({ job: r.jobName }, r.durationMs / 1000);
    });
    this.listen(app.ops, 'dead-letter', (d: Pick<DeadLetterDoc, 'jobName'>) => deadLetters.inc({ job: d.jobName }));
    this.listen(app.engine, 'reclaim', (e: ReclaimEvent) => reclaims.inc({ kind: e.kind }));
    this.listen(app.engine, 'poll', (p: { durationMs: number }) => polls.observe(p.durationMs / 1000));

    // Anything this process saw happen makes the next refresh worth its reads; an idle worker
    // (nothing started, nothing dead-lettered) refreshes only every IDLE_REFRESH_EVERY-th time,
    // since on FerretDB each refresh reads the whole live set.
    for (const event of ['attempt', 'run', 'dead-letter', 'deferred']) this.listen(app.engine, event, () => (this.active = true));
    this.listen(app.ops, 'setting', () => (this.active = true));
    void this.refresh();
    this.timer = setInterval(() => {
      if (this.active || ++this.idleTicks >= IDLE_REFRESH_EVERY) void this.refresh();
    }, opts.refreshMs ?? REFRESH_MS);
    this.timer.unref();
  }

  /** Re-reads the database-backed gauges; never throws (a failure is logged, the old values stay). */
  refresh(): Promise<void> {
    this.active = false;
    this.idleTicks = 0;
    this.refreshing ??= this.readGauges()
      .catch((err: unknown) => this.app.log.warn({ err }, 'metrics refresh failed; keeping the previous values'))
      .finally(() => (this.refreshing = undefined));
    return this.refreshing;
  }

  /** The Prometheus text exposition. */
  scrape(): Promise<string> {
    return this.registry.metrics();
  }

  stop(): void {
    clearInterval(this.timer);
    for (const off of this.unsubscribe.splice(0)) off();
  }

  private listen<T>(emitter: NodeJS.EventEmitter, event: string, fn: (v: T) => void): void {
    emitter.on(event, fn);
    this.unsubscribe.push(() => emitter.off(event, fn));
  }

  private async readGauges(): Promise<void> {
    const { engine, flow } = this.app;
    const now = new Date();
    const dueFilter = { nextRunAt: { $lte: now }, lockedAt: null, disabled: { $ne: true } };
    // One count for every job type (on MongoDB it walks the nextRunAt index over due jobs only),
    // then the oldest of each type that has a backlog: FerretDB v1's $group only sums.
    const counts = await engine.cols.agendaJobs.aggregate<{ _id: string; n: number }>([{ $match: dueFilter }, { $group: { _id: '$name', n: { $sum: 1 } } }]).toArray();
    const oldest = new Map<string, Date>();
    for (const { _id: name } of counts) {
      const first = await engine.cols.agendaJobs.findOne({ name, ...dueFilter }, { sort: { nextRunAt: 1 }, projection: { nextRunAt: 1 } });
      if (first?.nextRunAt) oldest.set(name, first.nextRunAt);
    }
    const pending = await engine.cols.deadLetters.countDocuments({ status: 'pending' });
    const breakers = await flow.breakers.list();
    // Every known job gets a value, so a queue that drained reads 0 instead of its last depth.
    const due = new Map(counts.map((c) => [c._id, c.n]));
    for (const job of new Set([...engine.jobs.names(), ...due.keys()])) {
      const at = oldest.get(job);
      this.queueDue.set({ job }, due.get(job) ?? 0);
      this.queueOldest.set({ job }, at ? Math.max(0, (now.getTime() - at.getTime()) / 1000) : 0);
    }
    this.dlqPending.set(pending);
    for (const b of breakers) this.breakerState.set({ provider: b.provider }, BREAKER_VALUE[b.state]);
  }
}
