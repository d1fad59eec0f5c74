/**
 * Operational settings shared by every process through the `settings` collection: kill switch,
 * paused job types, runtime configuration values. Reads come from a cache refreshed every
 * GUARD_REFRESH_MS, so guards cost no query per attempt; writes go to MongoDB first.
 */
import { EventEmitter } from 'node:events';
import type { Collection } from 'mongodb';
import type { Actor, SettingDoc } from '../db/collections.ts';

export interface SwitchState {
  active: boolean;
  reason?: string;
  by?: Actor;
  at?: Date;
}

export const KILL_SWITCH_KEY = 'killswitch';
const PAUSE_PREFIX = 'pause:';
/** The setting that pauses one job type. */
export const pauseKey = (job: string) => `${PAUSE_PREFIX}${job}`;
/** The job type a setting key pauses (`pause:<job>`), else undefined: the one parser of these keys. */
export const pausedJobOf = (key: string): string | undefined => (key.startsWith(PAUSE_PREFIX) ? key.slice(PAUSE_PREFIX.length) : undefined);
/** Whether a setting key is the global kill switch. */
export const isKillSwitchKey = (key: string): boolean => key === KILL_SWITCH_KEY;
export const configKey = (key: string) => `config:${key}`;

export interface SettingChange {
  key: string;
  old: unknown;
  value: unknown;
  by?: Actor;
  reason?: string;
  /** When the change was written: the same in every process that sees it. */
  at?: Date;
}

/** Emits 'change' (SettingChange) for changes seen from any process, local writes included. */
export class SettingsStore extends EventEmitter {
  private cache = new Map<string, SettingDoc>();
  private timer: NodeJS.Timeout | undefined;
  private loaded = false;
  private readonly collection: Collection<SettingDoc>;
  private readonly refreshMs: number;

  constructor(collection: Collection<SettingDoc>, refreshMs: number) {
    super();
    this.collection = collection;
    this.refreshMs = refreshMs;
  }

  /** Loads once, then refreshes on an interval until stop(). */
  async start(onError: (err: unknown) => void): Promise<void> {
    await this.refresh();
    this.timer = setInterval(() => this.refresh().catch(onError), this.refreshMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  /** Re-reads every setting (a small collection) and emits a change for each difference. */
  async refresh(): Promise<void> {
    const docs = await this.collection.find({}).toArray();
    const next = new Map(docs.map((d) => [d._id, d]));
    if (this.loaded) {
      for (const [key, doc] of next) {
        const before = this.cache.get(key);
        if (!before || before.updatedAt.getTime() !== doc.updatedAt.getTime()) {
          this.emit('change', { key, old: before?.value, value: doc.value, by: doc.updatedBy, reason: doc.reason, at: doc.updatedAt });
        }
      }
      for (const [key, doc] of this.cache) {
        if (!next.has(key)) this.emit('change', { key, old: doc.value, value: undefined });
      }
    }
    this.cache = next;
    this.loaded = true;
  }

  /** The cached value of a setting. */
  get<T = unknown>(key: string): T | undefined {
    return this.cache.get(key)?.value as T | undefined;
  }

  /** Writes a setting for every process and returns the value it replaced. */
  async set(key: string, value: unknown, by?: Actor, reason?: string): Promise<{ old: unknown }> {
    const doc: SettingDoc = { _id: key, value, updatedAt: new Date(), updatedBy: by, reason };
    const before = await this.collection.findOneAndReplace({ _id: key }, doc, { upsert: true });
    const old = before?.value;
    this.cache.set(key, doc);
    this.emit('change', { key, old, value, by, reason, at: doc.updatedAt });
    return { old };
  }

  /** Removes a setting (a config value back to its default). */
  async unset(key: string, by?: Actor): Promise<{ old: unknown }> {
    const before = await this.collection.findOneAndDelete({ _id: key });
    this.cache.delete(key);
    if (before) this.emit('change', { key, old: before.value, value: undefined, by });
    return { old: before?.value };
  }

  killSwitch(): SwitchState {
    return this.get<SwitchState>(KILL_SWITCH_KEY) ?? { active: false };
  }

  pause(job: string): SwitchState {
    return this.get<SwitchState>(pauseKey(job)) ?? { active: false };
  }

  pausedJobs(): string[] {
    const out: string[] = [];
    for (const [key, doc] of this.cache) {
      const job = pausedJobOf(key);
      if (job !== undefined && (doc.value as SwitchState | undefined)?.active) out.push(job);
    }
    return out.sort();
  }

  /** A runtime configuration value, if one was set. */
  config<T = unknown>(key: string): T | undefined {
    return this.get<T>(configKey(key));
  }

  /** Every runtime configuration value that is set, by key. */
  configEntries(): Array<[string, unknown]> {
    const out: Array<[string, unknown]> = [];
    for (const [key, doc] of this.cache) if (key.startsWith('config:')) out.push([key.slice(7), doc.value]);
    return out.sort(([a], [b]) => a.localeCompare(b));
  }
}
