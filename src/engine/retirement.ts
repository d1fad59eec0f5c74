/**
 * A lean live set: a one-off job that succeeded leaves `agendaJobs` for `finishedJobs` a short
 * grace after its final save (so a caller that just ran it still finds it in place), in batches:
 * one insertMany and one deleteMany for every job retired in that round. On FerretDB every query
 * of `agendaJobs` reads the whole collection, so what finished must not stay there; `jobs show`
 * and `jobs list --state completed` read `finishedJobs` too. A job retired by a process that
 * died before its round is removed by `maintenance.cleanup` instead.
 */
import type { Collection, Db } from 'mongodb';
import type { AgendaJobDoc } from '../db/collections.ts';
import type { Logger } from '../log.ts';
import { retention, type RetentionRule } from '../db/retention.ts';

export const FINISHED_JOBS = 'finishedJobs';

/**
 * Finished one-off jobs older than the run retention go (`maintenance.cleanup`): those retired to
 * `finishedJobs`, and those left in `agendaJobs` by a process that died before retiring them that
 * never failed for good (a job with a failCount may still have a pending DLQ entry, which can
 * retry it).
 */
export const jobRetention: RetentionRule[] = [
  retention('agendaJobs', (c) => ({
    nextRunAt: null,
    lockedAt: null,
    repeatInterval: null,
    repeatAt: null,
    lastFinishedAt: { $lt: c.runsBefore },
    $or: [{ failCount: null }, { failCount: 0 }],
  })),
  retention(FINISHED_JOBS, (c) => ({ lastFinishedAt: { $lt: c.runsBefore } })),
];

export interface RetirementOptions {
  db: Db;
  log: Logger;
  /** How long a finished job stays in place first. */
  graceMs: number;
}

export class Retirement {
  private readonly jobs: Collection<AgendaJobDoc>;
  private readonly finished: Collection<AgendaJobDoc>;
  private readonly opts: RetirementOptions;
  private readonly due: Array<{ doc: AgendaJobDoc; at: number }> = [];
  private timer: NodeJS.Timeout | undefined;
  private round: Promise<void> | undefined;

  constructor(opts: RetirementOptions) {
    this.opts = opts;
    this.jobs = opts.db.collection<AgendaJobDoc>('agendaJobs');
    this.finished = opts.db.collection<AgendaJobDoc>(FINISHED_JOBS);
  }

  start(): void {
    this.timer = setInterval(() => void this.retireDue(), Math.max(250, Math.floor(this.opts.graceMs / 3)));
    this.timer.unref();
  }

  /** Stops the rounds; what is not retired yet stays for `maintenance.cleanup`. */
  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.round;
  }

  /** A one-off job whose final state (as saved) is a success. */
  add(doc: AgendaJobDoc): void {
    this.due.push({ doc, at: Date.now() });
  }

  /** One round: every job past its grace, moved in two writes. */
  retireDue(): Promise<void> {
    this.round ??= this.move().finally(() => (this.round = undefined));
    return this.round;
  }

  private async move(): Promise<void> {
    const before = Date.now() - this.opts.graceMs;
    let n = 0;
    while (n < this.due.length && this.due[n].at <= before) n++;
    if (n === 0) return;
    const batch = this.due.slice(0, n).map((d) => d.doc);
    try {
      await this.finished.insertMany(batch, { ordered: false }).catch((err: unknown) => {
        // Already there (a round that failed after its insert): fine.
        if ((err as { code?: number }).code !== 11000 && !(err as { writeErrors?: unknown }).writeErrors) throw err;
      });
      // Only what is still finished: a job run again meanwhile stays.
      await this.jobs.deleteMany({ _id: { $in: batch.map((d) => d._id) }, nextRunAt: null, lockedAt: null });
      this.due.splice(0, n);
    } catch (err) {
      this.opts.log.warn({ err, jobs: n }, 'retiring finished jobs failed; next round tries again');
    }
  }
}
