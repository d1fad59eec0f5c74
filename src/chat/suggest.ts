/**
 * "Did you mean …?" for mistyped commands and option names: Damerau–Levenshtein distance plus prefixes.
 */

/** Inputs longer than this are only matched by prefix (the distance is quadratic). */
const MAX_DISTANCE_INPUT = 256;

/** Unrestricted Damerau–Levenshtein distance between two strings, counted in code points. */
export function damerauLevenshtein(a: string, b: string): number {
  const s = Array.from(a);
  const t = Array.from(b);
  const m = s.length;
  const n = t.length;
  if (m === 0) return n;
  if (n === 0) return m;
  const inf = m + n;
  const width = n + 2;
  // d[(i + 1) * width + (j + 1)] is the distance between s[0..i) and t[0..j); row/column 0 hold `inf`.
  const d = new Uint32Array((m + 2) * width);
  d[0] = inf;
  for (let i = 0; i <= m; i++) {
    d[(i + 1) * width] = inf;
    d[(i + 1) * width + 1] = i;
  }
  for (let j = 0; j <= n; j++) {
    d[j + 1] = inf;
    d[width + j + 1] = j;
  }
  const lastRow = new Map<string, number>(); // last row (1-based) where each character of s was seen
  for (let i = 1; i <= m; i++) {
    let lastMatchCol = 0;
    for (let j = 1; j <= n; j++) {
      const i1 = lastRow.get(t[j - 1]) ?? 0;
      const j1 = lastMatchCol;
      const cost = s[i - 1] === t[j - 1] ? 0 : 1;
      if (cost === 0) lastMatchCol = j;
      d[(i + 1) * width + (j + 1)] = Math.min(
        d[i * width + j] + cost, // substitution or match
        d[(i + 1) * width + j] + 1, // insertion
        d[i * width + (j + 1)] + 1, // deletion
        d[i1 * width + j1] + (i - i1 - 1) + 1 + (j - j1 - 1), // transposition
      );
    }
    lastRow.set(s[i - 1], i);
  }
  return d[(m + 1) * width + (n + 1)];
}

/** Candidates close to `input` (typos within max(2, ⌊len/3⌋) edits, or completions of it), best first; never throws. */
export function closestMatches(input: string, candidates: readonly string[], max = 3): string[] {
  try {
    if (typeof input !== 'string' || !Array.isArray(candidates)) return [];
    const limit = Number.isFinite(max) ? Math.floor(max) : 3;
    const needle = input.trim().toLowerCase();
    if (needle === '' || limit <= 0) return [];
    const needleLength = Array.from(needle).length;
    const threshold = Math.max(2, Math.floor(needleLength / 3));
    const found: Array<{ candidate: string; distance: number; prefix: boolean; index: number }> = [];
    const seen = new Set<string>();
    candidates.forEach((candidate, index) => {
      if (typeof candidate !== 'string' || seen.has(candidate)) return;
      seen.add(candidate);
      const lower = candidate.toLowerCase();
      const prefix = lower.startsWith(needle);
      const lengthGap = Math.abs(Array.from(lower).length - needleLength);
      // A completion is exactly `lengthGap` insertions away; others are at least that far.
      const distance = prefix
        ? lengthGap
        : needleLength <= MAX_DISTANCE_INPUT && lengthGap <= threshold
          ? damerauLevenshtein(needle, lower)
          : Infinity;
      if (distance <= threshold || prefix) found.push({ candidate, distance, prefix, index });
    });
    // A completion ranks like a one-edit typo, ahead of typos at the same rank; then nearer first, then input order.
    const rank = (f: (typeof found)[number]): number => (f.prefix ? Math.min(f.distance, 1) : f.distance);
    found.sort(
      (x, y) =>
        rank(x) - rank(y) ||
        Number(y.prefix) - Number(x.prefix) ||
        (x.distance === y.distance ? 0 : x.distance < y.distance ? -1 : 1) ||
        x.index - y.index,
    );
    return found.slice(0, limit).map((f) => f.candidate);
  } catch {
    return [];
  }
}

/**
 * " Did you mean: `a`, `b`?" for the candidates nearest `input` (each shown through `show`, the
 * whole hint escaped and capped by the caller's echo of the input), or '' when none is near.
 *
 * @example `Unknown job \`${echo(name)}\`.${didYouMean(name, jobNames)}`
 */
export function didYouMean(input: string, candidates: readonly string[], show: (c: string) => string = (c) => c): string {
  const guess = closestMatches(input, candidates);
  return guess.length ? ` Did you mean: ${guess.map((g) => `\`${show(g)}\``).join(', ')}?` : '';
}
