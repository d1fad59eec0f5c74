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
 *    `lastRunAt` no longer matches).
 *
 * Agenda calls `unlockJob` without awaiting it: our unlocks never reject.
 */
import { randomBytes } from 'node:crypto';
import { MongoJobRepository } from '@agendajs/mongo-backend';
import type { AgendaBackend, JobParameters } from 'agenda';
import { toJobId } from 'agenda';
import { ObjectId, type Db } from 'mongodb';
import type { AgendaJobDoc } from '../db/collections.ts';
import type { Logger } from '../log.ts';
import { RunClaims, type Candidate } from './claims.ts';

type SaveOptions = Parameters<MongoJobRepository['saveJobState']>[1];
type LockOptions = Parameters<MongoJobRepository['getNextJobToRun']>[4];

export interface BackendOptions {
  db: Db;
  worker: string;
  lockLifetimeMs: number;
  log: Logger;
  /** True when jobs of this type must not even be locked now (kill switch, pause, open breaker...). */
  heldBeforeLock(name: string): boolean;
  /** Called after every look for a due job, with how long it took. */
  onPoll?(name: string, durationMs: number): void;
}

const SAVE_RETRY_FIRST_MS = 100;
const SAVE_RETRY_MAX_MS = 2_000;

/** Thrown by a save that found the job taken by another worker. */
export class LockLostError extends Error {
  readonly code = 'lock_lost';
}

export class SwitchboardRepository extends MongoJobRepository {
  private readonly opts: BackendOptions;
  private readonly claims: RunClaims;
  /** Jobs this process locked, by id: whether Agenda has started them, and the lock we wrote. */
  private readonly held = new Map<string, { started: boolean; lockedAt: Date }>();

  constructor(opts: BackendOptions) {
    super({ mongo: opts.db, db: { collection: 'agendaJobs' } });
    this.opts = opts;
    this.claims = new RunClaims(opts.db, opts.worker, opts.lockLifetimeMs);
  }

  /** Claim, then lock; the job goes to Agenda without `lockedAt` (see the module comment). */
  override async getNextJobToRun(name: string, nextScanAt: Date, lockDeadline: Date, _now?: Date, options?: LockOptions): Promise<JobParameters | undefined> {
    if (this.opts.heldBeforeLock(name)) return undefined;
    const started = Date.now();
    try {
      const jobs = this.opts.db.collection<AgendaJobDoc>('agendaJobs');
      const locked = await this.claims.lockNext(jobs, { name, nextScanAt, lockDeadline }, (job) => this.lock(job, options));
      if (!locked?._id || !locked.lockedAt) return undefined;
      this.held.set(String(locked._id), { started: false, lockedAt: new Date(locked.lockedAt) });
      return { ...locked, lockedAt: undefined };
    } finally {
      this.opts.onPoll?.(name, Date.now() - started);
    }
  }

  private async lock(job: Candidate, options?: LockOptions): Promise<JobParameters | undefined> {
    // An unlocked job is locked in the state read; an expired lock is replaced.
    if (job.lockedAt == null) return this.lockJob({ _id: toJobId(String(job._id)), name: job.name, nextRunAt: job.nextRunAt } as JobParameters, options);
    const res = await this.collection.updateOne(
      { _id: new ObjectId(String(job._id)), lockedAt: job.lockedAt },
      { $set: { lockedAt: new Date(), lastModifiedBy: options?.lastModifiedBy ?? null } },
    );
    return res.matchedCount === 1 ? ((await this.getJobById(String(job._id))) ?? undefined) : undefined;
  }

  /**
   * Agenda saves a job's state twice per run: as it starts (lastRunAt, next tick) and when it
   * ends (unlocked, outcome). The first keeps our lock in the document, and fails if another
   * worker took the job while it waited here; the second retries until it lands (see above).
   */
  override async saveJobState(job: JobParameters, options?: SaveOptions): Promise<void> {
    const id = String(job._id);
    const held = this.held.get(id);
    if (!held) return super.saveJobState(job, options);
    if (!held.started) {
      held.started = true;
      const now = new Date();
      const res = await this.collection
        .updateOne({ _id: new ObjectId(id), lockedAt: held.lockedAt }, { $set: stateFields(job, now, options) })
        .catch((err: unknown) => {
          this.held.delete(id);
          throw err;
        });
      if (res.matchedCount !== 1) {
        this.held.delete(id);
        throw new LockLostError(`job ${id} was taken by another worker before it started here`);
      }
      held.lockedAt = now;
      return;
    }
    try {
      await this.saveUntilDone(id, job, options);
    } finally {
      this.held.delete(id);
    }
  }

  private async saveUntilDone(id: string, job: JobParameters, options?: SaveOptions): Promise<void> {
    let delay = SAVE_RETRY_FIRST_MS;
    let ref: string | undefined;
    for (;;) {
      try {
        const res = await this.collection.updateOne({ _id: new ObjectId(id), lastRunAt: job.lastRunAt ?? null }, { $set: stateFields(job, null, options) });
        if (ref) this.opts.log.info({ ref, jobId: id }, 'job state saved after the database came back');
        if (res.matchedCount !== 1) {
          this.opts.log.warn({ jobId: id, job: job.name }, 'another worker took the job meanwhile; its state stands');
        }
        return;
      } catch (err) {
        if (!ref) {
          ref = randomBytes(3).toString('hex');
          this.opts.log.warn({ err, ref, jobId: id, job: job.name }, 'saving the job state failed; retrying until the database answers');
        }
        await new Promise((r) => setTimeout(r, delay));
        delay = Math.min(delay * 2, SAVE_RETRY_MAX_MS);
      }
    }
  }

  /** Agenda does not await this: it never rejects. */
  override async unlockJob(job: JobParameters): Promise<void> {
    const id = String(job._id);
    this.held.delete(id);
    try {
      await super.unlockJob(job);
      await this.claims.release([id]);
    } catch (err) {
      this.opts.log.warn({ err, jobId: id }, 'unlocking a job failed; it is retaken when its lock expires');
    }
  }

  override async unlockJobs(ids: Parameters<MongoJobRepository['unlockJobs']>[0]): Promise<void> {
    for (const id of ids) this.held.delete(String(id));
    try {
      await super.unlockJobs(ids);
      await this.claims.release(ids.map(String));
    } catch (err) {
      this.opts.log.warn({ err, jobs: ids.length }, 'unlocking jobs failed; they are retaken when their locks expire');
    }
  }
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

  constructor(opts: BackendOptions) {
    this.repository = new SwitchboardRepository(opts);
  }

  connect(): Promise<void> {
    return this.repository.connect();
  }

  disconnect(): Promise<void> {
    return this.repository.disconnect();
  }
}
