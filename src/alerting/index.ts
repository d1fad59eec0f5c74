/**
 * Wiring of alerting into one process: `createAlerting(app)` builds the AlertService (add the
 * notifiers to it), the evaluator behind the `alerts.evaluate` job, and the operators' API. The
 * job and the `alerts` commands find this process's alerting through its database handle.
 *
 * @example
 * const alerting = createAlerting(app);
 * alerting.service.addNotifier(slackNotifier);
 */
import type { Db } from 'mongodb';
import type { Config } from '../config.ts';
import type { Engine } from '../engine/engine.ts';
import type { Logger } from '../log.ts';
import { AiSummarizer } from './aiSummary.ts';
import { AlertOps } from './alertOps.ts';
import { Announcer } from './announce.ts';
import { AlertEvaluator, type EvaluationReport } from './evaluator.ts';
import type { AlertRule } from './rule.ts';
import { alertRules } from './rules.ts';
import { parseRoutes } from './routing.ts';
import { AlertService } from './service.ts';
import { AlertStore } from './store.ts';

/** The fan-out to notifiers (see service.ts). */
export { AlertService } from './service.ts';
/** What one tick did (see evaluator.ts). */
export type { EvaluationReport } from './evaluator.ts';

/** The name of the built-in evaluation job. */
export const ALERTS_EVALUATE_JOB = 'alerts.evaluate';

/** Knobs for tests and tuning. */
export interface AlertingOptions {
  /** Rules to evaluate instead of the built-ins (tests). */
  rules?: readonly AlertRule[];
  /** The AI triage's whole-request timeout (default 8 s). */
  aiTimeoutMs?: number;
  /** A notifier taking longer is logged and skipped (default 30 s). */
  notifyTimeoutMs?: number;
  /** AI summaries per tick at most (default 3). */
  aiPerTick?: number;
}

/** This process's alerting. */
export interface Alerting {
  /** Add notifiers here (Slack, Telegram); listen to 'event' for live front ends. */
  service: AlertService;
  /** What the `alerts` commands call. */
  ops: AlertOps;
  store: AlertStore;
  rules: readonly AlertRule[];
  /** One evaluation at `now` (the clock is injectable for tests); runs one at a time in this process. */
  evaluateOnce(now?: Date): Promise<EvaluationReport>;
}

/** What createAlerting needs of the app. */
export type AlertingApp = { db: Db; config: Config; log: Logger; engine: Engine };

const byDb = new WeakMap<Db, Alerting>();

/** Builds (once per database handle) and registers this process's alerting. */
export function createAlerting(app: AlertingApp, opts: AlertingOptions = {}): Alerting {
  const existing = byDb.get(app.db);
  if (existing) return existing;
  const log = app.log.child({ component: 'alerting' });
  const rules = opts.rules ?? alertRules;
  const store = new AlertStore(app.db);
  const service = new AlertService({ log, routes: parseRoutes(app.config.ALERT_ROUTES), notifyTimeoutMs: opts.notifyTimeoutMs });
  const announcer = new Announcer(store, service, rules);
  const ai = app.config.OPENAI_API_KEY
    ? new AiSummarizer({ apiKey: app.config.OPENAI_API_KEY, baseURL: app.config.OPENAI_BASE_URL, model: app.config.OPENAI_MODEL, timeoutMs: opts.aiTimeoutMs, log })
    : undefined;
  const settings = app.engine.settings;
  const evaluator = new AlertEvaluator({
    db: app.db,
    cols: app.engine.cols,
    jobs: app.engine.jobs,
    store,
    announcer,
    rules,
    config: settings,
    settings,
    lockLifetimeMs: app.config.ENGINE_LOCK_LIFETIME_MS,
    log,
    ai,
    aiPerTick: opts.aiPerTick,
  });
  let chain: Promise<unknown> = Promise.resolve();
  const serial = <T>(fn: () => Promise<T>): Promise<T> => {
    const next = chain.then(fn, fn);
    chain = next.catch(() => {});
    return next;
  };
  const alerting: Alerting = {
    service,
    store,
    rules,
    ops: new AlertOps({ store, rules, config: settings, announcer, serial }),
    evaluateOnce: (now = new Date()) => serial(() => evaluator.evaluateOnce(now)),
  };
  byDb.set(app.db, alerting);
  return alerting;
}

/** The alerting created for this database handle, if any. */
export function alertingFor(db: Db): Alerting | undefined {
  return byDb.get(db);
}

/**
 * The operators' API for a process: its alerting's, or (a CLI without notifiers) one whose
 * actions are announced by the next evaluation tick of a serving process.
 */
export function alertOpsFor(engine: Engine): AlertOps {
  return alertingFor(engine.db)?.ops ?? new AlertOps({ store: new AlertStore(engine.db), rules: alertRules, config: engine.settings });
}
