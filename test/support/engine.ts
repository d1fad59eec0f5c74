/** Starts real engines on a test database with fast timings; stops them after the file. */
import type { Db } from 'mongodb';
import { loadConfig } from '../../src/config.ts';
import { JobRegistry, type JobDefinition } from '../../src/engine/defineJob.ts';
import { Engine, type EngineConfig } from '../../src/engine/engine.ts';
import type { Guard } from '../../src/engine/guards.ts';
import { silentLogger, createLogger } from '../../src/log.ts';
import { onCleanup } from './mongo.ts';

export const FAST: EngineConfig = {
  ...loadConfig({}),
  // Every tick scans agendaJobs once per job type on FerretDB (it pushes down no filter but _id):
  // fast enough for tests, slow enough not to load a 2-core machine running two test files.
  ENGINE_PROCESS_EVERY_MS: 250,
  GUARD_REFRESH_MS: 200,
  // Short enough to see retakes, long enough for a loaded 2-core machine to renew in time.
  ENGINE_LOCK_LIFETIME_MS: 6000,
  SHUTDOWN_GRACE_MS: 2000,
};

export const testLogger = () => (process.env.TEST_LOG ? createLogger({ level: 'debug', destination: 2 }) : silentLogger());

export interface StartEngineOptions {
  jobs: JobDefinition[];
  config?: Partial<EngineConfig>;
  guards?: Guard[];
  work?: boolean;
  retireAfterMs?: number;
}

/** A started engine; every engine started here is stopped when the test file ends. */
export async function startEngine(db: Db, opts: StartEngineOptions): Promise<Engine> {
  const engine = new Engine({
    db,
    config: { ...FAST, WORKER_NAME: `test-${Math.random().toString(36).slice(2, 8)}`, ...opts.config },
    log: testLogger(),
    jobs: new JobRegistry(opts.jobs),
    guards: opts.guards,
    retireAfterMs: opts.retireAfterMs,
  });
  await engine.start({ work: opts.work ?? true });
  onCleanup(() => engine.stop(500));
  return engine;
}

/** Resolves with the first event payload that matches. */
export function nextEvent<T>(emitter: NodeJS.EventEmitter, event: string, match: (v: T) => boolean = () => true, timeoutMs = 15_000): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      emitter.off(event, on);
      reject(new Error(`no matching "${event}" event within ${timeoutMs} ms`));
    }, timeoutMs);
    const on = (v: T) => {
      if (!match(v)) return;
      clearTimeout(timer);
      emitter.off(event, on);
      resolve(v);
    };
    emitter.on(event, on);
  });
}

/** Polls an async condition until it holds (for state that several processes change). */
export async function eventually<T>(check: () => Promise<T | undefined | false>, what: string, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
