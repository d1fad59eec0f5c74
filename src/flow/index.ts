/**
 * Flow control: the breaker, rate-limit and concurrency guards (in that order, after the kill
 * switch and pauses) and the runtime configuration they read. Operators read and change that
 * configuration and the breakers through the operations service (src/ops/config.ts, breakers.ts).
 */
import type { EventEmitter } from 'node:events';
import type { Db } from 'mongodb';
import type { Config } from '../config.ts';
import type { JobRegistry } from '../engine/defineJob.ts';
import type { ReclaimEvent } from '../engine/engine.ts';
import type { Guard } from '../engine/guards.ts';
import type { SettingsStore } from '../engine/settings.ts';
import { Breakers } from './breakers.ts';
import { concurrencyGuard, rateLimitGuard } from './limits.ts';
import { FLOW_CONFIG_KEYS, type ConfigContext, type ConfigKeyDecl } from './runtimeConfig.ts';

export class FlowControl {
  readonly ctx: ConfigContext;
  private readonly db: Db;
  private readonly config: Config;
  private breakerSet: Breakers | undefined;

  private readonly rateWindowMs: number | undefined;

  /** `rateWindowMs` shortens the rpm window for tests; production windows are calendar minutes. */
  /** `configKeys`: key families beyond flow control's own (the alert rules' parameters). */
  constructor(db: Db, config: Config, jobs: JobRegistry, opts: { rateWindowMs?: number; configKeys?: readonly ConfigKeyDecl[] } = {}) {
    this.db = db;
    this.config = config;
    this.ctx = { keys: [...FLOW_CONFIG_KEYS, ...(opts.configKeys ?? [])], jobs, config };
    this.rateWindowMs = opts.rateWindowMs;
  }

  /**
   * The guards, built on the engine's settings (pass this to the Engine); `events` (the engine)
   * hears of every slot taken back from a worker that stopped renewing it ('reclaim').
   */
  readonly guards = (settings: SettingsStore, events?: EventEmitter): Guard[] => {
    this.breakerSet = new Breakers(this.db, settings, this.ctx);
    // The cached view only serves the before-lock check; the guard itself reads the database.
    void this.breakerSet.start(this.config.GUARD_REFRESH_MS, () => {}).catch(() => {});
    const concurrency = concurrencyGuard(this.db, settings, this.ctx, {
      worker: this.config.WORKER_NAME,
      leaseMs: this.config.SLOT_LEASE_MS,
      onReclaim: (slot) => events?.emit('reclaim', { kind: 'concurrency-slot', group: slot.group, holder: slot.holder } satisfies ReclaimEvent),
      onError: (err) => events?.emit('guard-error', err),
    });
    this.stops.push(() => concurrency.stop());
    return [this.breakerSet.guard(), rateLimitGuard(this.db, settings, this.ctx, this.rateWindowMs), concurrency];
  };
  private readonly stops: Array<() => void> = [];

  get breakers(): Breakers {
    if (!this.breakerSet) throw new Error('flow control used before the engine was built');
    return this.breakerSet;
  }

  stop(): void {
    this.breakerSet?.stop();
    for (const stop of this.stops.splice(0)) stop();
  }
}
