/** An alert as one Telegram HTML message: state, title, summary, count, facts, hint, and its buttons while open. */
import type { AlertState, AlertView } from '../../../alerting/types.ts';
import { fmtDate } from '../../reply.ts';
import { escapeHtml } from './render.ts';
import { splitHtml } from './split.ts';

const MARK: Record<AlertState, string> = { firing: '🔴', acknowledged: '🟡', snoozed: '💤', resolved: '✅' };

/** The message text for an alert in its current state (at most 4096 characters). */
export function alertHtml(a: AlertView): string {
  const lines = [`${MARK[a.state]} <b>${escapeHtml(a.title)}</b>`, escapeHtml(a.summary), ''];
  lines.push(`<b>Count:</b> ${a.count}`, `<b>First seen:</b> ${fmtDate(a.firstSeenAt)}`, `<b>Last seen:</b> ${fmtDate(a.lastSeenAt)}`);
  for (const f of a.facts) lines.push(`<b>${escapeHtml(f.label)}:</b> ${escapeHtml(f.value)}`);
  if (a.hint && a.state !== 'resolved') lines.push('', `<i>${escapeHtml(a.hint)}</i>`);
  const by = a.by ? ` by ${escapeHtml(a.by)}` : '';
  if (a.state === 'acknowledged') lines.push('', `Acknowledged${by}.`);
  if (a.state === 'snoozed') lines.push('', `Snoozed${by} until ${fmtDate(a.snoozedUntil)}.`);
  if (a.state === 'resolved') lines.push('', `Resolved${by} at ${fmtDate(a.lastSeenAt)}.`);
  return splitHtml(lines.join('\n'))[0];
}

/** Whether the alert still offers its buttons. */
export function alertHasButtons(a: AlertView): boolean {
  return a.state !== 'resolved' && a.actions.length > 0;
}
