/**
 * The overview's charts, read from the rollups (never from run records): runs per minute by
 * outcome and the duration of the last 24 hours, every job type and worker summed. The kept
 * minutes are one-minute points; older time comes folded into hours (rollupStore.ts), which are
 * one point each, its counts spread over its 60 minutes.
 *
 * Durations: the p95 per point from the rollups' duration histograms (a 1-2-5 series of
 * buckets, interpolated within one: src/engine/rollups.ts), and the mean and the maximum.
 */
import type { SwitchboardCollections } from '../db/collections.ts';
import { foldCutoff, readRollups } from '../engine/rollupStore.ts';
import { addCounts, durationQuantile, emptyCounts, type RunRollupDoc } from '../engine/rollups.ts';

export const SERIES_WINDOW_MS = 24 * 3600_000;

export interface RunSeries {
  /** Point starts, in Unix seconds, ascending. */
  t: number[];
  /** Runs per minute at each point, by outcome. */
  ok: number[];
  failed: number[];
  dead: number[];
  aborted: number[];
  /** The 95th percentile of the point's finished runs' durations (null without any, or only before histograms). */
  p95Ms: (number | null)[];
  /** Mean and maximum duration of the point's finished runs (null without any). */
  meanMs: (number | null)[];
  maxMs: (number | null)[];
}

/** The series of the last 24 hours up to `now`. */
export async function readRunSeries(cols: SwitchboardCollections, now = new Date()): Promise<RunSeries> {
  const docs = await readRollups(cols, new Date(now.getTime() - SERIES_WINDOW_MS), now);
  return toSeries(docs, foldCutoff(now));
}

/** Sums rollups per point; a document older than `hourCutoff` stands for a whole hour. */
export function toSeries(docs: RunRollupDoc[], hourCutoff: Date): RunSeries {
  const points = new Map<number, { minutes: number; c: ReturnType<typeof emptyCounts> }>();
  for (const d of docs) {
    const at = d.minute.getTime();
    const p = points.get(at) ?? { minutes: at < hourCutoff.getTime() ? 60 : 1, c: emptyCounts() };
    addCounts(p.c, d);
    points.set(at, p);
  }
  const s: RunSeries = { t: [], ok: [], failed: [], dead: [], aborted: [], p95Ms: [], meanMs: [], maxMs: [] };
  const rate = (n: number, minutes: number) => Math.round((n / minutes) * 100) / 100;
  for (const [at, { minutes, c }] of [...points].sort((a, b) => a[0] - b[0])) {
    const finished = c.ok + c.failed + c.dead + c.aborted;
    s.t.push(at / 1000);
    s.ok.push(rate(c.ok, minutes));
    s.failed.push(rate(c.failed, minutes));
    s.dead.push(rate(c.dead, minutes));
    s.aborted.push(rate(c.aborted, minutes));
    s.p95Ms.push(finished ? durationQuantile(c.durationHist, 0.95, c.durationMax) : null);
    s.meanMs.push(finished ? Math.round(c.durationSum / finished) : null);
    s.maxMs.push(finished ? c.durationMax : null);
  }
  return s;
}
