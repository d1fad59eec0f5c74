/**
 * Enqueues announced to every worker: each enqueue writes one small document naming the job
 * (`engineEnqueues`, `_id` = job id), and an idle worker reads the new ones once per poll. A few
 * announced jobs are then locked by id, one write each, instead of a scan of the live set and a
 * bulk lock (two passes over it on FerretDB): a job enqueued by the CLI or another worker starts
 * within a poll even when thousands of jobs wait for later. Announcements are pruned by the
 * readers once they are older than a few polls; a worker that missed one finds the job at its
 * next scan.
 */
import type { Collection, Db } from 'mongodb';
import type { Logger } from '../log.ts';

export interface Announcement {
  /** The job's id. */
  _id: string;
  name: string;
  nextRunAt: Date | null;
  /** A recurring job: its run does not start in its lock (see dueJobs.ts startsInLock). */
  recurring: boolean;
  at: Date;
}

/** How far apart two hosts' clocks may be. */
const SKEW_MS = 5_000;
/** Announcements older than this are deleted by whichever reader comes by. */
const KEEP_MS = 60_000;

export class Announcements {
  private readonly col: Collection<Announcement>;
  private readonly log: Logger;
  /** What this reader has seen (or announced itself: its own process already looked), by job id → time. */
  private readonly seen = new Map<string, number>();
  private cursor: number | undefined;
  private prunedAt = 0;

  constructor(db: Db, log: Logger) {
    this.col = db.collection<Announcement>('engineEnqueues');
    this.log = log;
  }

  /** One write per enqueue; a failure is logged (the job is still found at the next scan). */
  async announce(job: Omit<Announcement, 'at'>): Promise<void> {
    const at = new Date();
    this.seen.set(job._id, at.getTime());
    try {
      await this.col.updateOne({ _id: job._id }, { $set: { name: job.name, nextRunAt: job.nextRunAt, recurring: job.recurring, at } }, { upsert: true });
    } catch (err) {
      this.log.warn({ err, jobId: job._id }, 'could not announce an enqueue to other workers');
    }
  }

  /** What was announced since the last read (the first read: since `since`). */
  async readNew(since: number): Promise<Announcement[]> {
    const now = Date.now();
    const from = (this.cursor ?? since) - SKEW_MS;
    const docs = await this.col.find({ at: { $gt: new Date(from) } }).toArray();
    const fresh = docs.filter((d) => this.seen.get(d._id) !== d.at.getTime());
    for (const d of docs) this.seen.set(d._id, d.at.getTime());
    for (const [id, at] of this.seen) if (at < from) this.seen.delete(id);
    this.cursor = Math.max(this.cursor ?? since, ...docs.map((d) => d.at.getTime()));
    if (now - this.prunedAt > KEEP_MS / 2) {
      this.prunedAt = now;
      this.col.deleteMany({ at: { $lt: new Date(now - KEEP_MS) } }).catch((err: unknown) => this.log.debug({ err }, 'pruning announcements failed'));
    }
    return fresh;
  }
}
