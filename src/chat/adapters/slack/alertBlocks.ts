/** An alert's root message in Block Kit: state and title, summary, facts, counters, hint, buttons. */
import { createHash } from 'node:crypto';
import type { AlertView } from '../../../alerting/types.ts';
import { fmtDate, type ReplyAction, type ReplyField } from '../../reply.ts';
import { contextLine, escapeMrkdwn, replyToBlocks, type RenderedMessage } from './blocks.ts';
import { ALERT_BLOCK_PREFIX } from './clicks.ts';

const STATE_MARK: Record<AlertView['state'], string> = {
  firing: '🔴',
  acknowledged: '🟡',
  snoozed: '💤',
  resolved: '✅',
};

/** The header block id that marks a message as the root of alert `key`. */
export function alertBlockId(key: string): string {
  return `${ALERT_BLOCK_PREFIX}${createHash('sha256').update(key).digest('hex').slice(0, 32)}`;
}

/** The root message of an alert; `actions` must carry tokens (none are shown once resolved). */
export function alertRootMessage(alert: AlertView, actions: ReplyAction[]): RenderedMessage {
  const resolved = alert.state === 'resolved';
  const title = `${STATE_MARK[alert.state]} ${resolved ? 'Resolved: ' : ''}${alert.title}`;
  const fields: ReplyField[] = [
    ...alert.facts,
    { label: 'Count', value: String(alert.count) },
    { label: 'First seen', value: fmtDate(alert.firstSeenAt) },
    { label: 'Last seen', value: fmtDate(alert.lastSeenAt) },
  ].slice(0, 10);
  const extra = [];
  if (alert.hint && !resolved) extra.push(contextLine(`💡 ${escapeMrkdwn(alert.hint)}`));
  if (resolved) extra.push(contextLine(`Resolved${alert.by ? ` by ${escapeMrkdwn(alert.by)}` : ''} at ${fmtDate(alert.lastSeenAt)}. Buttons removed.`));
  else if (alert.state === 'acknowledged') extra.push(contextLine(`Acknowledged${alert.by ? ` by ${escapeMrkdwn(alert.by)}` : ''}.`));
  else if (alert.state === 'snoozed') extra.push(contextLine(`Snoozed${alert.snoozedUntil ? ` until ${fmtDate(alert.snoozedUntil)}` : ''}${alert.by ? ` by ${escapeMrkdwn(alert.by)}` : ''}.`));
  const rendered = replyToBlocks({ title, text: alert.summary, fields, actions: resolved ? [] : actions }, { extra });
  const header = rendered.blocks.find((b) => b.type === 'header');
  if (header) header.block_id = alertBlockId(alert.key);
  return rendered;
}
