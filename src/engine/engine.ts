/**
 * The engine: Agenda over MongoDB, with every job run through one attempt pipeline
 * (src/engine/attempt.ts) and guards checked both before a job is locked and before it runs.
 */
import { EventEmitter, once } from 'node:events';
import { Agenda } from 'agenda';
import type { Db } from 'mongodb';
import type { Config } from '../config.ts';
import { collections, coreIndexes, ensureIndexes, type IndexPlan, type SwitchboardCollections, type WithBookkeeping } from '../db/collections.ts';
import type { Logger } from '../log.ts';
import { AttemptRunner } from './attempt.ts';
import type { JobDefinition, JobRegistry } from './defineJob.ts';
import { PayloadError } from './errors.ts';
import { holdGuard, passGuards, type Guard } from './guards.ts';
import { SwitchboardBackend } from './backend.ts';
import { Retirement } from './retirement.ts';
import { Watchdog } from './watchdog.ts';
import { reconcileDeadLetters } from './reconcile.ts';
import { SettingsStore } from './settings.ts';
import { claimIndexes } from './claims.ts';
import { rollupIndexes } from './rollups.ts';
import { hourlyRollupIndexes } from './rollupStore.ts';

export type EngineConfig = Pick<
  Config,
  'WORKER_NAME' | 'ENGINE_PROCESS_EVERY_MS' | 'ENGINE_MAX_CONCURRENCY' | 'ENGINE_LOCK_LIFETIME_MS' | 'SHUTDOWN_GRACE_MS' | 'GUARD_REFRESH_MS'
>;

export interface EngineOptions {
  db: Db;
  config: EngineConfig;
  log: Logger;
  jobs: JobRegistry;
  /** How long a one-off job that succeeded stays in `agendaJobs` (default 30 s; tests shorten it). */
  retireAfterMs?: number;
  /** Guards after the kill switch and pauses (breakers, rate limits, concurrency), built on the engine's settings. */
  guards?: Guard[] | ((settings: SettingsStore, events: EventEmitter) => Guard[]);
  /** The index plans of the collections beyond the engine's own (the composition root collects them). */
  indexes?: readonly IndexPlan[];
}

export interface EnqueueOptions {
  /** When to run: a Date, or Agenda's words ("in 5 minutes"); now by default. */
  at?: Date | string;
  priority?: number;
  /** Stored with the job; used by dedupe windows. */
  dedupeKey?: string;
  enqueuedBy?: string;
}

const DEFAULT_JOB_CONCURRENCY = 5;
/** Nothing started for this many polls (and at least WEDGE_QUIET_MIN_MS) with room to start: the watchdog looks. */
const WEDGE_QUIET_POLLS = 30;
const WEDGE_QUIET_MIN_MS = 5_000;
/** A one-off job that succeeded leaves the live set this long after (retirement.ts). */
const RETIRE_AFTER_MS = 30_000;

/** What `/readyz` and the metrics learn of the engine. */
export interface EngineHealth {
  /** The engine takes jobs in this process (serve), and has not stopped. */
  working: boolean;
  /** When the last poll for due jobs finished; null before the first. */
  lastPollAt: Date | null;
  /** Set while the watchdog sees due jobs, free capacity and nothing started for several polls. */
  wedged: { since: Date; reason: string } | null;
}

/** What the engine took back from a holder that stopped (a killed worker): for logs and metrics. */
export interface ReclaimEvent {
  kind: 'concurrency-slot' | 'rate-slot' | 'claim' | 'lease';
  group: string;
  holder: string;
}

/**
 * Events: 'attempt' ({ jobId, jobName, attempt, startedAt }: the guards admitted it), 'run' (a
 * finished JobRunDoc), 'dead-letter' (a new DeadLetterDoc), 'deferred'
 * ({ jobId, jobName, reason, guard }), 'poll' ({ durationMs, locked }), 'reclaim' (ReclaimEvent),
 * 'wedge' (EngineHealth['wedged'], null when it clears). 'error' is never emitted: errors go
 * to the logger.
 */
export class Engine extends EventEmitter {
  readonly db: Db;
  readonly cols: SwitchboardCollections;
  readonly settings: SettingsStore;
  readonly jobs: JobRegistry;
  readonly agenda: Agenda;
  private readonly config: EngineConfig;
  private readonly log: Logger;
  private readonly runner: AttemptRunner;
  private readonly guards: Guard[];
  private working = false;
  private lastPollAt: Date | null = null;
  private readonly watchdog: Watchdog;
  private readonly backend: SwitchboardBackend;
  private readonly retirement: Retirement;
  private started = false;
  /** Jobs Agenda runs here, from its 'start' to its 'complete' (after it saved the job's state). */
  private readonly agendaRunning = new Set<string>();

  /** The engine's own index plans and those the composition root passed. */
  private readonly indexPlans: readonly IndexPlan[];

  constructor(opts: EngineOptions) {
    super();
    this.db = opts.db;
    this.config = opts.config;
    this.log = opts.log.child({ component: 'engine' });
    this.jobs = opts.jobs;
    this.cols = collections(opts.db);
    this.indexPlans = [coreIndexes, claimIndexes, rollupIndexes, hourlyRollupIndexes, ...(opts.indexes ?? [])];
    this.settings = new SettingsStore(this.cols.settings, opts.config.GUARD_REFRESH_MS);
    const more = typeof opts.guards === 'function' ? opts.guards(this.settings, this) : (opts.guards ?? []);
    this.guards = [holdGuard(this.settings, opts.config.GUARD_REFRESH_MS * 2), ...more];

    this.retirement = new Retirement({ db: opts.db, log: this.log, graceMs: opts.retireAfterMs ?? RETIRE_AFTER_MS });
    this.backend = new SwitchboardBackend({
      retirement: this.retirement,
      db: opts.db,
      worker: opts.config.WORKER_NAME,
      lockLifetimeMs: opts.config.ENGINE_LOCK_LIFETIME_MS,
      processEveryMs: opts.config.ENGINE_PROCESS_EVERY_MS,
      maxConcurrency: opts.config.ENGINE_MAX_CONCURRENCY,
      log: this.log,
      concurrency: () => new Map(this.jobs.list().map((def) => [def.name, this.concurrencyOf(def)])),
      // Guards that can answer from cache keep held jobs untouched in the queue: not even locked.
      heldBeforeLock: (name) => {
        const def = this.jobs.get(name);
        return !!def && this.guards.some((g) => g.heldBeforeLock?.(def));
      },
      onPoll: (durationMs, locked) => {
        this.lastPollAt = new Date();
        this.emit('poll', { durationMs, locked });
      },
    });
    this.agenda = new Agenda({
      backend: this.backend,
      name: opts.config.WORKER_NAME,
      processEvery: opts.config.ENGINE_PROCESS_EVERY_MS,
      maxConcurrency: opts.config.ENGINE_MAX_CONCURRENCY,
      lockLimit: opts.config.ENGINE_MAX_CONCURRENCY,
      defaultLockLifetime: opts.config.ENGINE_LOCK_LIFETIME_MS,
    });
    this.agenda.on('error', (err) => this.log.error({ err }, 'agenda error'));
    this.backend.notificationChannel.on('error', (err: unknown) => this.log.warn({ err }, 'an in-process wake-up failed; the next poll finds the job'));
    this.agenda.on('start', (job) => this.agendaRunning.add(String(job.attrs._id)));
    this.agenda.on('complete', (job) => this.agendaRunning.delete(String(job.attrs._id)));
    this.runner = new AttemptRunner({
      db: opts.db,
      cols: this.cols,
      settings: this.settings,
      guards: this.guards,
      log: this.log,
      events: this,
      worker: opts.config.WORKER_NAME,
      lockLifetimeMs: opts.config.ENGINE_LOCK_LIFETIME_MS,
    });
    this.watchdog = new Watchdog({
      everyMs: opts.config.ENGINE_PROCESS_EVERY_MS,
      quietMs: Math.max(WEDGE_QUIET_POLLS * opts.config.ENGINE_PROCESS_EVERY_MS, WEDGE_QUIET_MIN_MS),
      log: this.log,
      startable: () => this.startable(),
      lastAskAt: (name) => this.backend.repository.askedAt.get(name) ?? 0,
      lastScan: () => this.backend.repository.lastScan(),
      lastStartAt: () => this.runner.lastStartAt,
      findDue: (names, dueBefore) => this.findDue(names, dueBefore),
      onTick: () => (this.lastPollAt = new Date()),
      onChange: (wedge) => this.emit('wedge', wedge),
    });
    this.on('reclaim', (r: ReclaimEvent) => this.log.warn(r, 'took back a slot from a worker that stopped renewing it'));
    this.on('guard-error', (err: unknown) => this.log.warn({ err }, 'guard background work failed; retrying'));
  }

  /** Job types this process could start an attempt of now: not held, below their local concurrency. */
  private startable(): string[] {
    if (this.runner.inFlight.size >= this.config.ENGINE_MAX_CONCURRENCY) return [];
    return this.jobs.list().filter((def) => !this.guards.some((g) => g.heldBeforeLock?.(def)) && this.runner.running(def.name) < this.concurrencyOf(def)).map((def) => def.name);
  }

  private async findDue(names: string[], dueBefore: Date): Promise<{ name: string; nextRunAt: Date | null } | null> {
    const expired = new Date(dueBefore.getTime() - this.config.ENGINE_LOCK_LIFETIME_MS);
    return this.cols.agendaJobs.findOne(
      { name: { $in: names }, disabled: { $ne: true }, $or: [{ lockedAt: null, nextRunAt: { $lte: dueBefore } }, { lockedAt: { $lte: expired } }] },
      { projection: { name: 1, nextRunAt: 1 } },
    );
  }

  private concurrencyOf(def: JobDefinition): number {
    return Math.min(def.concurrency ?? DEFAULT_JOB_CONCURRENCY, this.config.ENGINE_MAX_CONCURRENCY);
  }

  /**
   * Connects, creates indexes, loads settings and defines the jobs. With `work: true` (serve)
   * it also schedules recurring jobs, reconciles the DLQ and starts taking jobs.
   */
  async start(opts: { work: boolean; ensureIndexes?: boolean }): Promise<void> {
    if (this.started) throw new Error('engine already started');
    this.started = true;
    await this.agenda.ready;
    // Workers create the indexes; a one-shot CLI command skips the round trips unless asked.
    if (opts.work || opts.ensureIndexes) await ensureIndexes(this.db, this.indexPlans);
    await this.settings.start((err) => this.log.error({ err }, 'settings refresh failed'));
    for (const def of this.jobs.list()) this.define(def);
    if (!opts.work) return;
    for (const def of this.jobs.list()) {
      if (def.schedule) await this.agenda.every(def.schedule, def.name, def.schedulePayload ?? {}, { skipImmediate: true });
    }
    const moved = await reconcileDeadLetters(this.cols, this.jobs);
    if (moved > 0) this.log.warn({ moved }, 'moved exhausted jobs without a DLQ entry to the DLQ');
    await this.agenda.start();
    this.working = true;
    this.backend.watchAnnouncements();
    this.watchdog.start();
    this.retirement.start();
    this.log.info({ worker: this.config.WORKER_NAME, jobs: this.jobs.names() }, 'engine started');
  }

  private define(def: JobDefinition): void {
    const concurrency = this.concurrencyOf(def);
    this.agenda.define(def.name, this.runner.processor(def), {
      concurrency,
      // Lock no more than we can run, so one process does not grab every due job.
      lockLimit: concurrency,
      lockLifetime: this.config.ENGINE_LOCK_LIFETIME_MS,
      priority: def.priority ?? 'normal',
    });
  }

  /** Throws a PayloadError naming the first bad field when `payload` does not fit the job's schema. */
  checkPayload(name: string, payload: unknown): void {
    const def = this.jobs.get(name);
    if (!def) throw new PayloadError(`unknown job "${name}"`);
    const parsed = def.payload.safeParse(payload ?? {});
    if (!parsed.success) {
      const first = parsed.error.issues[0];
      throw new PayloadError(`${first?.path.join('.') || 'payload'}: ${first?.message ?? 'invalid'}`);
    }
  }

  /** Validates the payload against the job's schema and enqueues one run. */
  async enqueue(name: string, payload: unknown, opts: EnqueueOptions = {}): Promise<{ id: string; nextRunAt: Date | null }> {
    this.checkPayload(name, payload);
    const job = this.agenda.create(name, payload ?? {});
    job.schedule(opts.at ?? new Date());
    if (opts.priority !== undefined) job.priority(opts.priority);
    // Saved with the job in its one insert.
    if (opts.dedupeKey || opts.enqueuedBy) {
      (job.attrs as WithBookkeeping).sb = { ...(opts.dedupeKey ? { dedupeKey: opts.dedupeKey } : {}), ...(opts.enqueuedBy ? { enqueuedBy: opts.enqueuedBy } : {}) };
    }
    await job.save();
    return { id: String(job.attrs._id), nextRunAt: job.attrs.nextRunAt ?? null };
  }

  /**
   * Runs the guard pipeline for work done on behalf of a job type outside Agenda (a backfill
   * chunk): kill switch, pause, breaker, rate limit, concurrency. Release the grant when done.
   */
  admit(def: JobDefinition, key: string): ReturnType<typeof passGuards> {
    return passGuards(this.guards, { def, jobId: key });
  }

  /**
   * Tells every worker that a job was made due by a direct write (a DLQ retry that requeues its
   * job document): this process looks at once, the others at their next poll.
   */
  enqueued(job: { id: string; name: string; nextRunAt: Date | null }): Promise<void> {
    return this.backend.repository.enqueued(job);
  }

  /** Whether this process's engine is working, polling and not wedged (see EngineHealth). */
  health(): EngineHealth {
    return { working: this.working, lastPollAt: this.lastPollAt, wedged: this.watchdog.current };
  }

  /** Attempts running in this process now. */
  runningHere(): number {
    return this.runner.inFlight.size;
  }

  /**
   * Stops taking jobs, lets running attempts finish for up to `graceMs`, then aborts them
   * through their signal (they do not count as attempts) and releases every lock.
   */
  async stop(graceMs = this.config.SHUTDOWN_GRACE_MS): Promise<void> {
    this.settings.stop();
    this.watchdog.stop();
    if (!this.working) return;
    this.working = false;
    this.backend.stopWatching();
    const drained = await this.agenda.drain({ timeout: graceMs, closeConnection: false });
    if (drained.timedOut) {
      this.log.warn({ running: drained.running }, 'grace period over: aborting running attempts');
      await this.runner.abortAll(10_000);
      // Agenda saves an aborted job (unlocked, due again) after our processor returns: a process
      // that exited before that would leave the job locked until its lock expired.
      await this.agendaSaved(10_000);
    }
    await this.agenda.stop(false);
    // Agenda's drain() forgets jobs it locked but did not start: give them back now, rather than
    // leave them to wait for their locks to expire.
    const released = await this.backend.repository.releaseUnstarted();
    if (released) this.log.info({ released }, 'gave back jobs locked but not started');
    await this.retirement.stop();
    this.log.info('engine stopped');
  }

  /** Waits, up to `timeoutMs`, until Agenda has saved every job it started here. */
  private async agendaSaved(timeoutMs: number): Promise<void> {
    const signal = AbortSignal.timeout(timeoutMs);
    while (this.agendaRunning.size > 0 && !signal.aborted) {
      await once(this.agenda, 'complete', { signal }).catch(() => {});
    }
  }
}
