/**
 * Our Agenda backend: Agenda's MongoDB repository with the three things a job engine on a
 * non-atomic server needs, instead of methods replaced on an instance at run time.
 *
 * 1. Claim before lock (see claims.ts): the one write that decides which worker runs a due job.
 * 2. The lock is ours to judge. Agenda drops a locked job whose in-memory `lockedAt` is older than
 *    the lock lifetime before it starts it, and never gives back its count of locked jobs: on a
 *    slow server (a fill of the queue taking longer than the lifetime) every such drop took one
 *    slot of the job type for good, until the worker locked nothing at all while reporting healthy.
 *    So Agenda gets the job without `lockedAt`; the attempt runner keeps the in-memory time fresh
 *    while it holds the lock, and the database lock is renewed and checked by us alone.
 * 3. State saves that survive a short outage: Agenda ignores a failed final save, which left a
 *    finished job locked until the lock expired, and then ran it again. Our save retries until it
 *    lands, and it never overwrites a job that another worker took meanwhile (the run's
 *    `lastRunAt` no longer matches). The two saves of a run also carry our bookkeeping (`sb`:
 *    the attempt counter, the DLQ generation), so an attempt pays no writes of its own for it.
 *
 * Agenda calls `unlockJob` without awaiting it: our unlocks never reject.
 */
import { MongoJobRepository } from '@agendajs/mongo-backend';
import { EventEmitter } from 'node:events';
import { toJobId, type AgendaBackend, type JobNotification, type JobParameters, type NotificationChannel, type NotificationChannelState, type NotificationHandler } from 'agenda';
import { ObjectId, type Db } from 'mongodb';
import type { AgendaJobDoc, WithBookkeeping } from '../db/collections.ts';
import type { Logger } from '../log.ts';
import { RunClaims } from './claims.ts';
import { Announcements } from './announcements.ts';
import { DueJobs, startsInLock } from './dueJobs.ts';
import type { Retirement } from './retirement.ts';
import { untilWritten } from './untilWritten.ts';

type SaveOptions = Parameters<MongoJobRepository['saveJobState']>[1];
type LockOptions = Parameters<MongoJobRepository['getNextJobToRun']>[4];

export interface BackendOptions {
  db: Db;
  worker: string;
  lockLifetimeMs: number;
  processEveryMs: number;
  /** Attempts this process runs at once, in all. */
  maxConcurrency: number;
  log: Logger;
  /** Job types defined here, with how many of each may run here at once. */
  concurrency(): Map<string, number>;
  /** True when jobs of this type must not even be locked now (kill switch, pause, open breaker...). */
  heldBeforeLock(name: string): boolean;
  /** Called after every scan for due jobs, with how long it took and how many it locked. */
  onPoll?(durationMs: number, locked: number): void;
  /** Where one-off jobs that succeeded go (working engines). */
  retirement?: Retirement;
}

/** Thrown by a save that found the job taken by another worker. */
export class LockLostError extends Error {
  readonly code = 'lock_lost';
}

export class SwitchboardRepository extends MongoJobRepository {
  private readonly opts: BackendOptions;
  private readonly claims: RunClaims;
  private readonly due: DueJobs;
  private readonly announcements: Announcements;
  /** When Agenda last asked for a job of each type (the watchdog reads it). */
  readonly askedAt = new Map<string, number>();
  /** Jobs this process locked and has not finished, by id (buffered ones included). */
  private readonly held = new Map<string, Held>();

  constructor(opts: BackendOptions) {
    super({ mongo: opts.db, db: { collection: 'agendaJobs' } });
    this.opts = opts;
    this.claims = new RunClaims(opts.db, opts.worker, opts.lockLifetimeMs);
    this.announcements = new Announcements(opts.db, opts.log);
    this.due = new DueJobs({
      jobs: opts.db.collection<AgendaJobDoc>('agendaJobs'),
      claims: this.claims,
      worker: opts.worker,
      lockLifetimeMs: opts.lockLifetimeMs,
      processEveryMs: opts.processEveryMs,
      capacity: () => this.capacity(),
      anyHeld: () => [...opts.concurrency().keys()].some((n) => opts.heldBeforeLock(n)),
      readAnnounced: (since) => this.announcements.readNew(since),
      onScan: opts.onPoll,
      onStale: (jobs) => void this.unlockJobs(jobs.map((j) => j._id!)),
    });
  }

  /** When due jobs were last looked for, and the longest a healthy engine goes without. */
  lastScan(): { at: number; maxQuietMs: number } {
    return this.due.lastScan();
  }

  /** Free room per job type (held types left out) and in all: what one scan may lock. */
  private capacity(): { perType: Map<string, number>; total: number } {
    const taken = new Map<string, number>();
    for (const h of this.held.values()) taken.set(h.name, (taken.get(h.name) ?? 0) + 1);
    const perType = new Map<string, number>();
    for (const [name, limit] of this.opts.concurrency()) {
      if (!this.opts.heldBeforeLock(name)) perType.set(name, Math.max(0, limit - (taken.get(name) ?? 0)));
    }
    return { perType, total: Math.max(0, this.opts.maxConcurrency - this.held.size) };
  }

  /**
   * Agenda's "find and lock the next job of this type": answered from the batch the last scan
   * locked, scanning only when something can be due (dueJobs.ts). The job goes to Agenda without
   * `lockedAt` (see the module comment).
   */
  override async getNextJobToRun(name: string, nextScanAt: Date, lockDeadline: Date, _now?: Date, _options?: LockOptions): Promise<JobParameters | undefined> {
    this.askedAt.set(name, Date.now());
    if (this.opts.heldBeforeLock(name)) return undefined;
    const job = await this.due.next(name, nextScanAt, lockDeadline);
    if (!job?._id || !job.lockedAt) return undefined;
    const lockedAt = new Date(job.lockedAt);
    const sb = (job as WithBookkeeping).sb;
    this.held.set(String(job._id), {
      name,
      started: false,
      lockedAt,
      ...(startsInLock(job) ? { before: { nextRunAt: job.nextRunAt ?? null, lastRunAt: job.lastRunAt ?? null, attempts: sb?.attempts ?? 0 } } : {}),
    });
    return { ...job, lockedAt: undefined };
  }

  /**
   * A job created or changed by `job.save()` (an enqueue): this process looks at once, and every
   * other process is told by an announcement naming the job. Resolves once it is written.
   */
  override async saveJob<DATA = unknown>(job: JobParameters<DATA>, options: Parameters<MongoJobRepository['saveJob']>[1]): Promise<JobParameters<DATA>> {
    const saved = await super.saveJob(job, options);
    await this.enqueued({ id: String(saved._id), name: saved.name, nextRunAt: saved.nextRunAt ?? null, recurring: !startsInLock(saved) });
    return saved;
  }

  /** Announced jobs due now, read between ticks; their types (dueJobs.ts watchAnnounced). */
  watchAnnounced(): Promise<string[]> {
    return this.due.watchAnnounced();
  }

  /** Tells this process and the others that a job is due at `nextRunAt` (also for a change made outside `saveJob`). */
  async enqueued(job: { id: string; name: string; nextRunAt: Date | null; recurring?: boolean }): Promise<void> {
    this.due.wake(job.nextRunAt);
    await this.announcements.announce({ _id: job.id, name: job.name, nextRunAt: job.nextRunAt, recurring: job.recurring ?? false });
  }

  override async saveJobState(job: JobParameters, options?: SaveOptions): Promise<void> {
    const id = String(job._id);
    const held = this.held.get(id);
    if (!held) return super.saveJobState(job, options);
    if (held.started && job.lockedAt) return this.touch(id, job, options);
    if (!held.started && held.before) {
      // The lock wrote the run's start (dueJobs.ts startsInLock): take its stamp, write nothing.
      held.started = true;
      job.lastRunAt = held.lockedAt;
      return;
    }
    if (!held.started) {
      held.started = true;
      const now = new Date();
      // The attempt is counted as it starts, in the same write (so a worker that dies in the
      // handler has spent it); the final save writes back the runner's verdict (a deferral
      // does not count).
      const attempts = ((job as WithBookkeeping).sb?.attempts ?? 0) + 1;
      const res = await this.collection
        .updateOne({ _id: new ObjectId(id), lockedAt: held.lockedAt }, { $set: { ...stateFields(job, now, options), 'sb.attempts': attempts } })
        .catch((err: unknown) => {
          this.held.delete(id);
          throw err;
        });
      if (res.matchedCount !== 1) {
        this.held.delete(id);
        throw new LockLostError(`job ${id} was taken by another worker before it started here`);
      }
      held.lockedAt = now;
      // A recurring job's next tick was just computed: no scan is needed before it.
      if (job.nextRunAt) this.due.wake(new Date(job.nextRunAt));
      return;
    }
    try {
      if ((await this.saveUntilDone(id, job, options)) && finishedForGood(job)) {
        this.opts.retirement?.add({ ...job, ...stateFields(job, null, options), _id: new ObjectId(id) } as unknown as AgendaJobDoc);
      }
    } finally {
      this.held.delete(id);
      this.due.finished();
      if (job.nextRunAt) this.due.wake(new Date(job.nextRunAt));
    }
  }

  /**
   * `job.touch()` while the run goes on (Agenda clears lockedAt only before the final save):
   * renews the lock, keeps the job held.
   */
  private async touch(id: string, job: JobParameters, options?: SaveOptions): Promise<void> {
    const res = await this.collection.updateOne(
      { _id: new ObjectId(id), lastRunAt: job.lastRunAt ?? null },
      { $set: { lockedAt: new Date(), progress: job.progress ?? null, lastModifiedBy: options?.lastModifiedBy ?? null } },
    );
    if (res.matchedCount !== 1) throw new LockLostError(`job ${id} was taken by another worker while it ran here`);
  }

  /** True when the save landed on our run (false: another worker took the job meanwhile). */
  private async saveUntilDone(id: string, job: JobParameters, options?: SaveOptions): Promise<boolean> {
    const sb = (job as WithBookkeeping).sb;
    const res = await untilWritten(
      () => this.collection.updateOne({ _id: new ObjectId(id), lastRunAt: job.lastRunAt ?? null }, { $set: { ...stateFields(job, null, options), ...(sb ? { sb } : {}) } }),
      {
        log: this.opts.log.child({ jobId: id, job: job.name }),
        failed: 'saving the job state failed; retrying until the database answers',
        landed: 'job state saved after the database came back',
      },
    );
    if (res.matchedCount !== 1) this.opts.log.warn({ jobId: id, job: job.name }, 'another worker took the job meanwhile; its state stands');
    return res.matchedCount === 1;
  }

  /** Agenda does not await this: it never rejects. */
  override async unlockJob(job: JobParameters): Promise<void> {
    const id = String(job._id);
    const held = this.held.get(id);
    this.held.delete(id);
    try {
      if (held?.before && !held.started) await this.giveBack(id, held);
      else await super.unlockJob(job);
      await this.claims.release([id]);
    } catch (err) {
      this.opts.log.warn({ err, jobId: id }, 'unlocking a job failed; it is retaken when its lock expires');
    }
  }

  override async unlockJobs(ids: Parameters<MongoJobRepository['unlockJobs']>[0]): Promise<void> {
    const plain: typeof ids = [];
    try {
      for (const id of ids) {
        const held = this.held.get(String(id));
        this.held.delete(String(id));
        if (held?.before && !held.started) await this.giveBack(String(id), held);
        else plain.push(id);
      }
      if (plain.length) await super.unlockJobs(plain);
      await this.claims.release(ids.map(String));
    } catch (err) {
      this.opts.log.warn({ err, jobs: ids.length }, 'unlocking jobs failed; they are retaken when their locks expire');
    }
  }

  /**
   * At shutdown: gives back every job locked here that no run has started (Agenda's `drain()`
   * forgets them, and they would wait for their locks to expire).
   */
  async releaseUnstarted(): Promise<number> {
    const ids = [...this.held].filter(([, h]) => !h.started).map(([id]) => id);
    await this.unlockJobs(ids.map((id) => toJobId(id)));
    return ids.length;
  }

  /** Undoes a lock that also started the run (startsInLock): due again as it was, attempt not spent. */
  private async giveBack(id: string, held: Held): Promise<void> {
    const before = held.before!;
    await this.collection.updateOne(
      { _id: new ObjectId(id), lockedAt: held.lockedAt },
      { $set: { nextRunAt: before.nextRunAt, lastRunAt: before.lastRunAt, 'sb.attempts': before.attempts }, $unset: { lockedAt: true } } as never,
    );
  }
}

/** A job this process locked and has not finished. */
interface Held {
  name: string;
  /** Agenda has started its run. */
  started: boolean;
  /** The lock we wrote (renewed at a run's start when Agenda saves it). */
  lockedAt: Date;
  /** For a run that started in its lock (startsInLock): the state to restore if it is given back unrun. */
  before?: { nextRunAt: Date | null; lastRunAt: Date | null; attempts: number };
}

/** A one-off job that succeeded: nothing scheduled, nothing failed, not recurring. */
function finishedForGood(job: JobParameters): boolean {
  return !job.nextRunAt && !job.repeatInterval && !job.repeatAt && !job.failCount && !!job.lastFinishedAt;
}

/** The fields Agenda's own saveJobState writes, with `lockedAt` as we decide. */
function stateFields(job: JobParameters, lockedAt: Date | null, options?: SaveOptions): Partial<AgendaJobDoc> & Record<string, unknown> {
  const date = (d: Date | string | undefined | null) => (d ? new Date(d) : null);
  return {
    lockedAt,
    nextRunAt: date(job.nextRunAt),
    lastRunAt: date(job.lastRunAt),
    progress: job.progress ?? null,
    failReason: job.failReason ?? null,
    failCount: job.failCount ?? null,
    failedAt: date(job.failedAt),
    lastFinishedAt: date(job.lastFinishedAt),
    lastModifiedBy: options?.lastModifiedBy ?? null,
  };
}

/** The backend Agenda is built with. */
export class SwitchboardBackend implements AgendaBackend {
  readonly name = 'Switchboard (MongoDB)';
  readonly repository: SwitchboardRepository;
  readonly notificationChannel = new LocalWakeups();

  private readonly opts: BackendOptions;
  private watch: NodeJS.Timeout | undefined;
  private watchFailing = false;

  constructor(opts: BackendOptions) {
    this.opts = opts;
    this.repository = new SwitchboardRepository(opts);
  }

  /**
   * While the engine works: every quarter poll, jobs other processes announced wake Agenda at once
   * (through the in-process channel), instead of at its next tick.
   */
  watchAnnouncements(): void {
    if (this.watch) return;
    this.watch = setInterval(() => void this.wakeAnnounced(), Math.max(50, Math.floor(this.opts.processEveryMs / 4)));
    this.watch.unref();
  }

  stopWatching(): void {
    clearInterval(this.watch);
    this.watch = undefined;
  }

  private async wakeAnnounced(): Promise<void> {
    try {
      for (const jobName of await this.repository.watchAnnounced()) {
        await this.notificationChannel.publish({ jobId: toJobId(jobName), jobName, nextRunAt: null, priority: 0, timestamp: new Date(), source: 'announcement' });
      }
      this.watchFailing = false;
    } catch (err) {
      if (!this.watchFailing) this.opts.log.warn({ err }, 'reading announced enqueues failed; the next poll finds the jobs');
      this.watchFailing = true;
    }
  }

  connect(): Promise<void> {
    return this.repository.connect();
  }

  disconnect(): Promise<void> {
    return this.repository.disconnect();
  }
}

/**
 * Agenda's notification channel, within this process: a job saved here (an enqueue from the
 * console, a chat command, `jobs run` inside serve) makes Agenda fill its queue at once instead
 * of at the next poll. Handlers run without being awaited, so a loop of enqueues does not wait
 * for scans; the scans it asks for are coalesced (dueJobs.ts). Other processes learn of an
 * enqueue through the marker instead.
 */
export class LocalWakeups extends EventEmitter implements NotificationChannel {
  private current: NotificationChannelState = 'disconnected';
  private readonly handlers = new Set<NotificationHandler>();

  get state(): NotificationChannelState {
    return this.current;
  }

  async connect(): Promise<void> {
    this.current = 'connected';
    this.emit('stateChange', this.current);
  }

  async disconnect(): Promise<void> {
    this.handlers.clear();
    this.current = 'disconnected';
    this.emit('stateChange', this.current);
  }

  subscribe(handler: NotificationHandler): () => void {
    this.handlers.add(handler);
    return () => this.handlers.delete(handler);
  }

  async publish(notification: JobNotification): Promise<void> {
    for (const handler of this.handlers) {
      Promise.resolve()
        .then(() => handler(notification))
        .catch((err: unknown) => this.emit('error', err));
    }
  }
}
