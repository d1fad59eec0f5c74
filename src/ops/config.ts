/**
 * Runtime configuration as operators read and change it (`ops.config`, `config get|set`): every
 * key flow control and the alert rules declare (src/flow/runtimeConfig.ts), stored in `settings`
 * through the engine's SettingsStore, so every process sees a change within seconds.
 */
import type { Actor } from '../db/collections.ts';
import { configKey, type SettingsStore } from '../engine/settings.ts';
import { listKeys, parseValue, resolveKey, type ConfigContext, type ConfigKeyInfo } from '../flow/runtimeConfig.ts';
import { UsageError } from '../errors.ts';

export class RuntimeConfig {
  private readonly settings: SettingsStore;
  private readonly ctx: ConfigContext;

  /** `ctx`: the key families in force (FlowControl.ctx). */
  constructor(settings: SettingsStore, ctx: ConfigContext) {
    this.settings = settings;
    this.ctx = ctx;
  }

  /** Every runtime key with its value, default and description; one key (or a prefix's keys) when `key` is given. */
  get(key?: string): ConfigKeyInfo[] {
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
  async set(key: string, raw: string, by: Actor): Promise<{ key: string; old: unknown; value: unknown; duration?: boolean }> {
    const r = resolveKey(key, this.ctx);
    if ('error' in r) throw new UsageError(r.error);
    const [info] = listKeys(this.settings, this.ctx, key).filter((i) => i.key === key);
    const old = info?.value;
    const duration = r.decl.duration ? { duration: true } : {};
    if (raw === 'default') {
      await this.settings.unset(configKey(key), by);
      return { key, old, value: info?.default, ...duration };
    }
    const parsed = parseValue(key, raw, this.ctx);
    if ('error' in parsed) throw new UsageError(parsed.error);
    await this.settings.set(configKey(key), parsed.value, by);
    return { key, old, value: parsed.value, ...duration };
  }
}
