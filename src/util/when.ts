/**
 * The one parser of points in time typed by operators (`jobs run --at WHEN`): an ISO date or
 * date-time, or `in` and a duration. Anything else, including dates that do not exist
 * (2999-13-45T99:99), is refused rather than read as "now" or as some other date.
 */
import { parseDuration } from './duration.ts';

/** The forms WHEN accepts, for error messages and help. */
export const WHEN_FORMS = 'an ISO date like 2025-06-01T09:30Z (or 2025-06-01 09:30, local time), or "in 10m" / "in 2 hours"';

const ISO = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,3}))?)?(Z|[+-]\d{2}:?\d{2})?)?$/i;

/**
 * The instant `text` names, or undefined when it is not one of WHEN_FORMS.
 *
 * @example parseWhen('in 10 minutes', now) // now + 10 min
 */
export function parseWhen(text: string, now: Date = new Date()): Date | undefined {
  if (typeof text !== 'string') return undefined;
  const s = text.trim();
  if (s.length > 100) return undefined;
  const rel = /^in\s+(.+)$/i.exec(s);
  if (rel) {
    const ms = parseDuration(rel[1]);
    return ms === undefined ? undefined : new Date(now.getTime() + ms);
  }
  if (s.toLowerCase() === 'now') return new Date(now.getTime());
  const m = ISO.exec(s);
  if (!m) return undefined;
  const [, y, mo, d, h = '00', mi = '00', sec = '00', ms = '0', zone] = m;
  const parts = [Number(y), Number(mo), Number(d), Number(h), Number(mi), Number(sec), Number(ms.padEnd(3, '0'))] as const;
  if (parts[1] < 1 || parts[1] > 12 || parts[3] > 23 || parts[4] > 59 || parts[5] > 59) return undefined;
  const daysInMonth = new Date(Date.UTC(parts[0], parts[1], 0)).getUTCDate();
  if (parts[2] < 1 || parts[2] > daysInMonth) return undefined;
  if (!zone && m[4] !== undefined) return new Date(parts[0], parts[1] - 1, parts[2], parts[3], parts[4], parts[5], parts[6]);
  const utc = Date.UTC(parts[0], parts[1] - 1, parts[2], parts[3], parts[4], parts[5], parts[6]);
  if (!zone || zone.toUpperCase() === 'Z') return new Date(utc);
  const z = /^([+-])(\d{2}):?(\d{2})$/.exec(zone)!;
  const offset = (Number(z[2]) * 60 + Number(z[3])) * 60_000;
  if (Number(z[2]) > 14 || Number(z[3]) > 59) return undefined;
  return new Date(utc - (z[1] === '+' ? offset : -offset));
}
