/** An alert as every channel shows it (AlertView), with the buttons that fit its rule and state. */
import { quoteArg } from '../chat/grammar.ts';
import type { ReplyAction } from '../chat/reply.ts';
import { effectiveState, type OperatorState } from './lifecycle.ts';
import { SWITCH_RULE_ACTIONS, type AlertRule, type RuleAction } from './rule.ts';
import type { AlertDoc } from './store.ts';
import type { AlertState, AlertView } from './types.ts';
import { maskSecrets } from '../util/secrets.ts';

/** Buttons for an alert: the rule's remedies, then acknowledge and snooze 1 h (none once resolved). */
export function alertActions(doc: Pick<AlertDoc, '_id' | 'job' | 'provider'>, state: AlertState, ruleActions: readonly RuleAction[]): ReplyAction[] {
  if (state === 'resolved') return [];
  const out: ReplyAction[] = [];
  for (const a of ruleActions) {
    if (a === 'retry-dlq' && doc.job) {
      out.push({
        label: 'Retry dead letters',
        command: `dlq retry --all --job ${doc.job}`,
        style: 'primary',
        confirm: { title: 'Retry dead letters?', text: `Requeue every pending dead letter of ${doc.job} with a fresh attempt budget.` },
      });
    }
    if (a === 'pause-job' && doc.job) {
      out.push({
        label: `Pause ${doc.job}`,
        command: `jobs pause ${doc.job} --reason "paused from alert"`,
        style: 'danger',
        confirm: { title: `Pause ${doc.job}?`, text: 'No new attempt of this job type starts until it is resumed.' },
      });
    }
    if (a === 'reset-breaker' && doc.provider) {
      out.push({
        label: 'Reset breaker',
        command: `breakers reset ${doc.provider}`,
        confirm: { title: `Reset the ${doc.provider} breaker?`, text: 'Calls to the provider start again at once.' },
      });
    }
    if (a === 'killswitch-off') {
      out.push({
        label: 'Turn off',
        command: 'killswitch off --reason "resolved from alert"',
        style: 'primary',
        confirm: { title: 'Turn the kill switch off?', text: 'Held jobs resume in every process.' },
      });
    }
    if (a === 'resume-job' && doc.job) out.push({ label: 'Resume', command: `jobs resume ${quoteArg(doc.job)} --reason "resumed from alert"`, style: 'primary' });
  }
  if (state !== 'acknowledged') out.push({ label: 'Acknowledge', command: `alerts ack ${doc._id}` });
  out.push({ label: 'Snooze 1h', command: `alerts snooze ${doc._id} 1h` });
  return out;
}

/** The buttons of an alert's source: its rule's, or a switch alert's (kill switch, pause). */
export function ruleActionsOf(rules: readonly AlertRule[], rule: string): readonly RuleAction[] {
  return rules.find((r) => r.name === rule)?.actions ?? SWITCH_RULE_ACTIONS[rule] ?? [];
}

/** Who put the alert in its current state, if a person did. */
function byWhom(doc: AlertDoc, op: OperatorState, state: AlertState): string | undefined {
  if (state === 'resolved') return op.resolve?.by.name ?? doc.resolvedBy ?? undefined;
  if (state === 'snoozed') return op.snooze?.by.name;
  if (state === 'acknowledged') return op.ack?.by.name;
  return undefined;
}

/**
 * The AlertView of an alert document and its operators' state at `now`. Masked: a rule may quote
 * an error or a payload in its summary or facts, and every channel and `alerts show` read this.
 */
export function toView(doc: AlertDoc, op: OperatorState, now: Date, ruleActions: readonly RuleAction[]): AlertView {
  const state = effectiveState(doc, op, now);
  const view: AlertView = {
    key: doc._id,
    rule: doc.rule,
    subject: doc.subject,
    state,
    title: doc.title,
    summary: doc.summary,
    facts: doc.facts ?? [],
    count: doc.count,
    firstSeenAt: doc.firstSeenAt,
    lastSeenAt: doc.lastSeenAt,
    actions: alertActions(doc, state, ruleActions),
  };
  if (doc.hint) view.hint = doc.hint;
  const by = byWhom(doc, op, state);
  if (by) view.by = by;
  if (state === 'snoozed' && op.snooze?.until) view.snoozedUntil = op.snooze.until;
  return maskSecrets(view);
}
