/**
 * The answer of a command that acts on named targets (`dlq retry`, `jobs cancel`, `roles revoke`,
 * ...): one sentence "Retried 2 dead letters; skipped 1 (id: not found)" and the Reply's
 * `outcome`, from which the dispatcher decides the exit status: nothing acted on while targets
 * were named is a failure (exit 1); `--all` with nothing to do is not.
 */
import { echo } from '../util/echo.ts';
import type { Outcome } from './reply.ts';

/** Skipped targets the sentence names; the rest are counted. */
const NAMED_SKIPS = 3;

export interface ActedOn {
  /** The targets acted on. */
  done: number;
  /** Named targets that were not, with why. */
  skipped: Array<{ target: string; reason: string }>;
  /** Past tense of the action: 'Retried', 'Deleted'. */
  verb: string;
  /** What one target is: 'dead letter' (plural adds an s, or give [one, many]). */
  noun: string | [string, string];
  /** Said instead when nothing was selected (`--all` with nothing to do): 'nothing to retry'. */
  nothing?: string;
}

/**
 * The sentence and the outcome of an action on targets.
 *
 * @example actedOn({ done: 2, skipped: [{ target: 'abc', reason: 'not found' }], verb: 'Retried', noun: 'dead letter' })
 * // { text: 'Retried 2 dead letters; skipped 1 (abc: not found).', outcome: { done: 2, skipped: [...] } }
 */
export function actedOn(a: ActedOn): { text: string; outcome: Outcome } {
  const outcome = { done: a.done, skipped: a.skipped };
  if (a.done === 0 && a.skipped.length === 0 && a.nothing) return { text: `${capitalize(a.nothing)}.`, outcome };
  const [one, many] = typeof a.noun === 'string' ? [a.noun, `${a.noun}s`] : a.noun;
  const named = a.skipped.slice(0, NAMED_SKIPS).map((s) => `${echo(s.target)}: ${s.reason}`);
  const more = a.skipped.length > NAMED_SKIPS ? `, and ${a.skipped.length - NAMED_SKIPS} more` : '';
  const skipped = a.skipped.length ? `; skipped ${a.skipped.length} (${named.join(', ')}${more})` : '';
  return { text: `${a.verb} ${a.done} ${a.done === 1 ? one : many}${skipped}.`, outcome };
}

/** True when targets were named and none was acted on: the command failed. */
export function actedOnNothing(o: Outcome | undefined): boolean {
  return o !== undefined && o.done === 0 && o.skipped.length > 0;
}

function capitalize(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}

/** Skipped entries as the operations service reports them (`{ id, reason }`) as targets. */
export function asTargets(skipped: ReadonlyArray<{ id: string; reason: string }>): ActedOn['skipped'] {
  return skipped.map((s) => ({ target: s.id, reason: s.reason }));
}
