/**
 * Announcing an alert event exactly once: the notice's unique `_id` is inserted first (whoever
 * inserts it, evaluator or command, sends the event), then the AlertView goes to the notifiers.
 */
import type { AlertRule } from './rule.ts';
import type { OperatorState } from './lifecycle.ts';
import type { AlertService } from './service.ts';
import type { AlertDoc, AlertStore } from './store.ts';
import type { AlertEventKind } from './types.ts';
import { maskText } from '../util/secrets.ts';
import { ruleActionsOf, toView } from './view.ts';

/** Notice ids: one per event an episode can have. */
export const noticeId = {
  opened: (key: string, ep: number) => `${key}#${ep}:opened`,
  updated: (key: string, ep: number, at: Date) => `${key}#${ep}:updated:${at.getTime()}`,
  resolved: (key: string, ep: number) => `${key}#${ep}:resolved`,
  acknowledged: (key: string, ep: number) => `${key}#${ep}:acknowledged`,
  snoozed: (key: string, ep: number, at: Date) => `${key}#${ep}:snoozed:${at.getTime()}`,
  snoozeEnded: (key: string, ep: number, until: Date) => `${key}#${ep}:snooze-ended:${until.getTime()}`,
  triage: (key: string, ep: number) => `${key}#${ep}:triage`,
  /** A kill-switch or pause change (`setting` key, written at `at`) told on the alert `key`: no episode, so every process names it alike. */
  setting: (key: string, setting: string, at: Date) => `${key}:setting:${setting}@${at.getTime()}`,
};

/** Turns an alert document into an event for the notifiers, once per notice id. */
export class Announcer {
  private readonly store: AlertStore;
  private readonly service: AlertService;
  private readonly rules: readonly AlertRule[];

  constructor(store: AlertStore, service: AlertService, rules: readonly AlertRule[]) {
    this.store = store;
    this.service = service;
    this.rules = rules;
  }

  /** The AlertView of a document, with its rule's buttons. */
  view(doc: AlertDoc, op: OperatorState, now: Date) {
    return toView(doc, op, now, ruleActionsOf(this.rules, doc.rule));
  }

  /**
   * Sends the event unless it was sent already (by this or another process); true if sent now. The
   * note is kept masked (`alerts explain` lists it); the service masks what the notifiers get.
   */
  async announce(doc: AlertDoc, op: OperatorState, kind: AlertEventKind, id: string, now: Date, rawNote?: string): Promise<boolean> {
    if (!(await this.claim(doc, kind, id, now, rawNote))) return false;
    await this.publish(doc, op, kind, now, rawNote);
    return true;
  }

  /** The first half of `announce`: records the notice; true for exactly one caller per id. */
  claim(doc: Pick<AlertDoc, '_id' | 'episode'>, kind: AlertEventKind, id: string, now: Date, rawNote?: string): Promise<boolean> {
    const note = rawNote && maskText(rawNote);
    return this.store.claimNotice({ _id: id, key: doc._id, episode: doc.episode, kind, at: now, ...(note ? { note } : {}) });
  }

  /** The second half: sends the event to the notifiers (after a successful claim). */
  async publish(doc: AlertDoc, op: OperatorState, kind: AlertEventKind, now: Date, rawNote?: string): Promise<void> {
    const note = rawNote && maskText(rawNote);
    await this.service.publish({ kind, alert: this.view(doc, op, now), ...(note ? { note } : {}) }, { job: doc.job, provider: doc.provider });
  }
}
