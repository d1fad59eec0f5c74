/**
 * What operators do with alerts (the `alerts` commands call this, never the collections): list,
 * show, explain, and ack / snooze / resolve, which are recorded as operator controls (insert-only;
 * the evaluator folds them into the lifecycle) and announced at once when this process has the
 * notifiers, else by the next evaluation tick.
 */
import { maskText } from '../util/secrets.ts';
import type { Actor } from '../db/collections.ts';
import { OpsError } from '../errors.ts';
import { formatDuration } from '../util/duration.ts';
import { noticeId, type Announcer } from './announce.ts';
import { effectiveState, operatorState, type OperatorState } from './lifecycle.ts';
import { isSwitchRule, type AlertRule } from './rule.ts';
import { describeParams, ruleParams, type ConfigSource } from './rules.ts';
import type { AlertDoc, AlertNoticeDoc, AlertStore } from './store.ts';
import type { AlertState, AlertView } from './types.ts';
import { ruleActionsOf, toView } from './view.ts';

/** What AlertOps reads and writes through. */
export interface AlertOpsDeps {
  store: AlertStore;
  rules: readonly AlertRule[];
  config: ConfigSource;
  /** Announces actions at once while `live()` (a serving process, its notifiers added); else the next evaluation tick does. */
  announcer?: Announcer;
  live?: () => boolean;
  /** Runs announcements one at a time with the evaluator of this process. */
  serial?: <T>(fn: () => Promise<T>) => Promise<T>;
  now?: () => Date;
}

/** An alert with its operators' state and recent events. */
export interface AlertDetail {
  view: AlertView;
  doc: AlertDoc;
  op: OperatorState;
  history: AlertNoticeDoc[];
}

/** `alerts explain`: why it fires, with which parameters, and what ends it. */
export interface AlertExplanation extends AlertDetail {
  description: string;
  params: Array<{ param: string; key: string; value: string; default: string }>;
  lifecycle: string[];
}

const MAX_LIST = 500;

/** The operators' side of alerting: reads, and acks / snoozes / resolves as controls. */
export class AlertOps {
  private readonly d: AlertOpsDeps;

  constructor(deps: AlertOpsDeps) {
    this.d = deps;
  }

  private now(): Date {
    return this.d.now?.() ?? new Date();
  }

  private actionsOf(rule: string) {
    return ruleActionsOf(this.d.rules, rule);
  }

  /** Alerts in a state (default: all but resolved), newest first. */
  async list(state?: AlertState, limit = 50): Promise<{ items: AlertView[]; total: number }> {
    const now = this.now();
    const docs = await this.d.store.list('firing', MAX_LIST);
    if (state === 'resolved') docs.push(...(await this.d.store.list('resolved', limit)));
    const controls = await this.d.store.controlsFor(docs.map((d) => d._id));
    const views = docs.map((doc) => toView(doc, operatorState(controls.filter((c) => c.key === doc._id), doc.episode), now, this.actionsOf(doc.rule)));
    const matching = views.filter((v) => (state ? v.state === state : v.state !== 'resolved'));
    return { items: matching.slice(0, limit), total: matching.length };
  }

  /** One alert with its operators' state and its latest events. */
  async show(key: string): Promise<AlertDetail> {
    const doc = await this.d.store.get(key);
    if (!doc) throw new OpsError('not_found', `No alert "${key}". Try \`alerts list\`.`);
    const op = operatorState(await this.d.store.controlsFor([key]), doc.episode);
    const history = await this.d.store.history(key, 10);
    return { view: toView(doc, op, this.now(), this.actionsOf(doc.rule)), doc, op, history };
  }

  /** `show`, plus the rule, its parameters in effect and how the alert will end. */
  async explain(key: string): Promise<AlertExplanation> {
    const detail = await this.show(key);
    const { doc, view } = detail;
    const rule = this.d.rules.find((r) => r.name === doc.rule);
    const now = this.now();
    const lifecycle: string[] = [`Episode ${doc.episode}: first seen ${doc.firstSeenAt.toISOString()}, last seen ${doc.lastSeenAt.toISOString()}, breached in ${doc.seen} evaluation(s); peak count ${doc.peak}.`];
    if (isSwitchRule(doc.rule)) return { ...detail, description: `${doc.summary} It resolves when the setting is turned off.`, params: [], lifecycle };
    if (!rule) return { ...detail, description: `Rule "${doc.rule}" no longer exists.`, params: [], lifecycle };
    const { params, enabled } = ruleParams(rule, this.d.config);
    const clearAfter = rule.clearAfter(params as never);
    if (!enabled) lifecycle.push(`The rule is off (\`config set alerts.${rule.name}.enabled on\` turns it back on).`);
    if (view.state === 'resolved') {
      lifecycle.push(`Resolved${doc.resolvedBy ? ` by ${doc.resolvedBy}` : ''}${doc.resolveReason ? ` (${doc.resolveReason})` : ''}; it fires again when breached${doc.quietUntil && doc.quietUntil > now ? ` after ${doc.quietUntil.toISOString()}` : ''}.`);
    } else if (doc.clearSince) {
      const left = Math.max(0, clearAfter - (now.getTime() - doc.clearSince.getTime()));
      lifecycle.push(`Clear since ${doc.clearSince.toISOString()}; resolves after ${formatDuration(clearAfter)} clear (${formatDuration(left)} to go).`);
    } else {
      lifecycle.push(`Still breached; it resolves once clear for ${formatDuration(clearAfter)}.`);
    }
    if (view.state === 'acknowledged') lifecycle.push(`Acknowledged by ${view.by}: the thread hears again only if the count doubles (now ${doc.count}, last announced ${doc.notifiedCount}) or it resolves.`);
    if (view.state === 'snoozed') lifecycle.push(`Snoozed by ${view.by} until ${view.snoozedUntil?.toISOString()}: no updates until then.`);
    // An operator's resolve reason may quote a secret.
    return { ...detail, description: rule.description, params: describeParams(rule, params), lifecycle: lifecycle.map(maskText) };
  }

  /** Acknowledges the current episode: once; later acks are told who did it. */
  async ack(key: string, by: Actor): Promise<AlertView> {
    const { doc, op } = await this.open(key, 'acknowledge');
    if (op.ack) throw new OpsError('conflict', `${key} was already acknowledged by ${op.ack.by.name} at ${op.ack.at.toISOString()}.`);
    const at = this.now();
    const added = await this.d.store.addControl({ _id: `${key}#${doc.episode}:ack`, key, episode: doc.episode, kind: 'ack', by, at });
    if (!added) throw new OpsError('conflict', `${key} was already acknowledged.`);
    return this.announce(key, 'acknowledged', (d) => noticeId.acknowledged(key, d.episode), `Acknowledged by ${by.name}.`);
  }

  /** Silences the current episode's updates until `now + ms`. */
  async snooze(key: string, ms: number, by: Actor): Promise<AlertView> {
    const { doc } = await this.open(key, 'snooze');
    const at = this.now();
    const until = new Date(at.getTime() + ms);
    await this.d.store.addControl({ _id: `${key}#${doc.episode}:snooze:${at.getTime()}`, key, episode: doc.episode, kind: 'snooze', by, at, until });
    return this.announce(key, 'snoozed', (d) => noticeId.snoozed(key, d.episode, at), `Snoozed by ${by.name} for ${formatDuration(ms)} (until ${until.toISOString()}).`);
  }

  /** Resolves the current episode by hand, with a reason; the evaluator records it at its next tick. */
  async resolve(key: string, reason: string, by: Actor): Promise<AlertView> {
    const { doc } = await this.open(key, 'resolve');
    const at = this.now();
    const added = await this.d.store.addControl({ _id: `${key}#${doc.episode}:resolve`, key, episode: doc.episode, kind: 'resolve', by, at, reason });
    if (!added) throw new OpsError('conflict', `${key} was already resolved.`);
    return this.announce(key, 'resolved', (d) => noticeId.resolved(key, d.episode), `Resolved by ${by.name}: ${reason}.`);
  }

  /** The alert, which must exist and not be resolved. */
  private async open(key: string, verb: string): Promise<{ doc: AlertDoc; op: OperatorState }> {
    const doc = await this.d.store.get(key);
    if (!doc) throw new OpsError('not_found', `No alert "${key}". Try \`alerts list\`.`);
    const op = operatorState(await this.d.store.controlsFor([key]), doc.episode);
    if (effectiveState(doc, op, this.now()) === 'resolved') throw new OpsError('conflict', `${key} is resolved; there is nothing to ${verb}.`);
    return { doc, op };
  }

  /** Re-reads the alert, announces the action if this process has notifiers, returns the view. */
  private async announce(key: string, kind: 'acknowledged' | 'snoozed' | 'resolved', id: (d: AlertDoc) => string, note: string): Promise<AlertView> {
    const run = async () => {
      const detail = await this.show(key);
      if (this.d.announcer && (this.d.live?.() ?? true)) await this.d.announcer.announce(detail.doc, detail.op, kind, id(detail.doc), this.now(), note);
      return detail.view;
    };
    return this.d.serial ? this.d.serial(run) : run();
  }
}
