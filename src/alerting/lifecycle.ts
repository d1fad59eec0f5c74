/**
 * The alert lifecycle as pure decisions, for the evaluator (the only writer of lifecycle state):
 * - breached, not firing → a new episode fires ('opened'), unless a manual resolve's quiet time runs;
 * - breached while firing → count, last seen and facts updated; 'updated' is announced when the
 *   count grew by a quarter (firing) or doubled (acknowledged); never while snoozed;
 * - clear while firing → resolves once clear for the rule's window (hysteresis);
 * - an operator's resolve → resolved now, with a quiet time of one window before it may fire again.
 * Acks and snoozes are operators' records (store.ts), folded in by `operatorState`.
 */
import { formatDuration } from '../util/duration.ts';
import type { Breach } from './rule.ts';
import type { AlertControlDoc, AlertDoc, AlertFields } from './store.ts';
import type { AlertState } from './types.ts';

/** Unacknowledged: announce an update when the count reaches this multiple of the last announced one. */
export const UPDATE_GROWTH = 1.25;
/** Acknowledged: only when it reaches this multiple ("something changed a lot"). */
export const ACKED_GROWTH = 2;

/** The operators' actions that apply to the current episode. */
export interface OperatorState {
  ack?: AlertControlDoc;
  /** The latest snooze. */
  snooze?: AlertControlDoc;
  resolve?: AlertControlDoc;
}

/** Folds an alert's control records (any order) into the state of its current episode. */
export function operatorState(controls: AlertControlDoc[], episode: number): OperatorState {
  const out: OperatorState = {};
  for (const c of [...controls].sort((a, b) => a.at.getTime() - b.at.getTime())) {
    if (c.episode !== episode) continue;
    if (c.kind === 'ack') out.ack ??= c;
    else if (c.kind === 'resolve') out.resolve ??= c;
    else out.snooze = c;
  }
  return out;
}

/** What an alert is now, for people: resolved, snoozed, acknowledged or firing. */
export function effectiveState(doc: Pick<AlertDoc, 'state'>, op: OperatorState, now: Date): AlertState {
  if (doc.state === 'resolved' || op.resolve) return 'resolved';
  if (op.snooze?.until && op.snooze.until > now) return 'snoozed';
  if (op.ack) return 'acknowledged';
  return 'firing';
}

/** A lifecycle step: the fields to write, and the event to announce if any. */
export interface Step {
  set: Partial<AlertFields>;
  event?: { kind: 'opened' | 'updated' | 'resolved'; note?: string };
}

/** The alert key of a rule's subject. */
export const alertKey = (rule: string, subject: string) => `${rule}:${subject}`;

/** A subject breaches the rule now. Undefined: nothing to do (a quiet time after a manual resolve). */
export function onBreach(doc: AlertDoc | undefined, rule: string, breach: Breach, now: Date, op: OperatorState): Step | undefined {
  const latest = { title: breach.title, summary: breach.summary, facts: breach.facts, hint: breach.hint, count: breach.count, lastSeenAt: now, clearSince: null, updatedAt: now };
  if (!doc || doc.state === 'resolved') {
    if (doc?.quietUntil && now < doc.quietUntil) return undefined;
    const set: Partial<AlertFields> = {
      ...latest,
      rule,
      subject: breach.subject,
      job: breach.job,
      provider: breach.provider,
      state: 'firing',
      episode: (doc?.episode ?? 0) + 1,
      peak: breach.count,
      seen: 1,
      notifiedCount: breach.count,
      firstSeenAt: now,
      resolvedAt: null,
      resolvedBy: null,
      resolveReason: null,
      quietUntil: null,
    };
    return { set, event: { kind: 'opened' } };
  }
  const set: Partial<AlertFields> = { ...latest, peak: Math.max(doc.peak ?? 0, breach.count), seen: (doc.seen ?? 0) + 1 };
  const state = effectiveState(doc, op, now);
  const growth = state === 'acknowledged' ? ACKED_GROWTH : UPDATE_GROWTH;
  const last = doc.notifiedCount ?? 0;
  const grew = state !== 'snoozed' && state !== 'resolved' && breach.count > last && breach.count >= Math.max(1, last) * growth;
  if (!grew) return { set };
  set.notifiedCount = breach.count;
  return { set, event: { kind: 'updated', note: `Count ${last} → ${breach.count}: ${breach.summary}` } };
}

/** A firing alert's subject is clear now: start or continue the clear time; resolve after the window. */
export function onClear(doc: AlertDoc, clearAfterMs: number, now: Date): Step | undefined {
  const clearSince = doc.clearSince ?? now;
  if (now.getTime() - clearSince.getTime() >= clearAfterMs) {
    const reason = `clear for ${formatDuration(now.getTime() - clearSince.getTime())}`;
    return {
      set: { state: 'resolved', clearSince, resolvedAt: now, resolvedBy: 'switchboard', resolveReason: reason, updatedAt: now },
      event: { kind: 'resolved', note: `Resolved: ${reason}.` },
    };
  }
  return doc.clearSince ? undefined : { set: { clearSince, updatedAt: now } };
}

/** An operator resolved the current episode: resolved now; no new episode for one window. */
export function onManualResolve(control: AlertControlDoc, clearAfterMs: number, now: Date): Step {
  const note = `Resolved by ${control.by.name}${control.reason ? `: ${control.reason}` : ''}.`;
  return {
    set: { state: 'resolved', resolvedAt: control.at, resolvedBy: control.by.name, resolveReason: control.reason ?? null, quietUntil: new Date(now.getTime() + clearAfterMs), updatedAt: now },
    event: { kind: 'resolved', note },
  };
}
