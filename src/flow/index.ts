/**
 * Flow control: the breaker, rate-limit and concurrency guards (in that order, after the kill
 * switch and pauses) and the runtime configuration they read.
 */
import type { EventEmitter } from 'node:events';
import type { Db } from 'mongodb';
import type { Config } from '../config.ts';
import type { Actor } from '../db/collections.ts';
import type { JobRegistry } from '../engine/defineJob.ts';
import type { ReclaimEvent } from '../engine/engine.ts';
import type { Guard } from '../engine/guards.ts';
import { configKey, type SettingsStore } from '../engine/settings.ts';
import { Breakers } from './breakers.ts';
import { concurrencyGuard, rateLimitGuard } from './limits.ts';
import { FLOW_CONFIG_KEYS, listKeys, parseValue, resolveKey, type ConfigContext, type ConfigKeyDecl, type ConfigKeyInfo } from './runtimeConfig.ts';
import { OpsError, UsageError } from '../errors.ts';

export class FlowControl {
  readonly ctx: ConfigContext;
  private readonly db: Db;
  private readonly config: Config;
  private settingsStore: SettingsStore | undefined;
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
    this.settingsStore = settings;
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

  private get settings(): SettingsStore {
    if (!this.settingsStore) throw new Error('flow control used before the engine was built');
    return this.settingsStore;
  }

  stop(): void {
    this.breakerSet?.stop();
    for (const stop of this.stops.splice(0)) stop();
  }

  /** Every runtime key with its value, default and description; one key when `key` names one. */
  configGet(key?: string): ConfigKeyInfo[] {
    if (key) {
      const r = resolveKey(key, this.ctx);
      if ('error' in r) {
        const some = listKeys(this.settings, this.ctx, key);
        if (some.length) return some;
        throw new UsageError(r.error);
      }
    }
    return listKeys(this.settings, this.ctx, key ?? '');
  }

  /** Sets a key for every process (`default` clears it); returns the old and new values. */
  async configSet(key: string, raw: string, by: Actor): Promise<{ key: string; old: unknown; value: unknown }> {
    const r = resolveKey(key, this.ctx);
    if ('error' in r) throw new UsageError(r.error);
    const [info] = listKeys(this.settings, this.ctx, key).filter((i) => i.key === key);
    const old = info?.value;
    if (raw === 'default') {
      await this.settings.unset(configKey(key), by);
      return { key, old, value: info?.default };
    }
    const parsed = parseValue(key, raw, this.ctx);
    if ('error' in parsed) throw new UsageError(parsed.error);
    await this.settings.set(configKey(key), parsed.value, by);
    return { key, old, value: parsed.value };
  }

  /** Closes a provider's breaker by hand. */
  async resetBreaker(provider: string, by: Actor): Promise<{ provider: string; was: string }> {
    const known = (await this.breakers.list()).some((b) => b.provider === provider);
    if (!known) throw new OpsError('not_found', `No provider \`${provider}\`; \`breakers\` lists them.`);
    return { provider, was: await this.breakers.reset(provider, by) };
  }
}
