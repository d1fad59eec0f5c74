/**
 * Wires one Switchboard process: engine, operations service, command dispatcher. `serve`, the
 * CLI, the console and the tests all build it here, so they run the same code.
 */
import type { Db } from 'mongodb';
import { commandRegistry } from '../../commands/index.ts';
import { loadJobs } from '../../jobs/index.ts';
import { ActionTokens } from '../chat/actions.ts';
import { Dispatcher } from '../chat/dispatcher.ts';
import type { FrontEnd } from '../chat/frontEnd.ts';
import type { ApiOptions } from '../chat/adapters/telegram/api.ts';
import { telegramSignupChannel } from '../chat/adapters/telegram/signups.ts';
import type { Config } from '../config.ts';
import type { JobDefinition } from '../engine/defineJob.ts';
import { Engine } from '../engine/engine.ts';
import { backfillRunJob } from '../engine/backfillRunner.ts';
import type { Guard } from '../engine/guards.ts';
import type { Logger } from '../log.ts';
import { Ops } from '../ops/index.ts';
import { FlowControl } from '../flow/index.ts';
import { Rollups } from '../engine/rollups.ts';
import { builtinRules } from '../../alerts/index.ts';
import { alertsEvaluateJob } from '../../jobs/alertsEvaluate.ts';
import { createAlerting, type Alerting, type AlertingOptions } from '../alerting/index.ts';
import type { AlertRule } from '../alerting/rule.ts';
import { APP_INDEXES, appConfigKeys, RETENTION } from './schema.ts';
import { dashboardBase } from '../auth/signInLinks.ts';
import { systemClock, type Clock } from '../util/clock.ts';

export interface App {
  config: Config;
  flow: FlowControl;
  /** Stops the engine (graceful) and the background loops of this app. */
  stop(graceMs?: number): Promise<void>;
  db: Db;
  log: Logger;
  engine: Engine;
  ops: Ops;
  /** The process's alerting (serving processes add notifiers and start it: src/adapters.ts). */
  alerting: Alerting;
  dispatcher: Dispatcher;
  tokens: ActionTokens;
  /** What the chat adapters get (not the whole App). */
  frontEnd: FrontEnd;
}

export interface CreateAppOptions {
  config: Config;
  db: Db;
  log: Logger;
  /** Jobs beyond the built-ins and jobs/index.ts (tests). */
  extraJobs?: JobDefinition[];
  guards?: Guard[];
  /** Test seam: a shorter rpm window. */
  rateWindowMs?: number;
  /** Test seam: Telegram pacing for the signup channel's client. */
  telegramApi?: ApiOptions;
  /** Test seam: other alert rules than alerts/index.ts's, and alerting knobs. */
  alerting?: AlertingOptions & { rules?: readonly AlertRule[] };
  /** The time of the operations layer (expiries, windows, retention); tests move it. */
  clock?: Clock;
}

/** Builds the process's parts; call `app.engine.start({ work })` to connect them. */
export function createApp(opts: CreateAppOptions): App {
  const clock = opts.clock ?? systemClock;
  const jobs = loadJobs(opts.config, opts.extraJobs, { retention: RETENTION, clock });
  const alertRules = opts.alerting?.rules ?? builtinRules;
  const flow = new FlowControl(opts.db, opts.config, jobs, { rateWindowMs: opts.rateWindowMs, configKeys: appConfigKeys(alertRules) });
  const engine = new Engine({
    db: opts.db,
    config: opts.config,
    log: opts.log,
    jobs,
    guards: (settings, events) => [...flow.guards(settings, events), ...(opts.guards ?? [])],
    indexes: APP_INDEXES,
  });
  // The engine's built-in backfill runner works with the engine it runs on.
  engine.jobs.add(backfillRunJob(engine, { minDeferMs: 5 * opts.config.GUARD_REFRESH_MS }));
  const alerting = createAlerting({ db: opts.db, config: opts.config, log: opts.log, engine, rules: alertRules, clock }, opts.alerting);
  engine.jobs.add(alertsEvaluateJob({ alerting }));
  const tokens = new ActionTokens(opts.db, clock);
  // Signup PINs reach the Telegram owner with the bot token, whether or not this process runs the bot.
  const signupChannel = telegramSignupChannel({ config: opts.config, db: opts.db, tokens, log: opts.log }, opts.telegramApi);
  const auth = { signupChannel, pinSecret: opts.config.SIGNUP_PIN_SECRET, defaultRole: opts.config.SIGNUP_DEFAULT_ROLE };
  const ops = new Ops(engine, flow, { alerts: alerting.ops, auth, tokens, signInBase: dashboardBase(opts.config), clock });
  const dispatcher = new Dispatcher({ registry: commandRegistry(), ops, audit: ops.audit, tokens, log: opts.log });
  // Per-minute statistics of this process's attempts (status, alert rules): only a working engine
  // emits the events they count, so the writer starts with its first event and stop() flushes it.
  const rollups = new Rollups({ db: opts.db, worker: opts.config.WORKER_NAME, events: engine, log: opts.log.child({ component: 'rollups' }) });
  rollups.start();
  return {
    config: opts.config,
    db: opts.db,
    log: opts.log,
    engine,
    flow,
    ops,
    alerting,
    dispatcher,
    tokens,
    frontEnd: { ops, dispatcher, tokens, config: opts.config, log: opts.log, db: opts.db },
    async stop(graceMs) {
      alerting.stop();
      flow.stop();
      await engine.stop(graceMs);
      await rollups.stop();
    },
  };
}
