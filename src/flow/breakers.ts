/**
 * Circuit breakers per provider, shared by every process through the `breakers` collection:
 * `closed` → `open` after `breaker.<p>.threshold` consecutive provider failures → after
 * `breaker.<p>.cooldown_ms` one trial attempt (`half-open`) → `closed` on its success, `open`
 * again on its failure. While open, the provider's jobs are deferred to the end of the cool-down.
 */
import { EventEmitter } from 'node:events';
import { type Collection, type Db } from 'mongodb';
import type { Actor } from '../db/collections.ts';
import type { Guard, GuardDecision, AttemptOutcome } from '../engine/guards.ts';
import type { SettingsStore } from '../engine/settings.ts';
import { effective, providers, type ConfigContext } from './runtimeConfig.ts';
import { insertOnce } from '../db/insertOnce.ts';
import { retention, type RetentionRule } from '../db/retention.ts';

export type BreakerState = 'closed' | 'open' | 'half-open';

export interface BreakerDoc {
  _id: string;
  state: BreakerState;
  failures: number;
  openedAt: Date | null;
  trialAt: Date | null;
  updatedAt: Date;
}

export interface BreakerTransition {
  provider: string;
  from: BreakerState;
  to: BreakerState;
  failures: number;
  by?: Actor;
  reason: string;
}

/** A trial that has not reported back by then belonged to a worker that died. */
const TRIAL_STALE_MS = 15 * 60_000;
const WAIT_FOR_TRIAL_MS = 2_000;

/** Trial claims a day old are history (`maintenance.cleanup`). */
export const breakerTrialRetention: RetentionRule = retention('breakerTrials', (c) => ({ at: { $lt: c.dayAgo } }));

/** Emits 'transition' (BreakerTransition) for every state change made in this process. */
export class Breakers extends EventEmitter {
  private readonly col: Collection<BreakerDoc>;
  private readonly trials: Collection<{ _id: string; at: Date }>;
  private readonly settings: SettingsStore;
  private readonly ctx: ConfigContext;
  private cache = new Map<string, BreakerDoc>();
  private refreshMs = 0;
  private refreshedAt = 0;
  private refreshing: Promise<void> | undefined;
  private onRefreshError: (err: unknown) => void = () => {};
  /**
   * What this process itself saw, decided before any await: consecutive provider failures since
   * the last success, and when they reached the threshold. Attempts of this process read it, so
   * they hold at once, without waiting for the shared document (whose read-modify-write can also
   * lose increments on FerretDB v1 when failures land together).
   */
  private readonly local = new Map<string, { failures: number; openedAt: number | null }>();

  constructor(db: Db, settings: SettingsStore, ctx: ConfigContext) {
    super();
    this.col = db.collection<BreakerDoc>('breakers');
    this.trials = db.collection('breakerTrials');
    this.settings = settings;
    this.ctx = ctx;
  }

  /**
   * Keeps a cached view for the before-lock check, re-read when a check finds it older than
   * `refreshMs` (like the settings): an idle worker, which checks nothing, reads nothing. A stale
   * view costs at most a wasted lock: the guard itself reads the database.
   */
  async start(refreshMs: number, onError: (err: unknown) => void): Promise<void> {
    this.refreshMs = refreshMs;
    this.onRefreshError = onError;
    await this.refresh();
  }

  stop(): void {
    this.refreshMs = 0;
  }

  async refresh(): Promise<void> {
    this.refreshedAt = Date.now();
    this.cache = new Map((await this.col.find({}).toArray()).map((d) => [d._id, d]));
  }

  /** Re-reads the view in the background when it is older than the refresh interval. */
  private refreshIfStale(): void {
    if (!this.refreshMs || this.refreshing || Date.now() - this.refreshedAt < this.refreshMs) return;
    this.refreshing = this.refresh()
      .catch((err: unknown) => this.onRefreshError(err))
      .finally(() => (this.refreshing = undefined));
  }

  private cooldown(provider: string): number {
    return Number(effective(this.settings, `breaker.${provider}.cooldown_ms`, this.ctx));
  }

  private threshold(provider: string): number {
    return Number(effective(this.settings, `breaker.${provider}.threshold`, this.ctx));
  }

  /** Every known provider's breaker (closed when it never failed). */
  async list(): Promise<Array<{ provider: string; state: BreakerState; failures: number; openedAt: Date | null }>> {
    await this.refresh();
    const names = new Set([...providers(this.ctx.jobs), ...this.cache.keys()]);
    return [...names].sort().map((p) => {
      const d = this.cache.get(p);
      return { provider: p, state: d?.state ?? 'closed', failures: d?.failures ?? 0, openedAt: d?.openedAt ?? null };
    });
  }

  /** Closes a breaker by hand; returns the state it had. */
  async reset(provider: string, by: Actor): Promise<BreakerState> {
    const before = await this.col.findOne({ _id: provider });
    this.local.delete(provider);
    await this.write(provider, { state: 'closed', failures: 0, openedAt: null, trialAt: null }, before?.state ?? 'closed', 'reset by hand', by);
    return before?.state ?? 'closed';
  }

  private async write(provider: string, next: Omit<BreakerDoc, '_id' | 'updatedAt'>, from: BreakerState, reason: string, by?: Actor): Promise<void> {
    const doc = { ...next, updatedAt: new Date() };
    await this.col.updateOne({ _id: provider }, { $set: doc }, { upsert: true });
    this.cache.set(provider, { _id: provider, ...doc });
    if (from !== next.state) this.emit('transition', { provider, from, to: next.state, failures: next.failures, by, reason } satisfies BreakerTransition);
  }

  /** The guard: open → defer; cool-down over → one trial; half-open → others wait. */
  guard(): Guard {
    return {
      name: 'breaker',
      heldBeforeLock: (def) => {
        if (!def.provider) return false;
        this.refreshIfStale();
        const d = this.cache.get(def.provider);
        const now = Date.now();
        if (this.openHere(def.provider, d ?? null, now) > 0) return true;
        return d?.state === 'open' && !!d.openedAt && d.openedAt.getTime() + this.cooldown(def.provider) > now;
      },
      check: async ({ def }): Promise<GuardDecision> => {
        const provider = def.provider;
        if (!provider) return { ok: true };
        // Closed when last read (every GUARD_REFRESH_MS) and no cool-down started here: admit
        // without a read. Another process's opening is seen within one refresh; this process's
        // own failures at once (`local`).
        const cached = this.cache.get(provider);
        if ((!cached || cached.state === 'closed') && !this.local.get(provider)?.openedAt) {
          return this.closedGrant(provider);
        }
        const d = await this.col.findOne({ _id: provider });
        const now = Date.now();
        const held = this.openHere(provider, d, now);
        if (held > 0) return { ok: false, delayMs: held, reason: `breaker of ${provider} open` };
        if (!d || d.state === 'closed') return this.closedGrant(provider);
        if (d.state === 'open') {
          const left = (d.openedAt?.getTime() ?? 0) + this.cooldown(provider) - now;
          if (left > 0) return { ok: false, delayMs: left, reason: `breaker of ${provider} open` };
        } else if (d.trialAt && now - d.trialAt.getTime() < TRIAL_STALE_MS) {
          return { ok: false, delayMs: WAIT_FOR_TRIAL_MS, reason: `breaker of ${provider} half-open: a trial is running` };
        }
        // Everyone who sees this state races for the same trial id; one wins.
        const trialId = `${provider}:${d.openedAt?.getTime() ?? 0}:${d.trialAt?.getTime() ?? 0}`;
        if (!(await this.claimTrial(trialId))) return { ok: false, delayMs: WAIT_FOR_TRIAL_MS, reason: `breaker of ${provider}: another worker runs the trial` };
        await this.write(provider, { state: 'half-open', failures: d.failures, openedAt: d.openedAt, trialAt: new Date() }, d.state, 'cool-down over: one trial');
        return { ok: true, release: (o) => this.afterTrial(provider, d, o) };
      },
    };
  }

  private claimTrial(id: string): Promise<boolean> {
    return insertOnce(this.trials, { _id: id, at: new Date() });
  }

  /**
   * Milliseconds left of a cool-down this process started itself (0 = none), unless the shared
   * document shows the breaker closed since (reset by hand, or a trial elsewhere succeeded).
   */
  private openHere(provider: string, d: BreakerDoc | null, now: number): number {
    const mine = this.local.get(provider);
    if (!mine?.openedAt) return 0;
    // A close with the count at zero came after: a reset by hand, or a success elsewhere.
    if (d?.state === 'closed' && d.failures === 0 && d.updatedAt.getTime() > mine.openedAt) {
      this.local.delete(provider);
      return 0;
    }
    return Math.max(0, mine.openedAt + this.cooldown(provider) - now);
  }

  /** An attempt let through a closed breaker: counted at once (`note`), written on release. */
  private closedGrant(provider: string): GuardDecision {
    let noted = false;
    return {
      ok: true,
      note: (o) => {
        noted = true;
        this.countHere(provider, o);
      },
      // Work done outside an attempt (a backfill chunk) reports only here.
      release: async (o) => {
        if (!noted) this.countHere(provider, o);
        await this.afterClosed(provider, o);
      },
    };
  }

  /** Counts the outcome in this process at once (see `local`). */
  private countHere(provider: string, o: AttemptOutcome): void {
    if (o.void || (!o.ok && !o.providerFault)) return;
    if (o.ok) {
      this.local.delete(provider);
      return;
    }
    const mine = this.local.get(provider) ?? { failures: 0, openedAt: null };
    mine.failures++;
    if (mine.failures >= this.threshold(provider) && !mine.openedAt) mine.openedAt = Date.now();
    this.local.set(provider, mine);
  }

  private async afterClosed(provider: string, o: AttemptOutcome): Promise<void> {
    if (o.void || (!o.ok && !o.providerFault)) return;
    // Counted already (`note`). A success with no failure in the last read has nothing to reset.
    if (o.ok && !this.cache.get(provider)?.failures) return;
    const d = await this.col.findOne({ _id: provider });
    // Read after the await: failures that landed meanwhile count too, so a slow write never
    // puts back a lower count (or "closed") over what this process has already seen.
    const seenHere = this.local.get(provider)?.failures ?? 0;
    if (d && d.state !== 'closed') return; // another worker opened it meanwhile
    if (o.ok) {
      if (d?.failures) await this.write(provider, { state: 'closed', failures: 0, openedAt: null, trialAt: null }, 'closed', 'success');
      return;
    }
    const failures = Math.max((d?.failures ?? 0) + 1, seenHere);
    const open = failures >= this.threshold(provider);
    await this.write(
      provider,
      { state: open ? 'open' : 'closed', failures, openedAt: open ? new Date() : null, trialAt: null },
      'closed',
      open ? `${failures} consecutive failures` : 'failure',
    );
  }

  private async afterTrial(provider: string, before: BreakerDoc, o: AttemptOutcome): Promise<void> {
    // The shared document decides from here (it is open or half-open); this process's own count
    // starts again.
    this.local.delete(provider);
    if (o.ok) return this.write(provider, { state: 'closed', failures: 0, openedAt: null, trialAt: null }, 'half-open', 'trial succeeded');
    if (o.providerFault && !o.void) {
      return this.write(provider, { state: 'open', failures: before.failures + 1, openedAt: new Date(), trialAt: null }, 'half-open', 'trial failed');
    }
    // Inconclusive (not the provider's fault, or it did not run): another trial may go at once.
    const openedAt = new Date(Date.now() - this.cooldown(provider));
    return this.write(provider, { state: 'open', failures: before.failures, openedAt, trialAt: null }, 'half-open', 'trial inconclusive');
  }
}
