/** Indexed queries several rules share. FerretDB v1 has no $min/$max: oldest-first lookups use sort + limit. */
import type { SwitchboardCollections } from '../db/collections.ts';

/** Finished attempts of one job type by outcome. */
export interface OutcomeCounts {
  success: number;
  failed: number;
  dead: number;
}

/** Finished attempts per job type started in [since, until]: one aggregation on `startedAt`. */
export async function runOutcomesByJob(cols: SwitchboardCollections, since: Date, until: Date, outcomes = ['success', 'failed', 'dead']): Promise<Map<string, OutcomeCounts>> {
  const rows = await cols.jobRuns
    .aggregate<{ _id: { name: string; outcome: keyof OutcomeCounts }; n: number }>([
      { $match: { startedAt: { $gte: since, $lte: until }, outcome: { $in: outcomes } } },
      { $group: { _id: { name: '$jobName', outcome: '$outcome' }, n: { $sum: 1 } } },
    ])
    .toArray();
  const out = new Map<string, OutcomeCounts>();
  for (const r of rows) {
    const c = out.get(r._id.name) ?? { success: 0, failed: 0, dead: 0 };
    c[r._id.outcome] += Number(r.n);
    out.set(r._id.name, c);
  }
  return out;
}

/** "12.5 %". */
export function pct(ratio: number): string {
  return `${(Math.round(ratio * 1000) / 10).toString()} %`;
}

/** "s" when n is not 1. */
export function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}
