/**
 * A write that must land: retried with backoff (100 ms doubling to 2 s) while the database is
 * away, logged once when it first fails (with a reference) and once when it lands. Used for what
 * an attempt did after its handler ran (attempt.ts) and for a run's final save (backend.ts), so a
 * short outage never makes a finished job run again.
 */
import { randomBytes } from 'node:crypto';
import type { Logger } from '../log.ts';

const FIRST_MS = 100;
const MAX_MS = 2_000;

export interface UntilWrittenOptions {
  log: Logger;
  /** Logged (warn) at the first failure. */
  failed: string;
  /** Logged (info) when it lands after failing. */
  landed: string;
  /** True when retrying is no longer ours to do: the last error is thrown. */
  giveUp?: () => boolean;
}

export async function untilWritten<T>(write: () => Promise<T>, opts: UntilWrittenOptions): Promise<T> {
  let delay = FIRST_MS;
  let ref: string | undefined;
  for (;;) {
    try {
      const out = await write();
      if (ref) opts.log.info({ ref }, opts.landed);
      return out;
    } catch (err) {
      if (opts.giveUp?.()) throw err;
      if (!ref) {
        ref = randomBytes(3).toString('hex');
        opts.log.warn({ err, ref }, opts.failed);
      }
      await new Promise((r) => setTimeout(r, delay));
      delay = Math.min(delay * 2, MAX_MS);
    }
  }
}
