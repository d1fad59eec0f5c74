/**
 * The overview's charts, read from the rollups (never from run records): runs per minute by
 * outcome and the duration of the last 24 hours, every job type and worker summed. The kept
 * minutes are one-minute points; older time comes folded into hours (rollupStore.ts), which are
 * one point each, its counts spread over its 60 minutes.
 *
 * The rollups keep a duration sum and maximum, not a histogram, so the duration chart shows the
 * mean and the maximum per point; a p95 needs a histogram in the rollups first.
 */
import type { SwitchboardCollections } from '../db/collections.ts';
import { foldCutoff, readRollups } from '../engine/rollupStore.ts';
import type { RunRollupDoc } from '../engine/rollups.ts';

export const SERIES_WINDOW_MS = 24 * 3600_000;

export interface RunSeries {
  /** Point starts, in Unix seconds, ascending. */
  t: number[];
  /** Runs per minute at each point, by outcome. */
  ok: number[];
  failed: number[];
  dead: number[];
  aborted: number[];
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
  const points = new Map<number, { minutes: number; ok: number; failed: number; dead: number; aborted: number; sum: number; max: number }>();
  for (const d of docs) {
    const at = d.minute.getTime();
    const p = points.get(at) ?? { minutes: at < hourCutoff.getTime() ? 60 : 1, ok: 0, failed: 0, dead: 0, aborted: 0, sum: 0, max: 0 };
    p.ok += d.ok;
    p.failed += d.failed;
    p.dead += d.dead;
    p.aborted += d.aborted;
    p.sum += d.durationSum;
    p.max = Math.max(p.max, d.durationMax);
    points.set(at, p);
  }
  const s: RunSeries = { t: [], ok: [], failed: [], dead: [], aborted: [], meanMs: [], maxMs: [] };
  const rate = (n: number, minutes: number) => Math.round((n / minutes) * 100) / 100;
  for (const [at, p] of [...points].sort((a, b) => a[0] - b[0])) {
    const finished = p.ok + p.failed + p.dead + p.aborted;
    s.t.push(at / 1000);
    s.ok.push(rate(p.ok, p.minutes));
    s.failed.push(rate(p.failed, p.minutes));
    s.dead.push(rate(p.dead, p.minutes));
    s.aborted.push(rate(p.aborted, p.minutes));
    s.meanMs.push(finished ? Math.round(p.sum / finished) : null);
    s.maxMs.push(finished ? p.max : null);
  }
  return s;
}
