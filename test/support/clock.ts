/** A clock a test moves by hand: starts at the real time (stored documents stay plausible). */
import type { Clock } from '../../src/util/clock.ts';

export class TestClock implements Clock {
  private offsetMs = 0;

  now(): Date {
    return new Date(Date.now() + this.offsetMs);
  }

  /** Moves time forward by `ms` (it keeps running with the real time from there). */
  advance(ms: number): void {
    this.offsetMs += ms;
  }
}
