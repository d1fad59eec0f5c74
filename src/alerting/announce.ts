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
import { toView } from './view.ts';

/** Notice ids: one per event an episode can have. */
export const noticeId = {
  opened: (key: string, ep: number) => `${key}#${ep}:opened`,
  updated: (key: string, ep: number, at: Date) => `${key}#${ep}:updated:${at.getTime()}`,
  resolved: (key: string, ep: number) => `${key}#${ep}:resolved`,
  acknowledged: (key: string, ep: number) => `${key}#${ep}:acknowledged`,
  snoozed: (key: string, ep: number, at: Date) => `${key}#${ep}:snoozed:${at.getTime()}`,
  snoozeEnded: (key: string, ep: number, until: Date) => `${key}#${ep}:snooze-ended:${until.getTime()}`,
  triage: (key: string, ep: number) => `${key}#${ep}:triage`,
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
    return toView(doc, op, now, this.rules.find((r) => r.name === doc.rule)?.actions ?? []);
  }

  /**
   * Sends the event unless it was sent already (by this or another process); true if sent now. The
   * note is kept masked (`alerts explain` lists it); the service masks what the notifiers get.
   */
  async announce(doc: AlertDoc, op: OperatorState, kind: AlertEventKind, id: string, now: Date, rawNote?: string): Promise<boolean> {
    const note = rawNote && maskText(rawNote);
    const claimed = await this.store.claimNotice({ _id: id, key: doc._id, episode: doc.episode, kind, at: now, ...(note ? { note } : {}) });
    if (!claimed) return false;
    await this.service.publish({ kind, alert: this.view(doc, op, now), ...(note ? { note } : {}) }, { job: doc.job, provider: doc.provider });
    return true;
  }
}
