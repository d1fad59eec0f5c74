/**
 * The alert model every channel shows, and the interface of a notifier (Slack thread, Telegram
 * owner chat, console). Alerts are keyed by rule + subject ("dlq:http.invoke").
 */
import type { ReplyAction, ReplyField } from '../chat/reply.ts';

export type AlertState = 'firing' | 'acknowledged' | 'snoozed' | 'resolved';

export interface AlertView {
  key: string;
  rule: string;
  subject: string;
  state: AlertState;
  title: string;
  /** One line: what is wrong now ("17 jobs of http.invoke dead-lettered in 10 min"). */
  summary: string;
  facts: ReplyField[];
  count: number;
  firstSeenAt: Date;
  lastSeenAt: Date;
  /** What to do first (runbook hint). */
  hint?: string;
  /** Buttons that fit the rule: retry its dead letters, pause, reset breaker, ack, snooze. */
  actions: ReplyAction[];
  /** Who or what acknowledged / resolved it. */
  by?: string;
  snoozedUntil?: Date;
}

export type AlertEventKind = 'opened' | 'updated' | 'acknowledged' | 'snoozed' | 'resolved' | 'note';

export interface AlertEvent {
  kind: AlertEventKind;
  alert: AlertView;
  /** For 'note' and 'updated': a line for the thread ("Retried by @ana", "12 more arrivals"). */
  note?: string;
  /**
   * Where ALERT_ROUTES sends this alert (src/alerting/routing.ts): a Slack channel (none: the
   * notifier's default channel) and whether the Telegram owner gets it. Absent: everywhere.
   */
  route?: { slackChannel?: string; telegram: boolean };
}

/** A channel alerts are pushed to. Implementations keep their own message refs, in collections they own. */
export interface Notifier {
  readonly name: string;
  notify(event: AlertEvent): Promise<void>;
}
