/**
 * Where alerts live. Three collections, one writer each, because FerretDB v1 writes a filtered
 * update back as a whole document (a concurrent write to another field of it can be lost):
 * - `alerts` ({ _id: key }): lifecycle, written by the evaluator and the switch alerts (one writer per
 *   document: a switch alert is written by the process that claimed its change); notifiers keep their
 *   message refs in collections of their own (`slackAlertThreads`, `telegramAlertMessages`);
 * - `alertControls`: operators' acks, snoozes and manual resolves, insert-only (unique `_id`);
 * - `alertNotices`: one insert per announced event (unique `_id`), so each is sent once; also the history.
 */
import { type Collection, type Db } from 'mongodb';
import type { ReplyField } from '../chat/reply.ts';
import { type IndexPlan, type Actor } from '../db/collections.ts';
import type { AlertEventKind } from './types.ts';
import { insertOnce } from '../db/insertOnce.ts';
import { retention, type RetentionRule } from '../db/retention.ts';

/** The lifecycle of one alert (rule + subject) across its episodes. */
export interface AlertDoc {
  /** rule + ':' + subject. */
  _id: string;
  rule: string;
  subject: string;
  job?: string;
  provider?: string;
  state: 'firing' | 'resolved';
  /** 1 for the first firing; +1 each time it fires again after being resolved. */
  episode: number;
  title: string;
  summary: string;
  facts: ReplyField[];
  hint?: string;
  /** The size of the problem at the last evaluation (failures, backlog, ...). */
  count: number;
  peak: number;
  /** Evaluations that found it breached in this episode. */
  seen: number;
  /** The count at the last 'opened' or 'updated' notification. */
  notifiedCount: number;
  firstSeenAt: Date;
  lastSeenAt: Date;
  /** Since when the subject has been clear (null while breached). */
  clearSince: Date | null;
  resolvedAt?: Date | null;
  resolvedBy?: string | null;
  resolveReason?: string | null;
  /** After a manual resolve: no new episode before this time. */
  quietUntil?: Date | null;
  updatedAt: Date;
}

/** What an operator did. */
export type ControlKind = 'ack' | 'snooze' | 'resolve';

/** An operator's action on one episode of an alert. */
export interface AlertControlDoc {
  _id: string;
  key: string;
  episode: number;
  kind: ControlKind;
  by: Actor;
  at: Date;
  until?: Date;
  reason?: string;
}

/** An announced event: inserted once, before the notifiers hear of it. */
export interface AlertNoticeDoc {
  _id: string;
  key: string;
  episode: number;
  kind: AlertEventKind;
  note?: string;
  at: Date;
}

/** The indexes of the collections this module owns (collected by src/app/schema.ts). */
export const alertStoreIndexes: IndexPlan = {
  alerts: [
    { key: { state: 1, lastSeenAt: -1 }, name: 'state_lastSeen' },
    { key: { state: 1, resolvedAt: -1 }, name: 'state_resolvedAt' },
  ],
  alertControls: [{ key: { key: 1, at: -1 }, name: 'key_at' }],
  alertNotices: [{ key: { key: 1, at: -1 }, name: 'key_at' }],
};

/** Notices and operator controls older than the run retention go (`maintenance.cleanup`). */
export const alertStoreRetention: RetentionRule[] = [
  retention('alertNotices', (c) => ({ at: { $lt: c.runsBefore } })),
  retention('alertControls', (c) => ({ at: { $lt: c.runsBefore } })),
];

/** The lifecycle fields the evaluator writes. */
export type AlertFields = Omit<AlertDoc, '_id'>;


/** Reads and writes of the three alert collections. */
export class AlertStore {
  readonly alerts: Collection<AlertDoc>;
  readonly controls: Collection<AlertControlDoc>;
  readonly notices: Collection<AlertNoticeDoc>;

  constructor(db: Db) {
    this.alerts = db.collection<AlertDoc>('alerts');
    this.controls = db.collection<AlertControlDoc>('alertControls');
    this.notices = db.collection<AlertNoticeDoc>('alertNotices');
  }

  /** One alert by key (in a lifecycle state: older databases may hold documents of notifiers' refs only). */
  get(key: string): Promise<AlertDoc | null> {
    return this.alerts.findOne({ _id: key, state: { $in: ['firing', 'resolved'] } });
  }

  /** Firing alerts, and the alerts (any state) with the given keys. */
  async forEvaluation(keys: string[]): Promise<Map<string, AlertDoc>> {
    const [firing, named] = await Promise.all([
      this.alerts.find({ state: 'firing' }).limit(5000).toArray(),
      keys.length ? this.alerts.find({ _id: { $in: keys }, state: { $in: ['firing', 'resolved'] } }).toArray() : Promise.resolve([]),
    ]);
    return new Map([...named, ...firing].map((d) => [d._id, d]));
  }

  /** Alerts in a lifecycle state, newest first. */
  list(state: AlertDoc['state'], limit: number): Promise<AlertDoc[]> {
    const sort = state === 'resolved' ? { state: 1, resolvedAt: -1 } : { state: 1, lastSeenAt: -1 };
    return this.alerts.find({ state }).sort(sort as never).limit(limit).toArray();
  }

  /** Writes lifecycle fields with `$set` (upserting a new alert). */
  async save(key: string, fields: Partial<AlertFields>): Promise<void> {
    await this.alerts.updateOne({ _id: key }, { $set: fields }, { upsert: true });
  }

  /** Operators' actions on these alerts, oldest first. */
  async controlsFor(keys: string[]): Promise<AlertControlDoc[]> {
    if (!keys.length) return [];
    return this.controls.find({ key: { $in: keys } }).sort({ at: 1 }).limit(10_000).toArray();
  }

  /** Records an operator action once: false if one with this id exists. */
  async addControl(doc: AlertControlDoc): Promise<boolean> {
    return this.insertOnce(this.controls, doc);
  }

  /** Claims the right to announce an event: true for exactly one caller per id. */
  async claimNotice(doc: AlertNoticeDoc): Promise<boolean> {
    return this.insertOnce(this.notices, doc);
  }

  /** Which of these notice ids were announced already. */
  async announced(ids: string[]): Promise<Set<string>> {
    if (!ids.length) return new Set();
    const docs = await this.notices.find({ _id: { $in: ids } }, { projection: { _id: 1 } }).toArray();
    return new Set(docs.map((d) => d._id));
  }

  /** The latest announced events of an alert, newest first. */
  history(key: string, limit = 10): Promise<AlertNoticeDoc[]> {
    return this.notices.find({ key }).sort({ key: 1, at: -1 }).limit(limit).toArray();
  }

  private insertOnce<T extends { _id: string }>(col: Collection<T>, doc: T): Promise<boolean> {
    return insertOnce(col, doc as never);
  }
}
