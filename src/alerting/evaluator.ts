/**
 * One evaluation tick (`evaluateOnce(now)`): every enabled rule runs its indexed queries; the
 * lifecycle (lifecycle.ts) turns breaches and clears into writes of `alerts` (this is their only
 * writer) and events; operators' acks, snoozes and resolves not yet announced are announced;
 * new failure alerts get their triage note. A rule that throws leaves its alerts untouched.
 */
import type { Db } from 'mongodb';
import type { ErrorInfo, SwitchboardCollections } from '../db/collections.ts';
import type { JobRegistry } from '../engine/defineJob.ts';
import type { Logger } from '../log.ts';
import type { AiSummarizer } from './aiSummary.ts';
import { noticeId, type Announcer } from './announce.ts';
import { alertKey, onBreach, onClear, onManualResolve, operatorState, effectiveState, type Step } from './lifecycle.ts';
import { isSwitchRule, type AlertRule, type Breach, type RuleContext, type RuleSettings } from './rule.ts';
import { ruleParams, type ConfigSource } from './rules.ts';
import type { AlertControlDoc, AlertDoc, AlertStore } from './store.ts';
import { groupErrors, recentErrorsByJob, triageNote, type Triage } from './triage.ts';
import { liveJobsOnce } from './ruleQueries.ts';

/** What the evaluator reads, writes and announces through. */
export interface EvaluatorDeps {
  db: Db;
  cols: SwitchboardCollections;
  jobs: JobRegistry;
  store: AlertStore;
  announcer: Announcer;
  rules: readonly AlertRule[];
  config: ConfigSource;
  settings: RuleSettings;
  lockLifetimeMs: number;
  log: Logger;
  ai?: AiSummarizer;
  /** AI summaries per tick at most; further triage notes stay deterministic (default 3). */
  aiPerTick?: number;
  /** Rules evaluated at once (default 3). */
  ruleConcurrency?: number;
}

/** What one tick did. */
export interface EvaluationReport {
  at: Date;
  rules: Array<{ rule: string; enabled: boolean; breaches: number; ms: number; error?: string }>;
  events: Array<{ key: string; kind: string }>;
}

interface RuleResult {
  rule: AlertRule;
  ok: boolean;
  enabled: boolean;
  clearAfterMs: number;
  breaches: Breach[];
  entry: EvaluationReport['rules'][number];
}

/** Triage looks at least this far back. */
const MIN_TRIAGE_WINDOW_MS = 15 * 60_000;

/** Runs the rules and applies the lifecycle; `evaluateOnce(now)` is one tick. */
export class AlertEvaluator {
  private readonly d: EvaluatorDeps;

  constructor(deps: EvaluatorDeps) {
    this.d = deps;
  }

  /** Evaluates every rule at `now` and applies the lifecycle. */
  async evaluateOnce(now: Date): Promise<EvaluationReport> {
    const report: EvaluationReport = { at: now, rules: [], events: [] };
    const results = new Map<string, RuleResult>();
    const liveJobs = liveJobsOnce(this.d.cols, now);
    const outcomes = await inPool(this.d.rules, this.d.ruleConcurrency ?? 3, (rule) => this.runRule(rule, now, liveJobs));
    for (const r of outcomes) {
      results.set(r.rule.name, r);
      report.rules.push(r.entry);
    }

    const breachedKeys = [...results.values()].flatMap((r) => r.breaches.map((b) => alertKey(r.rule.name, b.subject)));
    const docs = await this.d.store.forEvaluation(breachedKeys);
    const controls = groupByKey(await this.d.store.controlsFor([...new Set([...docs.keys(), ...breachedKeys])]));
    const opened: Array<{ doc: AlertDoc; triage: Triage; rule: AlertRule }> = [];

    const apply = async (key: string, doc: AlertDoc | undefined, step: Step | undefined, idOf: (d: AlertDoc) => string) => {
      if (!step) return doc;
      await this.d.store.save(key, step.set);
      const next = { ...(doc ?? {}), ...step.set, _id: key } as AlertDoc;
      docs.set(key, next);
      if (step.event) {
        const op = operatorState(controls.get(key) ?? [], next.episode);
        if (await this.d.announcer.announce(next, op, step.event.kind, idOf(next), now, step.event.note)) report.events.push({ key, kind: step.event.kind });
      }
      return next;
    };

    // Operators' resolves first: they end the episode whatever the data says.
    for (const [key, doc] of docs) {
      const resolve = doc.state === 'firing' ? operatorState(controls.get(key) ?? [], doc.episode).resolve : undefined;
      if (!resolve) continue;
      const clearAfter = results.get(doc.rule)?.clearAfterMs ?? 0;
      await apply(key, doc, onManualResolve(resolve, clearAfter, now), (d) => noticeId.resolved(key, d.episode));
    }

    // Breaches: decide every step first, so new failure alerts share one triage query.
    const planned: Array<{ key: string; rule: AlertRule; breach: Breach; step: Step | undefined }> = [];
    const breachedByRule = new Map<string, Set<string>>();
    for (const r of results.values()) {
      if (!r.ok) continue;
      const seen = new Set<string>();
      breachedByRule.set(r.rule.name, seen);
      for (const breach of r.breaches) {
        const key = alertKey(r.rule.name, breach.subject);
        if (seen.has(key)) continue;
        seen.add(key);
        const doc = docs.get(key);
        planned.push({ key, rule: r.rule, breach, step: onBreach(doc, r.rule.name, breach, now, operatorState(controls.get(key) ?? [], doc?.episode ?? 0)) });
      }
    }
    const toTriage = planned.filter((p) => p.step?.event?.kind === 'opened' && p.rule.triage && p.breach.job);
    const triages = await this.triage(toTriage.map((p) => ({ job: p.breach.job!, windowMs: results.get(p.rule.name)!.clearAfterMs })), now);
    for (const { key, rule, breach, step } of planned) {
      const triage = step?.event?.kind === 'opened' && rule.triage && breach.job ? triages.get(breach.job) : undefined;
      if (step && triage?.top) {
        step.set.facts = [...breach.facts, { label: 'Likely cause', value: `${triage.top.cls} (${triage.top.count} of ${triage.total} recent failures)` }];
        step.set.hint = breach.hint ?? triage.top.step;
      }
      const next = await apply(key, docs.get(key), step, (d) => (step?.event?.kind === 'opened' ? noticeId.opened(key, d.episode) : noticeId.updated(key, d.episode, now)));
      if (triage && next) opened.push({ doc: next, triage, rule });
    }

    // Clears: firing alerts of rules that ran and did not report their subject.
    for (const [key, doc] of docs) {
      const seen = breachedByRule.get(doc.rule);
      if (!seen || doc.state !== 'firing' || seen.has(key)) continue;
      await apply(key, doc, onClear(doc, results.get(doc.rule)!.clearAfterMs, now), (d) => noticeId.resolved(key, d.episode));
    }

    // Alerts of rules that no longer exist resolve at once (switch alerts end with their setting).
    for (const [key, doc] of docs) {
      if (doc.state === 'firing' && !results.has(doc.rule) && !isSwitchRule(doc.rule)) await apply(key, doc, onClear(doc, 0, now), (d) => noticeId.resolved(key, d.episode));
    }

    await this.announceControls(docs, controls, now, report);
    await this.postTriage(opened, now, report);
    return report;
  }

  private async runRule(rule: AlertRule, now: Date, liveJobs: RuleContext<unknown>['liveJobs']): Promise<RuleResult> {
    const started = performance.now();
    const { params, enabled } = ruleParams(rule, this.d.config, this.d.log);
    const clearAfterMs = rule.clearAfter(params as never);
    const result: RuleResult = { rule, ok: true, enabled, clearAfterMs, breaches: [], entry: { rule: rule.name, enabled, breaches: 0, ms: 0 } };
    if (enabled) {
      try {
        const { db, cols, jobs, settings, lockLifetimeMs } = this.d;
        result.breaches = await rule.evaluate({ now, params: params as never, db, cols, jobs, settings, lockLifetimeMs, liveJobs });
      } catch (err) {
        result.ok = false;
        result.entry.error = 'failed (see the log)';
        this.d.log.error({ err, rule: rule.name }, 'alert rule failed; its alerts are left as they are');
      }
    }
    result.entry.breaches = result.breaches.length;
    result.entry.ms = Math.round(performance.now() - started);
    return result;
  }

  /** Acks and snoozes of current episodes that no one has announced yet, and snoozes that ended. */
  private async announceControls(docs: Map<string, AlertDoc>, controls: Map<string, AlertControlDoc[]>, now: Date, report: EvaluationReport): Promise<void> {
    const pending: Array<{ doc: AlertDoc; kind: 'acknowledged' | 'snoozed' | 'updated'; id: string; note: string }> = [];
    for (const [key, doc] of docs) {
      if (doc.state !== 'firing') continue;
      const op = operatorState(controls.get(key) ?? [], doc.episode);
      if (op.ack) pending.push({ doc, kind: 'acknowledged', id: noticeId.acknowledged(key, doc.episode), note: `Acknowledged by ${op.ack.by.name}.` });
      const s = op.snooze;
      if (s?.until && s.until > now) pending.push({ doc, kind: 'snoozed', id: noticeId.snoozed(key, doc.episode, s.at), note: `Snoozed by ${s.by.name} until ${s.until.toISOString()}.` });
      if (s?.until && s.until <= now && effectiveState(doc, op, now) !== 'resolved') {
        pending.push({ doc, kind: 'updated', id: noticeId.snoozeEnded(key, doc.episode, s.until), note: `Snooze ended; still firing: ${doc.summary}` });
      }
    }
    const done = await this.d.store.announced(pending.map((p) => p.id));
    for (const p of pending) {
      if (done.has(p.id)) continue;
      const op = operatorState(controls.get(p.doc._id) ?? [], p.doc.episode);
      if (await this.d.announcer.announce(p.doc, op, p.kind, p.id, now, p.note)) report.events.push({ key: p.doc._id, kind: p.kind });
    }
  }

  /** Triage of the failures of these job types (one query for all), by job. */
  private async triage(wanted: Array<{ job: string; windowMs: number }>, now: Date): Promise<Map<string, Triage>> {
    const out = new Map<string, Triage>();
    if (!wanted.length) return out;
    const jobs = [...new Set(wanted.map((w) => w.job))];
    const since = new Date(now.getTime() - Math.max(MIN_TRIAGE_WINDOW_MS, ...wanted.map((w) => w.windowMs)));
    let errors = new Map<string, ErrorInfo[]>();
    try {
      errors = await recentErrorsByJob(this.d.cols, jobs, since, now);
    } catch (err) {
      this.d.log.warn({ err, jobs }, 'triage query failed');
    }
    for (const job of jobs) out.set(job, groupErrors(job, errors.get(job) ?? []));
    return out;
  }

  /** Posts each new failure alert's triage note in its thread (AI for the first few). */
  private async postTriage(opened: Array<{ doc: AlertDoc; triage: Triage; rule: AlertRule }>, now: Date, report: EvaluationReport): Promise<void> {
    let aiLeft = this.d.aiPerTick ?? 3;
    for (const { doc, triage, rule } of opened) {
      const id = noticeId.triage(doc._id, doc.episode);
      if ((await this.d.store.announced([id])).size) continue;
      const ai = aiLeft > 0 && triage.total > 0 ? this.d.ai : undefined;
      if (ai) aiLeft--;
      const note = await triageNote(triage, rule.name, ai);
      if (await this.d.announcer.announce(doc, {}, 'note', id, now, note.text)) report.events.push({ key: doc._id, kind: 'note' });
    }
  }
}

/** Maps `items` with at most `size` calls in flight; results in input order. */
async function inPool<T, R>(items: readonly T[], size: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(size, items.length)) }, worker));
  return out;
}

function groupByKey(list: AlertControlDoc[]): Map<string, AlertControlDoc[]> {
  const out = new Map<string, AlertControlDoc[]>();
  for (const c of list) out.set(c.key, [...(out.get(c.key) ?? []), c]);
  return out;
}
