/**
 * Finding and locking due jobs in batches, and knowing when there can be none.
 *
 * Agenda asks for "the next job of type X" once per type per tick, and again after each job it
 * gets. Answering each ask with a query costs a scan of the live set per ask on FerretDB (it
 * pushes no filter down), and a round trip per job everywhere. So one scan serves a whole tick:
 * it reads due jobs of every type this process can take now, claims as many as there is room
 * for with one unordered insert (claims.ts), locks them with one update, and hands them out from
 * a buffer as Agenda asks. The same scan tells the earliest time a job will be due, so until
 * then, asks are answered without a query, unless this process enqueued (wake), another process
 * announced an enqueue (announcements.ts, read once per tick: a few announced jobs are locked by
 * id instead of scanning), a job finished while due jobs were left behind, or the quiet limit
 * passed (locks of crashed workers expire unannounced).
 */
import type { JobParameters } from 'agenda';
import { toJobId } from 'agenda';
import { ObjectId, type Collection, type Filter } from 'mongodb';
import type { AgendaJobDoc } from '../db/collections.ts';
import type { Announcement } from './announcements.ts';
import type { RunClaims } from './claims.ts';

export interface DueJobsOptions {
  jobs: Collection<AgendaJobDoc>;
  claims: RunClaims;
  worker: string;
  lockLifetimeMs: number;
  processEveryMs: number;
  /** Free slots per job type this process may take now (types held by a guard left out), and in all. */
  capacity(): { perType: Map<string, number>; total: number };
  /** True when some job type is held by a guard now (its hold may lift at any tick). */
  anyHeld(): boolean;
  /** Enqueues announced by any process since the last read (announcements.ts). */
  readAnnounced(since: number): Promise<Announcement[]>;
  onScan?(durationMs: number, locked: number): void;
  /** Jobs locked here that Agenda did not ask for in time: the caller unlocks them. */
  onStale(jobs: JobParameters[]): void;
}

/** Due jobs looked at per free slot: claims lost to other workers move on to the next ones. */
const LOOK_AHEAD = 2;
const LOOK_AHEAD_EXTRA = 10;
/** At most this many announced jobs are locked by id; more are found by a scan. */
const ANNOUNCED_BY_ID = 4;

export class DueJobs {
  private readonly opts: DueJobsOptions;
  private readonly buffer = new Map<string, Array<{ job: JobParameters; at: number }>>();
  private scanning: Promise<void> | undefined;
  /** Epoch ms from which a scan may find something; 0 = at the next ask. */
  private scanAfter = 0;
  private lastScanAt = 0;
  private woken = true;
  private leftBehind = false;
  private announcedReadAt = 0;
  /** Announced jobs due now, read between ticks by `watchAnnounced`: locked at the next ask. */
  private primed: Announcement[] = [];

  constructor(opts: DueJobsOptions) {
    this.opts = opts;
  }

  /** This process enqueued or rescheduled a job due at `at` (now by default). */
  wake(at?: Date | null): void {
    if (!at || at.getTime() <= Date.now() + this.opts.processEveryMs) this.woken = true;
    else this.scanAfter = Math.min(this.scanAfter, at.getTime() - this.opts.processEveryMs);
  }

  /** A job finished here: room for one more, which matters if due jobs were left behind. */
  finished(): void {
    if (this.leftBehind) this.scanAfter = 0;
  }

  /** The next locked job of type `name`, or undefined; scans only when something can be due. */
  async next(name: string, nextScanAt: Date, lockDeadline: Date): Promise<JobParameters | undefined> {
    this.dropStale();
    const mine = this.take(name);
    if (mine) return mine;
    // One look at a time: asks that arrive meanwhile share it (and its decision whether to scan).
    this.scanning ??= (async () => {
      const look = await this.due(nextScanAt);
      if (look === 'scan' || (look && !(await this.lockAnnounced(look)))) await this.scan(nextScanAt, lockDeadline);
    })().finally(() => (this.scanning = undefined));
    await this.scanning;
    return this.take(name);
  }

  /** When due jobs were last looked for (epoch ms), and the longest it waits between looks. */
  lastScan(): { at: number; maxQuietMs: number } {
    return { at: this.lastScanAt, maxQuietMs: this.quietMs() };
  }

  /**
   * An idle worker scans at least this often: a lock lifetime (a crashed worker's lock can be
   * taken over only once it is a lifetime old anyway), at most 60 s.
   */
  private quietMs(): number {
    return Math.min(Math.max(this.opts.lockLifetimeMs, this.opts.processEveryMs), 60_000);
  }

  private take(name: string): JobParameters | undefined {
    return this.buffer.get(name)?.shift()?.job;
  }

  /** A job not asked for within a third of the lock lifetime goes back (its lock is not renewed). */
  private dropStale(): void {
    const before = Date.now() - this.opts.lockLifetimeMs / 3;
    const stale: JobParameters[] = [];
    for (const [name, list] of this.buffer) {
      const keep = list.filter((b) => b.at >= before);
      if (keep.length !== list.length) stale.push(...list.filter((b) => b.at < before).map((b) => b.job));
      this.buffer.set(name, keep);
    }
    if (stale.length) this.opts.onStale(stale);
  }

  /**
   * Between ticks (every quarter poll) on a worker without a backlog (idle, or busy with long
   * jobs): reads what other processes announced and keeps the jobs due now for the next
   * ask; returns their types, for Agenda to ask at once. Cross-process starts then wait a quarter
   * poll for the read at most, not a whole one; a read is one query of a collection holding the last
   * minute's announcements.
   */
  async watchAnnounced(): Promise<string[]> {
    const now = Date.now();
    // A worker with a backlog (its last scan left due jobs behind) scans at every tick anyway.
    if (now - this.announcedReadAt < this.opts.processEveryMs / 4 || this.leftBehind) return [];
    const dueNow = await this.readAnnounced(new Date(now + this.opts.processEveryMs));
    this.primed.push(...dueNow);
    return [...new Set(dueNow.map((a) => a.name))];
  }

  /** Reads the announcements: those due by `horizon` are returned, later ones only wake the scan for their time. */
  private async readAnnounced(horizon: Date): Promise<Announcement[]> {
    this.announcedReadAt = Date.now();
    const announced = await this.opts.readAnnounced(this.lastScanAt);
    for (const a of announced) if (a.nextRunAt && a.nextRunAt > horizon) this.wake(a.nextRunAt);
    return announced.filter((a) => !a.nextRunAt || a.nextRunAt <= horizon);
  }

  /** Whether to scan, lock a few announced jobs by id, or do nothing. */
  private async due(nextScanAt: Date): Promise<'scan' | Announcement[] | undefined> {
    const now = Date.now();
    // One scan per tick at most, unless this process just enqueued or another announced a job.
    if (!this.woken && !this.primed.length && now - this.lastScanAt < this.opts.processEveryMs / 2) return undefined;
    if (this.woken || now >= this.scanAfter) {
      this.primed = [];
      return 'scan';
    }
    if (this.primed.length) {
      const primed = this.primed;
      this.primed = [];
      return primed;
    }
    if (now - this.announcedReadAt < this.opts.processEveryMs / 2) return undefined;
    const dueNow = await this.readAnnounced(nextScanAt);
    return dueNow.length ? dueNow : undefined;
  }

  /**
   * Locks a few announced jobs by id, each with one write that returns it: cheaper than a scan
   * when thousands of other jobs wait for later. False when a scan serves better (many at once).
   */
  private async lockAnnounced(announced: Announcement[]): Promise<boolean> {
    if (announced.length > ANNOUNCED_BY_ID) return false;
    const { perType, total } = this.opts.capacity();
    const left = new Map(perType);
    const fits = announced.filter((a) => {
      const free = left.get(a.name) ?? 0;
      left.set(a.name, free - 1);
      return free > 0;
    });
    if (fits.length < announced.length) this.leftBehind = true;
    const candidates = fits.slice(0, total).map((a) => ({ _id: new ObjectId(a._id), name: a.name, nextRunAt: a.nextRunAt, lastRunAt: null, lockedAt: null, recurring: a.recurring }));
    const won = await this.opts.claims.claimMany(candidates);
    const lockedAt = new Date();
    const lockedBy = this.opts.worker;
    // A claim lost went to another worker, which locks the job; a lock that fails after a claim
    // won means the job is not as announced (run again from the DLQ, changed): a scan finds it.
    let missed = 0;
    for (const { job, claim } of won) {
      const set = job.recurring ? { lockedAt, lastModifiedBy: lockedBy } : { lockedAt, lastModifiedBy: lockedBy, lastRunAt: lockedAt, nextRunAt: null };
      const before = await this.opts.jobs.findOneAndUpdate(
        { _id: job._id, lockedAt: null, nextRunAt: job.nextRunAt, lastRunAt: null, disabled: { $ne: true } },
        (job.recurring ? { $set: set } : { $set: set, $inc: { 'sb.attempts': 1 } }) as never,
        { returnDocument: 'before' },
      );
      if (!before) {
        missed++;
        await this.opts.claims.forget([claim]);
        continue;
      }
      this.push({ ...before, lockedAt, lastModifiedBy: lockedBy } as AgendaJobDoc, Date.now());
    }
    return missed === 0;
  }

  private push(doc: AgendaJobDoc, at: number): void {
    const list = this.buffer.get(doc.name) ?? [];
    list.push({ job: toJobParameters(doc), at });
    this.buffer.set(doc.name, list);
  }

  private async scan(nextScanAt: Date, lockDeadline: Date): Promise<void> {
    const started = Date.now();
    this.woken = false;
    this.lastScanAt = started;
    const { perType: capacity, total } = this.opts.capacity();
    const names = total > 0 ? [...capacity].filter(([, free]) => free > 0).map(([n]) => n) : [];
    const quiet = this.quietMs();
    if (names.length === 0) {
      // No room now: unknown whether anything is due, so the next job to finish here (or a
      // hold lifting) makes the next ask scan.
      this.leftBehind = true;
      this.scanAfter = this.opts.anyHeld() ? 0 : started + quiet;
      return;
    }
    const limit = total * LOOK_AHEAD + LOOK_AHEAD_EXTRA;
    const filter: Filter<AgendaJobDoc> = {
      name: { $in: names },
      disabled: { $ne: true },
      $or: [{ lockedAt: null, nextRunAt: { $ne: null } }, { lockedAt: { $lte: lockDeadline } }],
    };
    const docs = await this.opts.jobs.find(filter, { sort: { nextRunAt: 1, priority: -1 }, limit }).toArray();
    const isDue = (d: AgendaJobDoc) => (d.lockedAt ? d.lockedAt <= lockDeadline : !!d.nextRunAt && d.nextRunAt <= nextScanAt);
    const due = docs.filter(isDue);
    const future = docs.find((d) => !isDue(d) && d.nextRunAt);
    // Among jobs already due, priority first, then a shuffle: two workers reading the same
    // backlog then mostly claim different jobs instead of racing for the same first ones.
    const picks = pick(shuffleWithinPriority(due), capacity, total);
    const won = await this.opts.claims.claimMany(picks);
    const locked = await this.lock(won);
    this.leftBehind = due.length > locked.length;
    const truncated = docs.length === limit && !future;
    const earliest = future?.nextRunAt ? future.nextRunAt.getTime() - this.opts.processEveryMs : Infinity;
    this.scanAfter = this.leftBehind || truncated || this.opts.anyHeld() ? started + this.opts.processEveryMs : Math.min(earliest, started + quiet);
    this.opts.onScan?.(Date.now() - started, locked.length);
  }

  /** Locks the claimed jobs in the state they were read in, with one update; buffers them. */
  private async lock(won: Array<{ job: AgendaJobDoc; claim: string }>): Promise<AgendaJobDoc[]> {
    if (won.length === 0) return [];
    const lockedAt = new Date();
    const lockedBy = this.opts.worker;
    const inState = (job: AgendaJobDoc) => (job.lockedAt ? { _id: job._id, lockedAt: job.lockedAt } : { _id: job._id, lockedAt: null, nextRunAt: job.nextRunAt });
    // A one-off job's run starts in its lock (see `startsInLock`); a recurring one's next tick is
    // Agenda's to compute, so its run starts with Agenda's own save.
    const oneOff = won.filter((w) => startsInLock(w.job));
    const recurring = won.filter((w) => !startsInLock(w.job));
    let matched = 0;
    if (oneOff.length) {
      const res = await this.opts.jobs.updateMany(
        { $or: oneOff.map((w) => inState(w.job)) },
        { $set: { lockedAt, lastModifiedBy: lockedBy, lastRunAt: lockedAt, nextRunAt: null }, $inc: { 'sb.attempts': 1 } } as never,
      );
      matched += res.matchedCount;
    }
    if (recurring.length) {
      const res = await this.opts.jobs.updateMany({ $or: recurring.map((w) => inState(w.job)) }, { $set: { lockedAt, lastModifiedBy: lockedBy } } as never);
      matched += res.matchedCount;
    }
    let locked = won.map((w) => w.job);
    if (matched !== won.length) {
      // Some moved on meanwhile (rare): read back which are ours, forget the other claims.
      const mine = await this.opts.jobs
        .find({ _id: { $in: won.map((w) => w.job._id) }, lockedAt, lastModifiedBy: lockedBy }, { projection: { _id: 1 } })
        .toArray();
      const ids = new Set(mine.map((d) => String(d._id)));
      locked = locked.filter((j) => ids.has(String(j._id)));
      await this.opts.claims.forget(won.filter((w) => !ids.has(String(w.job._id))).map((w) => w.claim));
    }
    const now = Date.now();
    for (const job of locked) this.push({ ...job, lockedAt, lastModifiedBy: lockedBy } as AgendaJobDoc, now);
    return locked;
  }
}

/**
 * A one-off job's run starts in the same write as its lock: `lastRunAt` (the run's stamp), no
 * next run, the attempt counted. That saves Agenda's save at the start of the run, one pass over
 * the live set on FerretDB. If it is given back without running, the backend restores all three.
 */
export function startsInLock(job: Pick<AgendaJobDoc, 'repeatInterval'> & { repeatAt?: unknown }): boolean {
  return !job.repeatInterval && !job.repeatAt;
}

/** Up to the free room of each type and in all, in order. */
function pick(due: AgendaJobDoc[], capacity: Map<string, number>, total: number): AgendaJobDoc[] {
  const left = new Map(capacity);
  const out: AgendaJobDoc[] = [];
  for (const d of due) {
    if (out.length >= total) break;
    const free = left.get(d.name) ?? 0;
    if (free <= 0) continue;
    left.set(d.name, free - 1);
    out.push(d);
  }
  return out;
}

function shuffleWithinPriority(due: AgendaJobDoc[]): AgendaJobDoc[] {
  return due
    .map((d) => ({ d, r: Math.random() }))
    .sort((a, b) => (b.d.priority ?? 0) - (a.d.priority ?? 0) || a.r - b.r)
    .map((x) => x.d);
}

/** Agenda's job fields of a stored document, plus our own `sb` bookkeeping (the attempt reads it). */
export function toJobParameters(doc: AgendaJobDoc): JobParameters {
  const d = doc as AgendaJobDoc & Record<string, unknown>;
  const opt = <T>(v: T | null | undefined) => v ?? undefined;
  return {
    _id: toJobId((doc._id as ObjectId).toHexString()),
    name: doc.name,
    priority: d.priority as number,
    nextRunAt: doc.nextRunAt ?? null,
    type: d.type as JobParameters['type'],
    data: d.data,
    lockedAt: opt(doc.lockedAt),
    lastFinishedAt: opt(doc.lastFinishedAt),
    failedAt: opt(d.failedAt as Date | null),
    failCount: opt(d.failCount as number | null),
    failReason: opt(d.failReason as string | null),
    repeatTimezone: opt(d.repeatTimezone as string | null),
    lastRunAt: opt(doc.lastRunAt),
    repeatInterval: opt(d.repeatInterval as string | null),
    repeatAt: opt(d.repeatAt as string | null),
    disabled: opt(d.disabled as boolean | null),
    progress: opt(d.progress as number | null),
    lastModifiedBy: opt(d.lastModifiedBy as string | null),
    fork: opt(d.fork as boolean | null),
    unique: opt(d.unique as JobParameters['unique'] | null),
    uniqueOpts: opt(d.uniqueOpts as JobParameters['uniqueOpts'] | null),
    debounceStartedAt: opt(d.debounceStartedAt as Date | null),
    startDate: opt(d.startDate as Date | null),
    endDate: opt(d.endDate as Date | null),
    skipDays: opt(d.skipDays as JobParameters['skipDays'] | null),
    ...(doc.sb ? { sb: doc.sb } : {}),
  } as JobParameters;
}
