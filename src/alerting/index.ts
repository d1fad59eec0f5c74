/**
 * The alerting of one process, built once by the composition root (src/app/index.ts) with the
 * rules it is given: the AlertService (serving processes add their notifiers), the evaluator
 * behind the `alerts.evaluate` job, the switch alerts (kill switch, pauses) and the operators'
 * API (`ops.alerts`). `start()` makes it a serving process's: evaluation runs and setting
 * changes are announced at once. A process that never starts it (the CLI) still records
 * operators' actions, which the next evaluation tick of a serving process announces.
 *
 * @example
 * const alerting = createAlerting({ db, config, log, engine, rules: builtinRules });
 * alerting.service.addNotifier(slackNotifier);
 * alerting.start();
 */
import type { Db } from 'mongodb';
import type { Config } from '../config.ts';
import type { Engine } from '../engine/engine.ts';
import type { SettingChange } from '../engine/settings.ts';
import type { Logger } from '../log.ts';
import { AiSummarizer } from './aiSummary.ts';
import { AlertOps } from './alertOps.ts';
import { Announcer } from './announce.ts';
import { AlertEvaluator, type EvaluationReport } from './evaluator.ts';
import type { AlertRule } from './rule.ts';
import { parseRoutes } from './routing.ts';
import { AlertService } from './service.ts';
import { AlertStore } from './store.ts';
import { SwitchAlerts } from './switchAlerts.ts';
import { systemClock, type Clock } from '../util/clock.ts';

/** The fan-out to notifiers (see service.ts). */
export { AlertService } from './service.ts';
/** What one tick did (see evaluator.ts). */
export type { EvaluationReport } from './evaluator.ts';

/** The name of the built-in evaluation job. */
export const ALERTS_EVALUATE_JOB = 'alerts.evaluate';

/** Knobs for tests and tuning. */
export interface AlertingOptions {
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
  /** What the `alerts` commands call (`ops.alerts`). */
  ops: AlertOps;
  store: AlertStore;
  rules: readonly AlertRule[];
  /** One evaluation at `now` (the clock is injectable for tests); runs one at a time in this process. */
  evaluateOnce(now?: Date): Promise<EvaluationReport>;
  /** Serving: the evaluation job evaluates, setting changes and operators' actions are announced at once. */
  start(): void;
  stop(): void;
  /** Whether start() was called (and stop() not since). */
  readonly started: boolean;
}

/** What alerting is built from: the process's parts and the rules in force. */
export interface AlertingDeps {
  db: Db;
  config: Config;
  log: Logger;
  engine: Pick<Engine, 'cols' | 'jobs' | 'settings'>;
  rules: readonly AlertRule[];
  /** The time evaluations and operator actions are taken at (tests move it). */
  clock?: Clock;
}

/** Builds a process's alerting; the composition root calls it once. */
export function createAlerting(deps: AlertingDeps, opts: AlertingOptions = {}): Alerting {
  const { db, config, engine, rules } = deps;
  const clock = deps.clock ?? systemClock;
  const log = deps.log.child({ component: 'alerting' });
  const store = new AlertStore(db);
  const service = new AlertService({ log, routes: parseRoutes(config.ALERT_ROUTES), notifyTimeoutMs: opts.notifyTimeoutMs });
  const announcer = new Announcer(store, service, rules);
  const ai = config.OPENAI_API_KEY
    ? new AiSummarizer({ apiKey: config.OPENAI_API_KEY, baseURL: config.OPENAI_BASE_URL, model: config.OPENAI_MODEL, timeoutMs: opts.aiTimeoutMs, log })
    : undefined;
  const settings = engine.settings;
  const evaluator = new AlertEvaluator({
    db,
    cols: engine.cols,
    jobs: engine.jobs,
    store,
    announcer,
    rules,
    config: settings,
    settings,
    lockLifetimeMs: config.ENGINE_LOCK_LIFETIME_MS,
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
  const switches = new SwitchAlerts({ store, announcer, log });
  const onSetting = (c: SettingChange) => void serial(() => switches.onChange(c));
  let started = false;
  return {
    service,
    store,
    rules,
    ops: new AlertOps({ store, rules, config: settings, announcer, live: () => started, serial, now: () => clock.now() }),
    evaluateOnce: (now = clock.now()) => serial(() => evaluator.evaluateOnce(now)),
    start() {
      if (started) return;
      started = true;
      settings.on('change', onSetting);
    },
    stop() {
      started = false;
      settings.off('change', onSetting);
    },
    get started() {
      return started;
    },
  };
}
