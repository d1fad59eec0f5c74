/**
 * Alerts in the owner's Telegram chat: one message per alert key while it fires, edited as counts
 * change (at most once per `minEditIntervalMs`, one minute by default; the latest count wins) and
 * edited at once on acknowledge, snooze and resolve (buttons removed on resolve). A re-opened
 * alert gets a new message, since edits do not notify. Refs live in `telegramAlertMessages`
 * (`{ _id: alert key, chatId, messageId, lastEditAt }`), written by this module alone. Work runs on a background queue, so
 * `notify` never blocks the engine; the Api paces sends per chat and waits out 429s.
 */
import type { Collection, Db } from 'mongodb';
import type { IndexPlan } from '../../../db/collections.ts';
import type { AlertEvent, AlertView, Notifier } from '../../../alerting/types.ts';
import type { Logger } from '../../../log.ts';
import type { ActionTokens } from '../../actions.ts';
import { alertHasButtons, alertHtml } from './alertFormat.ts';
import type { OwnerStore } from '../../../auth/owner.ts';
import { escapeHtml, keyboardFor } from './render.ts';
import type { TelegramSender } from './sender.ts';
import { retention, type RetentionRule } from '../../../db/retention.ts';

interface TelegramRef {
  chatId: number;
  messageId: number;
  lastEditAt: Date;
}

/** One alert's message, by alert key. */
interface AlertMessageDoc extends TelegramRef {
  _id: string;
}

/** The collection of alert message refs (collected by src/app/schema.ts). */
export const telegramAlertMessageIndexes: IndexPlan = { telegramAlertMessages: [{ key: { lastEditAt: 1 }, name: 'lastEditAt' }] };

/** Message refs of alerts not edited for the run retention go (`maintenance.cleanup`). */
export const telegramAlertMessageRetention: RetentionRule = retention('telegramAlertMessages', (c) => ({ lastEditAt: { $lt: c.runsBefore } }));

export interface TelegramNotifierOptions {
  /** Least time between two count edits of one alert (default 60 000 ms). */
  minEditIntervalMs?: number;
  /** Clock for the edit interval (tests). */
  now?: () => number;
}

export class TelegramAlertNotifier implements Notifier {
  readonly name = 'telegram';
  private readonly messages: Collection<AlertMessageDoc>;
  private readonly sender: TelegramSender;
  private readonly owner: OwnerStore;
  private readonly tokens: ActionTokens;
  private readonly log: Logger;
  private readonly interval: number;
  private readonly now: () => number;
  private readonly pending = new Map<string, { view: AlertView; timer: NodeJS.Timeout }>();
  private readonly buttonTokens = new Map<string, Map<string, string>>();
  private tail: Promise<void> = Promise.resolve();
  private stopped = false;

  constructor(deps: { db: Db; sender: TelegramSender; owner: OwnerStore; tokens: ActionTokens; log: Logger }, opts: TelegramNotifierOptions = {}) {
    this.messages = deps.db.collection<AlertMessageDoc>('telegramAlertMessages');
    this.sender = deps.sender;
    this.owner = deps.owner;
    this.tokens = deps.tokens;
    this.log = deps.log.child({ component: 'telegram-alerts' });
    this.interval = opts.minEditIntervalMs ?? 60_000;
    this.now = opts.now ?? Date.now;
  }

  /** Queues the event and returns at once. */
  async notify(event: AlertEvent): Promise<void> {
    if (this.stopped) return;
    this.enqueue(() => this.apply(event));
  }

  /** Resolves when everything queued so far has been sent (tests, shutdown). */
  idle(): Promise<void> {
    return this.tail;
  }

  /** Drops delayed edits and waits for the queue. */
  async stop(): Promise<void> {
    this.stopped = true;
    for (const p of this.pending.values()) clearTimeout(p.timer);
    this.pending.clear();
    await this.tail;
  }

  private enqueue(work: () => Promise<void>): void {
    this.tail = this.tail.then(work).catch((err: unknown) => this.log.error({ err }, 'Telegram alert delivery failed'));
  }

  private async apply(event: AlertEvent, due = false): Promise<void> {
    const { alert, kind } = event;
    const owner = await this.owner.get();
    if (!owner) return void this.log.debug({ key: alert.key }, 'no Telegram owner bound: alert not sent');
    const ref = (await this.messages.findOne({ _id: alert.key })) ?? undefined;
    const usable = ref && ref.chatId === owner.chatId ? ref : undefined;
    if (kind === 'note') {
      if (usable && event.note) await this.sender.sendHtml(usable.chatId, escapeHtml(event.note), undefined, usable.messageId);
      return;
    }
    if (kind === 'opened' || !usable) {
      this.cancelPending(alert.key);
      return this.send(owner.chatId, alert);
    }
    if (kind === 'updated' && !due) {
      const wait = usable.lastEditAt.getTime() + this.interval - this.now();
      if (wait > 0) return this.later(alert, wait);
    }
    this.cancelPending(alert.key);
    await this.edit(usable, alert);
  }

  private async send(chatId: number, alert: AlertView): Promise<void> {
    const msg = await this.sender.sendHtml(chatId, alertHtml(alert), await this.keyboard(alert));
    await this.saveRef(alert.key, { chatId, messageId: msg.message_id, lastEditAt: new Date(this.now()) });
  }

  private async edit(ref: TelegramRef, alert: AlertView): Promise<void> {
    const result = await this.sender.editHtml(ref.chatId, ref.messageId, alertHtml(alert), await this.keyboard(alert));
    if (result === 'gone') return this.send(ref.chatId, alert);
    await this.saveRef(alert.key, { ...ref, lastEditAt: new Date(this.now()) });
    if (alert.state === 'resolved') this.buttonTokens.delete(alert.key);
  }

  /** Keeps the newest view of a throttled alert and edits once the interval has passed. */
  private later(alert: AlertView, delayMs: number): void {
    const waiting = this.pending.get(alert.key);
    if (waiting) {
      waiting.view = alert;
      return;
    }
    const timer = setTimeout(() => {
      const entry = this.pending.get(alert.key);
      this.pending.delete(alert.key);
      if (entry && !this.stopped) this.enqueue(() => this.apply({ kind: 'updated', alert: entry.view }, true));
    }, delayMs);
    timer.unref();
    this.pending.set(alert.key, { view: alert, timer });
  }

  private cancelPending(key: string): void {
    const p = this.pending.get(key);
    if (p) clearTimeout(p.timer);
    this.pending.delete(key);
  }

  private async keyboard(alert: AlertView) {
    if (!alertHasButtons(alert)) return undefined;
    const known = this.buttonTokens.get(alert.key) ?? new Map<string, string>();
    this.buttonTokens.set(alert.key, known);
    const actions = [];
    for (const a of alert.actions) {
      const token = a.token ?? known.get(a.command) ?? (await this.tokens.create(a.command, a.label));
      known.set(a.command, token);
      actions.push({ ...a, token });
    }
    return keyboardFor(actions);
  }

  private async saveRef(key: string, ref: TelegramRef): Promise<void> {
    await this.messages.updateOne({ _id: key }, { $set: { chatId: ref.chatId, messageId: ref.messageId, lastEditAt: ref.lastEditAt } }, { upsert: true });
  }
}
