/**
 * Alert threads in SLACK_ALERT_CHANNEL: one root message per alert key (facts, hint, buttons),
 * updated in place as occurrences come in (at most once per `minUpdateIntervalMs`), a thread reply
 * summarising new occurrences at most once a minute, notes posted in the thread, and on resolve
 * the root edited to say so with its buttons gone. `notify()` only queues: work per alert is
 * coalesced and sent in the background, so a slow or rate-limiting Slack never blocks the caller.
 * Thread refs live in `slackAlertThreads` (written by this module alone; the alert store owns
 * `alerts`), so a restart keeps updating the same thread.
 */
import { EventEmitter, once } from 'node:events';
import type { Collection, Db } from 'mongodb';
import type { IndexPlan } from '../../../db/collections.ts';
import type { webApi } from '@slack/bolt';
import type { AlertEvent, AlertView, Notifier } from '../../../alerting/types.ts';
import type { ActionTokens } from '../../actions.ts';
import { fmtDate } from '../../reply.ts';
import type { Logger } from '../../../log.ts';
import { alertRootMessage } from './alertBlocks.ts';
import { escapeMrkdwn } from './blocks.ts';
import { retention, type RetentionRule } from '../../../db/retention.ts';

/** Where an alert's Slack thread is. */
export interface SlackAlertRef {
  channel: string;
  ts: string;
  lastThreadReplyAt?: Date;
  resolved?: boolean;
}

/** One alert's thread, by alert key. */
interface SlackAlertThreadDoc extends SlackAlertRef {
  _id: string;
  updatedAt: Date;
}

/** The collection of thread refs (collected by src/app/schema.ts). */
export const slackAlertThreadIndexes: IndexPlan = { slackAlertThreads: [{ key: { updatedAt: 1 }, name: 'updatedAt' }] };

/** Thread refs of alerts untouched for the run retention go (`maintenance.cleanup`). */
export const slackAlertThreadRetention: RetentionRule = retention('slackAlertThreads', (c) => ({ updatedAt: { $lt: c.runsBefore } }));

export interface SlackAlertNotifierOptions {
  client: webApi.WebClient;
  db: Db;
  /** SLACK_ALERT_CHANNEL: where roots go unless the event's route names a channel; without either, dropped. */
  channel: string | undefined;
  tokens: ActionTokens;
  log: Logger;
  /** Least time between two edits of one root (default 5 s; chat.update allows ~50 a minute). */
  minUpdateIntervalMs?: number;
  /** Least time between two summary replies in one thread (default 1 minute). */
  threadReplyIntervalMs?: number;
}

interface Slot {
  key: string;
  /** The channel a new root goes to (the event's route, else the default). */
  channel?: string;
  /** undefined: not loaded yet; null: no root yet. */
  ref?: SlackAlertRef | null;
  view?: AlertView;
  rootDirty: boolean;
  notes: string[];
  summarizedCount: number;
  summarizedAt: number;
  lastRootAt: number;
  failures: number;
  busy: boolean;
  again: boolean;
  timer?: NodeJS.Timeout;
  timerAt?: number;
}

export class SlackAlertNotifier implements Notifier {
  readonly name = 'slack';
  private readonly opts: SlackAlertNotifierOptions;
  private readonly threads: Collection<SlackAlertThreadDoc>;
  private readonly slots = new Map<string, Slot>();
  private readonly events = new EventEmitter();
  private stopped = false;
  private warned = false;

  constructor(opts: SlackAlertNotifierOptions) {
    this.opts = opts;
    this.threads = opts.db.collection<SlackAlertThreadDoc>('slackAlertThreads');
  }

  /** Queues an alert event; returns at once. */
  async notify(event: AlertEvent): Promise<void> {
    const channel = event.route?.slackChannel ?? this.opts.channel;
    if (!channel || this.stopped) {
      if (!channel && !this.warned) this.opts.log.warn('SLACK_ALERT_CHANNEL is not set; Slack alert notifications are dropped');
      this.warned = true;
      return;
    }
    const slot = this.slotOf(event.alert.key);
    slot.view = event.alert;
    slot.channel = channel;
    const by = event.alert.by ? ` by ${event.alert.by}` : '';
    if (event.kind !== 'note') slot.rootDirty = true;
    if (event.kind === 'acknowledged') slot.notes.push(`Acknowledged${by}.`);
    if (event.kind === 'snoozed') slot.notes.push(`Snoozed${event.alert.snoozedUntil ? ` until ${fmtDate(event.alert.snoozedUntil)}` : ''}${by}.`);
    if (event.kind === 'resolved') slot.notes.push(event.note ?? `Resolved${by}.`);
    if (event.kind === 'note') slot.notes.push(event.note ?? event.alert.summary);
    this.schedule(slot, 0);
  }

  /** Resolves when no alert has queued or scheduled work. */
  async idle(): Promise<void> {
    while ([...this.slots.values()].some((s) => s.busy || s.timer)) await once(this.events, 'settled');
  }

  /** Drops scheduled work (queued notifications are lost) and waits for sends in progress. */
  async stop(): Promise<void> {
    this.stopped = true;
    for (const s of this.slots.values()) {
      clearTimeout(s.timer);
      s.timer = undefined;
    }
    this.events.emit('settled');
    await this.idle();
  }

  private slotOf(key: string): Slot {
    let slot = this.slots.get(key);
    if (!slot) {
      slot = { key, rootDirty: false, notes: [], summarizedCount: -1, summarizedAt: 0, lastRootAt: 0, failures: 0, busy: false, again: false };
      this.slots.set(key, slot);
    }
    return slot;
  }

  private schedule(slot: Slot, delayMs: number): void {
    if (this.stopped) return;
    if (slot.busy) {
      slot.again = true;
      return;
    }
    const at = Date.now() + delayMs;
    if (slot.timer && (slot.timerAt ?? 0) <= at) return;
    clearTimeout(slot.timer);
    slot.timerAt = at;
    slot.timer = setTimeout(() => {
      slot.timer = undefined;
      void this.run(slot);
    }, delayMs);
    slot.timer.unref();
  }

  private async run(slot: Slot): Promise<void> {
    slot.busy = true;
    slot.again = false;
    let next: number | undefined;
    try {
      next = await this.flush(slot);
      slot.failures = 0;
    } catch (err) {
      slot.failures++;
      next = Math.min(60_000, 1000 * 2 ** slot.failures);
      this.opts.log.error({ err, key: slot.key, retryInMs: next }, 'slack alert notification failed');
    } finally {
      slot.busy = false;
    }
    // After a failure, new events wait for the back-off too (their state is kept in the slot).
    if (slot.again && slot.failures === 0) this.schedule(slot, 0);
    else if (next !== undefined) this.schedule(slot, next);
    // A resolved thread with nothing left to send is forgotten; the ref stays in `slackAlertThreads`.
    if (!slot.timer && slot.ref?.resolved && !slot.rootDirty && !slot.notes.length) this.slots.delete(slot.key);
    this.events.emit('settled');
  }

  /** Sends what is due for one alert; returns the delay until more is due, if anything is left. */
  private async flush(slot: Slot): Promise<number | undefined> {
    const { client, log } = this.opts;
    if (!slot.view) return undefined;
    if (slot.ref === undefined) {
      const doc = await this.threads.findOne({ _id: slot.key });
      slot.ref = doc ? { channel: doc.channel, ts: doc.ts, lastThreadReplyAt: doc.lastThreadReplyAt, resolved: doc.resolved } : null;
      slot.summarizedCount = slot.view.count;
    }
    // Read after the last await: events that arrive from here on set `again` and are sent next.
    const view = slot.view;
    const now = Date.now();
    const resolved = view.state === 'resolved';
    // A resolved thread stays closed: the alert firing again opens a new root.
    const needsRoot = !slot.ref || (slot.ref.resolved && !resolved);
    if (needsRoot && resolved) {
      // Resolved before any root was posted: nothing to show.
      slot.rootDirty = false;
      slot.notes = [];
      return undefined;
    }
    let next: number | undefined;
    if (needsRoot) {
      // Cleared before sending: events that arrive meanwhile mark the root dirty again.
      slot.rootDirty = false;
      const message = alertRootMessage(view, await this.withTokens(view));
      const channel = slot.channel!;
      const res = await client.chat.postMessage({ channel, text: message.text, blocks: message.blocks }).catch((err: unknown) => {
        slot.rootDirty = true;
        throw err;
      });
      slot.ref = { channel: res.channel ?? channel, ts: String(res.ts) };
      Object.assign(slot, { lastRootAt: Date.now(), summarizedCount: view.count, summarizedAt: Date.now() });
      await this.saveRef(slot.key, slot.ref);
      log.info({ key: slot.key, ts: slot.ref.ts }, 'slack alert thread opened');
    } else if (slot.rootDirty && slot.ref) {
      const wait = resolved ? 0 : slot.lastRootAt + this.minUpdateMs - now;
      if (wait <= 0) {
        slot.rootDirty = false;
        const message = alertRootMessage(view, resolved ? [] : await this.withTokens(view));
        await client.chat.update({ channel: slot.ref.channel, ts: slot.ref.ts, text: message.text, blocks: message.blocks }).catch((err: unknown) => {
          slot.rootDirty = true;
          throw err;
        });
        slot.lastRootAt = Date.now();
      } else next = wait;
    }
    const ref = slot.ref!;
    if (view.count > slot.summarizedCount && !ref.resolved) {
      const last = Math.max(ref.lastThreadReplyAt?.getTime() ?? 0, slot.summarizedAt);
      const wait = resolved ? 0 : last + this.threadIntervalMs - now;
      if (wait <= 0) {
        const delta = view.count - slot.summarizedCount;
        const text = `${delta} more since ${fmtDate(new Date(last || now))} (${view.count} in all, last at ${fmtDate(view.lastSeenAt)}): ${view.summary}`;
        await client.chat.postMessage({ channel: ref.channel, thread_ts: ref.ts, text: escapeMrkdwn(text) });
        Object.assign(slot, { summarizedCount: view.count, summarizedAt: Date.now() });
        ref.lastThreadReplyAt = new Date();
        await this.saveRef(slot.key, ref);
      } else next = Math.min(next ?? wait, wait);
    }
    if (slot.notes.length) {
      const notes = slot.notes.splice(0);
      await client.chat.postMessage({ channel: ref.channel, thread_ts: ref.ts, text: escapeMrkdwn(notes.join('\n')) }).catch((err: unknown) => {
        slot.notes.unshift(...notes);
        throw err;
      });
    }
    if (resolved && !ref.resolved && !slot.rootDirty) {
      ref.resolved = true;
      await this.saveRef(slot.key, ref);
    }
    return next;
  }

  /** The alert's actions, each with a token (created here when the view has none). */
  private async withTokens(view: AlertView) {
    return Promise.all(view.actions.map(async (a) => ({ ...a, token: a.token ?? (await this.opts.tokens.create(a.command, a.label)) })));
  }

  private async saveRef(key: string, ref: SlackAlertRef): Promise<void> {
    await this.threads.updateOne({ _id: key }, { $set: { ...ref, updatedAt: new Date() } }, { upsert: true });
  }

  private get minUpdateMs(): number {
    return this.opts.minUpdateIntervalMs ?? 5000;
  }

  private get threadIntervalMs(): number {
    return this.opts.threadReplyIntervalMs ?? 60_000;
  }
}
