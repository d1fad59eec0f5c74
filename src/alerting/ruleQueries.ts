/** Indexed queries several rules share. FerretDB v1 has no $min/$max: oldest-first lookups use sort + limit. */
import type { SwitchboardCollections } from '../db/collections.ts';
import { readRollups, totalsByJob } from '../engine/rollupStore.ts';

/** Finished attempts of one job type by outcome. */
export interface OutcomeCounts {
  success: number;
  failed: number;
  dead: number;
}

/**
 * Finished attempts per job type in [since, until], from the per-minute rollups (whole minutes:
 * the one holding `since` counts); never from the run records.
 */
export async function runOutcomesByJob(cols: SwitchboardCollections, since: Date, until: Date): Promise<Map<string, OutcomeCounts>> {
  const out = new Map<string, OutcomeCounts>();
  for (const [job, c] of totalsByJob(await readRollups(cols, since, until))) {
    if (c.ok + c.failed + c.dead > 0) out.set(job, { success: c.ok, failed: c.failed, dead: c.dead });
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
