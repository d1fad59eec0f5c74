/**
 * Run claims: the one write that decides which worker runs a locked job.
 *
 * On MongoDB, Agenda's lock (`findOneAndUpdate`) is atomic and the claim always succeeds. FerretDB
 * v1 implements findAndModify and update as "query, then write the whole document back" with no
 * compare-and-set, so two workers can both "lock" the same job. An insert into a unique `_id` is
 * atomic on every server: the claim is keyed by the job and the state both racers read (its
 * scheduled time and last run), so exactly one of them wins; the loser leaves the job alone.
 */
import type { Collection, Db } from 'mongodb';
import { MongoServerError } from 'mongodb';
import { registerIndexes } from '../db/collections.ts';

export interface ClaimDoc {
  _id: string;
  jobId: string;
  worker: string;
  at: Date;
}

registerIndexes('jobClaims', [
  { key: { jobId: 1 }, name: 'jobId' },
  { key: { at: 1 }, name: 'at' },
]);

interface Claimable {
  _id?: unknown;
  nextRunAt?: Date | null;
  lastRunAt?: Date | null;
}

export class RunClaims {
  private readonly col: Collection<ClaimDoc>;
  private readonly worker: string;

  constructor(db: Db, worker: string) {
    this.col = db.collection<ClaimDoc>('jobClaims');
    this.worker = worker;
  }

  /** True when this worker may run the job it just locked. */
  async claim(job: Claimable): Promise<boolean> {
    const jobId = String(job._id);
    const key = `${jobId}:${job.nextRunAt?.getTime() ?? 'none'}:${job.lastRunAt?.getTime() ?? 'never'}`;
    try {
      await this.col.insertOne({ _id: key, jobId, worker: this.worker, at: new Date() });
      return true;
    } catch (err) {
      if (err instanceof MongoServerError && err.code === 11000) return false;
      throw err;
    }
  }

  /** Forgets this worker's claims on jobs it unlocks without running them. */
  async release(jobIds: string[]): Promise<void> {
    if (jobIds.length) await this.col.deleteMany({ jobId: { $in: jobIds }, worker: this.worker });
  }
}
