/** The rollups' duration histogram: bucketing, merging across workers and hours, and the p95 read from it. */
import { describe, expect, it } from 'vitest';
import { addCounts, addRun, DURATION_BOUNDS_MS, durationBucket, durationQuantile, emptyCounts, newRollup } from '../../src/engine/rollups.ts';
import { toSeries } from '../../src/ops/runSeries.ts';

const minute = new Date('2026-12-01T10:00:00Z');
const finished = (durationMs: number) => ({ outcome: 'success' as const, durationMs, finishedAt: minute });

describe('duration histogram', () => {
  it('puts a duration in the first bucket whose bound is above it, the open bucket past 10 minutes', () => {
    expect(durationBucket(0)).toBe(0);
    expect(durationBucket(9)).toBe(0);
    expect(durationBucket(10)).toBe(1);
    expect(durationBucket(499)).toBe(5);
    expect(durationBucket(600_000)).toBe(DURATION_BOUNDS_MS.length);
  });

  it('reads a p95 within its bucket, capped by the maximum, from runs counted by two workers', () => {
    const a = newRollup('feeds.sync', minute, 'w1');
    const b = newRollup('feeds.sync', minute, 'w2');
    // 90 fast runs (15 ms) and 10 slow ones (300 ms): the 95th falls among the slow ones.
    for (let i = 0; i < 45; i++) addRun(a, finished(15), minute), addRun(b, finished(15), minute);
    for (let i = 0; i < 5; i++) addRun(a, finished(300), minute), addRun(b, finished(300), minute);
    const sum = addCounts(addCounts(emptyCounts(), a), b);
    expect(sum.durationHist?.reduce((x, y) => x + y, 0)).toBe(100);
    const p95 = durationQuantile(sum.durationHist, 0.95, sum.durationMax)!;
    expect(p95).toBeGreaterThanOrEqual(200);
    expect(p95).toBeLessThanOrEqual(300);
    expect(durationQuantile(sum.durationHist, 0.5, sum.durationMax)).toBeLessThan(20);
    expect(durationQuantile(emptyCounts().durationHist, 0.95)).toBeNull();
  });

  it('gives the overview a p95 per point, and none for rollups written before histograms', () => {
    const withHist = { ...newRollup('a', minute, 'w'), updatedAt: minute };
    for (let i = 0; i < 20; i++) addRun(withHist, finished(i < 19 ? 40 : 4_000), minute);
    const before = { ...newRollup('b', new Date(minute.getTime() + 60_000), 'w'), ok: 3, durationSum: 300, durationMax: 200, updatedAt: minute };
    delete (before as { durationHist?: number[] }).durationHist;
    const s = toSeries([withHist, before], new Date(0));
    expect(s.p95Ms[0]).toBeGreaterThan(20);
    expect(s.p95Ms[0]).toBeLessThanOrEqual(50);
    expect(s.p95Ms[1]).toBeNull();
    expect(s.meanMs[1]).toBe(100);
  });
});
