/** A whole Switchboard process (engine, ops, dispatcher) on a fresh test database. */
import { createApp, type App, type CreateAppOptions } from '../../src/app/index.ts';
import type { Clock } from '../../src/util/clock.ts';
import type { ApiOptions } from '../../src/chat/adapters/telegram/api.ts';
import type { Invoker } from '../../src/chat/dispatcher.ts';
import type { Role } from '../../src/auth/roles.ts';
import { loadConfig, type Config } from '../../src/config.ts';
import type { JobDefinition } from '../../src/engine/defineJob.ts';
import type { Guard } from '../../src/engine/guards.ts';
import { FAST, testLogger } from './engine.ts';
import { onCleanup, useTestDb, type TestDb } from './mongo.ts';

export interface TestApp extends App {
  t: TestDb;
}

export interface TestAppOptions {
  work?: boolean;
  extraJobs?: JobDefinition[];
  env?: Record<string, string>;
  config?: Partial<Config>;
  guards?: Guard[];
  rateWindowMs?: number;
  /** Telegram pacing of the signup channel (tests send faster). */
  telegramApi?: ApiOptions;
  /** Reuse another app's database (a second process). */
  db?: TestDb;
  /** Other alert rules than the built-ins, and alerting knobs. */
  alerting?: CreateAppOptions['alerting'];
  /** A clock the test moves (expiries, windows) instead of back-dating stored documents. */
  clock?: Clock;
}

/** Starts an app (engine working unless `work: false`); stopped when the test file ends. */
export async function startTestApp(opts: TestAppOptions = {}): Promise<TestApp> {
  const t = opts.db ?? (await useTestDb('app'));
  const config: Config = Object.freeze({
    ...loadConfig(opts.env ?? {}),
    ...pickEngineTimings(),
    WORKER_NAME: `test-${Math.random().toString(36).slice(2, 8)}`,
    ...opts.config,
  });
  const app = createApp({ config, db: t.db, log: testLogger(), extraJobs: opts.extraJobs, guards: opts.guards, rateWindowMs: opts.rateWindowMs, telegramApi: opts.telegramApi, alerting: opts.alerting, clock: opts.clock });
  await app.engine.start({ work: opts.work ?? true, ensureIndexes: true });
  onCleanup(() => app.stop(500));
  return { ...app, t };
}

function pickEngineTimings() {
  const { ENGINE_PROCESS_EVERY_MS, GUARD_REFRESH_MS, ENGINE_LOCK_LIFETIME_MS, SHUTDOWN_GRACE_MS } = FAST;
  return { ENGINE_PROCESS_EVERY_MS, GUARD_REFRESH_MS, ENGINE_LOCK_LIFETIME_MS, SHUTDOWN_GRACE_MS };
}

/** An invoker with a role, for dispatching as a chat user. */
export function asUser(role: Role | 'none', id = `U_${role}`, platform: Invoker['actor']['platform'] = 'slack'): Invoker {
  return { actor: { platform, id, name: `${role}-user` }, role };
}
