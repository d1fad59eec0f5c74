/** Argument schemas several command families share, so they read and fail the same way. */
import { z } from 'zod';
import { parseDuration } from '../src/util/duration.ts';
import { parseWhen, WHEN_FORMS } from '../src/util/when.ts';

/** `--reason TEXT`, required. */
export const reason = z.string({ error: 'a reason is required: --reason "why"' }).trim().min(1, 'a reason is required: --reason "why"');

/** A duration like 15m, 1h or 7d, in milliseconds, optionally bounded. */
export function duration(bounds: { min?: number; max?: number; hint?: string; missing?: string } = {}) {
  const hint = bounds.hint ?? 'expected a duration like 15m, 1h or 7d';
  return z.string({ error: bounds.missing ?? hint }).transform((s, ctx) => {
    const ms = parseDuration(s);
    if (ms === undefined || (bounds.min !== undefined && ms < bounds.min) || (bounds.max !== undefined && ms > bounds.max)) {
      ctx.addIssue({ code: 'custom', message: hint });
      return z.NEVER;
    }
    return ms;
  });
}

/** A point in time (`--at WHEN`): the one parser of time arguments; anything else is a usage error naming the forms. */
export const when = z.string().transform((s, ctx) => {
  const at = parseWhen(s);
  if (!at) {
    ctx.addIssue({ code: 'custom', message: `expected ${WHEN_FORMS}` });
    return z.NEVER;
  }
  return at;
});
