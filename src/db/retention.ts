/**
 * Retention, declared by the module that owns each collection: what in it is old enough to go.
 * FerretDB v1 has no TTL index, so the `maintenance.cleanup` job deletes what the collected
 * rules (src/app/schema.ts) say, in batches by `_id`; the rules themselves live beside the code
 * that writes each collection, so the meaning of "old" has one home.
 */
import type { Collection, Document, Filter } from 'mongodb';

/** The cut-off times of one cleanup run. */
export interface Cutoffs {
  now: Date;
  /** Start of the run retention (JOB_RUNS_RETENTION_DAYS or the `runs.retention_days` setting). */
  runsBefore: Date;
  /** A day ago: for bookkeeping that only matters while its job or request is in flight. */
  dayAgo: Date;
}

export interface RetentionRule {
  collection: string;
  /** The documents old enough to delete at these cut-offs. */
  expired(c: Cutoffs): Filter<Document>;
}

export const retention = (collection: string, expired: (c: Cutoffs) => Filter<Document>): RetentionRule => ({ collection, expired });

/** Deletes what matches `filter`, `batchSize` documents at a time; returns how many. */
export async function deleteInBatches<T extends Document>(
  col: Collection<T>,
  filter: Filter<T>,
  opts: { batchSize: number; maxBatches: number; signal?: AbortSignal },
): Promise<number> {
  let deleted = 0;
  for (let batch = 0; batch < opts.maxBatches && !opts.signal?.aborted; batch++) {
    const ids = (await col.find(filter, { projection: { _id: 1 }, limit: opts.batchSize }).toArray()).map((d) => d._id);
    if (ids.length === 0) break;
    // The filter again: a document may have changed since it was read (a job retried from the DLQ).
    const res = await col.deleteMany({ $and: [{ _id: { $in: ids } }, filter] } as Filter<T>);
    deleted += res.deletedCount;
    if (ids.length < opts.batchSize) break;
  }
  return deleted;
}
