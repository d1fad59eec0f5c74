/**
 * Run claims: the one write that decides which worker takes a due job.
 *
 * FerretDB v1 implements findAndModify and update as "query, then write the whole document back"
 * with no compare-and-set, so Agenda's lock (`findOneAndUpdate`) lets two workers both "lock" the
 * same job, and the loser's write-back of the document it read can land after the winner has run
 * the job, reverting it to due-and-never-run. So the claim comes first: an insert into a unique
 * `_id` is atomic on every server, keyed by the job and the state the racers read (scheduled
 * time, last run, lock time); exactly one wins, and only the winner writes the lock. The loser
 * never writes the job.
 *
 * A claim whose state is still the job's state a lock lifetime later was never followed by a lock
 * (its worker died, or the lock was undone): it may be taken over, or the job would wait forever.
 */
import type { Collection, Db } from 'mongodb';
import type { IndexPlan } from '../db/collections.ts';
import { insertOnce } from '../db/insertOnce.ts';
import { retention, type RetentionRule } from '../db/retention.ts';

export interface ClaimDoc {
  /** The claim key, or `<key>#<ms>` for a takeover of a stale claim made at <ms>. */
  _id: string;
  key: string;
  jobId: string;
  worker: string;
  at: Date;
}

/** The indexes of the collections this module owns (collected by src/app/schema.ts). */
export const claimIndexes: IndexPlan = {
  jobClaims: [
    { key: { jobId: 1 }, name: 'jobId' },
    { key: { at: 1 }, name: 'at' },
    { key: { key: 1, at: -1 }, name: 'key_at' },
  ],
};

/** A claim only matters while its job is being locked: a day later it goes (`maintenance.cleanup`). */
export const claimRetention: RetentionRule = retention('jobClaims', (c) => ({ at: { $lt: c.dayAgo } }));

interface Claimable {
  _id?: unknown;
  nextRunAt?: Date | null;
  lastRunAt?: Date | null;
  lockedAt?: Date | null;
  lastFinishedAt?: Date | null;
}

const ms = (d: Date | null | undefined, none: string) => (d ? String(d.getTime()) : none);
/** The state racers read: scheduled time, last run, lock time. */
const claimKey = (job: Claimable) => `${String(job._id)}:${ms(job.nextRunAt, 'none')}:${ms(job.lastRunAt, 'never')}:${ms(job.lockedAt, 'unlocked')}`;

export class RunClaims {
  private readonly col: Collection<ClaimDoc>;
  private readonly worker: string;
  private readonly staleAfterMs: number;
  /** Claim keys this worker lost, with when it first lost them (see claimMany). */
  private readonly lostSince = new Map<string, number>();

  /** `staleAfterMs`: the lock lifetime. */
  constructor(db: Db, worker: string, staleAfterMs: number) {
    this.col = db.collection<ClaimDoc>('jobClaims');
    this.worker = worker;
    this.staleAfterMs = staleAfterMs;
  }

  /**
   * Claims many jobs, each in the state it was read in, with one unordered insert; returns the
   * claim id of each job won (in the order given). A job whose claim exists may still be won by
   * a takeover of a stale claim (see `claim`), which costs queries of its own, rarely.
   */
  async claimMany<J extends Claimable>(jobs: J[]): Promise<Array<{ job: J; claim: string }>> {
    if (jobs.length === 0) return [];
    const at = new Date();
    const docs = jobs.map((job) => ({ _id: claimKey(job), key: claimKey(job), jobId: String(job._id), worker: this.worker, at }));
    const lost = new Set<number>();
    try {
      await this.col.insertMany(docs, { ordered: false });
    } catch (err) {
      const writeErrors = (err as { writeErrors?: Array<{ index: number; code?: number }> | { index: number; code?: number } }).writeErrors;
      const errors = Array.isArray(writeErrors) ? writeErrors : writeErrors ? [writeErrors] : undefined;
      if (!errors || !errors.every((e) => e.code === 11000)) throw err;
      for (const e of errors) lost.add(e.index);
    }
    const out: Array<{ job: J; claim: string }> = [];
    const now = at.getTime();
    for (const [k, seen] of this.lostSince) if (now - seen > 2 * this.staleAfterMs) this.lostSince.delete(k);
    for (const [i, job] of jobs.entries()) {
      const key = docs[i]._id;
      if (!lost.has(i)) {
        out.push({ job, claim: key });
        continue;
      }
      // Lost to a worker that locks it a moment later, as a rule: the job's state then changes
      // and this key is not seen again. A key lost again a lock lifetime later was abandoned.
      const seen = this.lostSince.get(key);
      if (seen === undefined) this.lostSince.set(key, now);
      else if (now - seen >= this.staleAfterMs) {
        const takeover = await this.takeOverStale(job, key);
        if (takeover) out.push({ job, claim: takeover });
      }
    }
    return out;
  }

  /** Claims the job in the state it was read in; returns the claim's id, or undefined if another worker has it. */
  async claim(job: Claimable): Promise<string | undefined> {
    const jobId = String(job._id);
    const key = claimKey(job);
    if (await this.insert(key, key, jobId)) return key;
    return this.takeOverStale(job, key);
  }

  /** Deletes claims this worker made but did not follow with a lock. */
  async forget(claimIds: string[]): Promise<void> {
    if (claimIds.length) await this.col.deleteMany({ _id: { $in: claimIds } });
  }

  private async takeOverStale(job: Claimable, key: string): Promise<string | undefined> {
    const jobId = String(job._id);
    // A claim on this state is not older than the times the state holds (a due nextRunAt, the
    // last run, lock and finish): while they are recent, skip the look-up.
    const now = Date.now();
    const times = [job.nextRunAt, job.lastRunAt, job.lockedAt, job.lastFinishedAt].map((d) => d?.getTime() ?? 0);
    if (now - Math.max(...times.filter((t) => t <= now)) < this.staleAfterMs) return undefined;
    const latest = await this.col.find({ key }).sort({ at: -1 }).limit(1).next();
    if (!latest || now - latest.at.getTime() < this.staleAfterMs) return undefined;
    // Everyone who saw this stale claim races for the same takeover id: one wins.
    const takeover = `${key}#${latest.at.getTime()}`;
    return (await this.insert(takeover, key, jobId)) ? takeover : undefined;
  }

  private insert(id: string, key: string, jobId: string): Promise<boolean> {
    return insertOnce(this.col, { _id: id, key, jobId, worker: this.worker, at: new Date() });
  }

  /** Forgets this worker's claims on jobs it unlocks without running them. */
  async release(jobIds: string[]): Promise<void> {
    if (jobIds.length) await this.col.deleteMany({ jobId: { $in: jobIds }, worker: this.worker });
  }
}
