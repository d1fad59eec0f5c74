/**
 * Human durations for chat commands: `90s`, `1h30m`, `2w` in; `1h 30m`, `250ms` out.
 */

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
const WEEK = 7 * DAY;

/** The longest duration parseDuration accepts: ten years of 365.25 days. */
export const MAX_DURATION_MS = 10 * 365.25 * DAY;

/** Longest text parseDuration looks at; anything longer is not a duration someone typed. */
const MAX_TEXT = 100;

const UNITS = new Map<string, number>();
for (const [ms, names] of [
  [1, ['ms', 'msec', 'msecs', 'millisecond', 'milliseconds']],
  [SECOND, ['s', 'sec', 'secs', 'second', 'seconds']],
  [MINUTE, ['m', 'min', 'mins', 'minute', 'minutes']],
  [HOUR, ['h', 'hr', 'hrs', 'hour', 'hours']],
  [DAY, ['d', 'day', 'days']],
  [WEEK, ['w', 'wk', 'wks', 'week', 'weeks']],
] as const) {
  for (const name of names) UNITS.set(name, ms);
}

/** Milliseconds for text like `90s`, `1h30m`, `2 hours`; undefined for bare numbers, negatives, junk or > 10 years. */
export function parseDuration(text: string): number | undefined {
  if (typeof text !== 'string') return undefined;
  const s = text.trim().toLowerCase();
  if (s === '' || s.length > MAX_TEXT) return undefined;
  // One `<digits><unit>` group at a time; sticky, so each match starts where the last ended (linear).
  const group = /(\d+)\s*([a-z]+)\s*/y;
  const usedUnits = new Set<number>();
  let total = 0;
  let pos = 0;
  while (pos < s.length) {
    group.lastIndex = pos;
    const m = group.exec(s);
    if (!m) return undefined;
    const unit = UNITS.get(m[2]);
    if (unit === undefined || usedUnits.has(unit)) return undefined;
    usedUnits.add(unit);
    total += Number(m[1]) * unit;
    if (!(total <= MAX_DURATION_MS)) return undefined;
    pos = group.lastIndex;
  }
  return total;
}

const FORMAT_UNITS: ReadonlyArray<[number, string]> = [
  [DAY, 'd'],
  [HOUR, 'h'],
  [MINUTE, 'm'],
  [SECOND, 's'],
  [1, 'ms'],
];

/** Compact text with at most two adjacent units, truncating the rest: `1h 30m`, `45s`, `250ms`, `3d 4h`. */
export function formatDuration(ms: number): string {
  if (typeof ms !== 'number' || Number.isNaN(ms)) return 'n/a';
  if (ms === Infinity) return '∞';
  if (ms === -Infinity) return '-∞';
  const sign = ms < 0 ? '-' : '';
  let rest = Math.round(Math.abs(ms));
  if (rest === 0) return '0ms';
  const first = FORMAT_UNITS.findIndex(([size]) => rest >= size);
  const parts: string[] = [];
  for (const [size, label] of FORMAT_UNITS.slice(first, first + 2)) {
    const count = Math.floor(rest / size);
    rest -= count * size;
    if (count > 0) parts.push(`${count}${label}`);
  }
  return sign + parts.join(' ');
}

/** What a duration setting or argument accepts, for error messages. */
export const DURATION_FORMS = 'a duration like 90s, 10m, 1h or 2d, or a number of milliseconds';

/**
 * A duration as settings take it: text as parseDuration reads it, or whole milliseconds (a number
 * or digits, as values stored before units were accepted are); undefined for anything else.
 *
 * @example parseDurationSetting('10m') // 600000; parseDurationSetting('600000') // 600000
 */
export function parseDurationSetting(value: unknown): number | undefined {
  if (typeof value === 'number') return Number.isSafeInteger(value) && value >= 0 && value <= MAX_DURATION_MS ? value : undefined;
  if (typeof value !== 'string') return undefined;
  const s = value.trim();
  if (/^\d{1,15}$/.test(s)) return parseDurationSetting(Number(s));
  return parseDuration(s);
}
