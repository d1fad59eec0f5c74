/** Indexed queries several rules share. FerretDB v1 has no $min/$max: oldest-first lookups use sort + limit. */
import type { Filter } from 'mongodb';
import type { AgendaJobDoc, SwitchboardCollections } from '../db/collections.ts';
import { readRollups, totalsByJob } from '../engine/rollupStore.ts';
import { duration, type RuleAction } from './rule.ts';

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

/**
 * What the failure rules (failure-count, failure-rate) share: a `window` parameter that is also
 * their hysteresis, the retry and pause buttons, and a triage note on opening.
 */
export const failureRuleTraits = {
  clearAfter: (p: { window: number }) => p.window,
  actions: ['retry-dlq', 'pause-job'] as RuleAction[],
  triage: true,
};

/** The failure rules' `window` parameter, with its default. */
export const failureWindow = (dflt: string) => duration(dflt, 'Attempts that finished within this window (whole minutes) count; also how long it must stay clear to resolve');

/** Per job type with finished attempts in the `windowMs` before `now`: its failures (failed and dead-lettered), its total and the counts. */
export async function failuresOver(cols: SwitchboardCollections, now: Date, windowMs: number): Promise<Array<{ job: string; failed: number; total: number; counts: OutcomeCounts }>> {
  const byJob = await runOutcomesByJob(cols, new Date(now.getTime() - windowMs), now);
  return [...byJob].map(([job, counts]) => ({ job, failed: counts.failed + counts.dead, total: counts.failed + counts.dead + counts.success, counts }));
}

/** "12.5 %". */
export function pct(ratio: number): string {
  return `${(Math.round(ratio * 1000) / 10).toString()} %`;
}

/** "s" when n is not 1. */
export function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

/** What the rules read of a live job. */
export type LiveJob = Pick<AgendaJobDoc, '_id' | 'name' | 'nextRunAt' | 'lockedAt' | 'lastRunAt' | 'repeatInterval' | 'failReason' | 'disabled'>;

const LIVE_FIELDS = { name: 1, nextRunAt: 1, lockedAt: 1, lastRunAt: 1, repeatInterval: 1, failReason: 1, disabled: 1 } as const;

/**
 * The live jobs the rules look at (backlog: due; stuck: locked; stale-recurring: recurring), read
 * once per evaluation however many rules ask: one query of `agendaJobs` a tick, not one or two
 * per rule (on FerretDB each reads the whole collection). Jobs waiting for a later time are not
 * sent: ten thousand jobs due tomorrow cost the server one pass and the worker nothing.
 */
export function liveJobsOnce(cols: SwitchboardCollections, now: Date): () => Promise<LiveJob[]> {
  let read: Promise<LiveJob[]> | undefined;
  const filter: Filter<AgendaJobDoc> = { $or: [{ nextRunAt: { $lte: now } }, { lockedAt: { $ne: null } }, { repeatInterval: { $exists: true, $nin: [null as never, ''] } }] };
  return () => (read ??= cols.agendaJobs.find(filter, { projection: LIVE_FIELDS }).toArray());
}
