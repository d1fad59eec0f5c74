/**
 * Rate limits (`<job>.rpm`, `provider.<name>.rpm`: attempts started per calendar minute) and
 * concurrency (`<job>.concurrency`: attempts running at once), both across every process sharing
 * the database, both read from runtime config on every check. Over the limit, a job is deferred.
 */
import type { Db } from 'mongodb';
import type { IndexPlan } from '../db/collections.ts';
import type { JobDefinition } from '../engine/defineJob.ts';
import type { Guard, GuardDecision } from '../engine/guards.ts';
import type { SettingsStore } from '../engine/settings.ts';
import { effective, type ConfigContext } from './runtimeConfig.ts';
import { Slots } from './slots.ts';
import { retention, type RetentionRule } from '../db/retention.ts';

const MINUTE = 60_000;

/** The indexes of the collections this module owns (collected by src/app/schema.ts). */
export const limitIndexes: IndexPlan = {
  rateWindows: [{ key: { group: 1 }, name: 'group' }, { key: { at: 1 }, name: 'at' }],
  concurrencySlots: [{ key: { group: 1, expiresAt: 1 }, name: 'group_expiresAt' }],
};

/** Rate windows and slots a day old are history (`maintenance.cleanup`). */
export const limitRetention: RetentionRule[] = [
  retention('rateWindows', (c) => ({ at: { $lt: c.dayAgo } })),
  retention('concurrencySlots', (c) => ({ expiresAt: { $lt: c.dayAgo } })),
];

/** The rate limits that apply to a job: its own and its provider's. */
function rateLimits(def: JobDefinition, settings: SettingsStore, ctx: ConfigContext): Array<{ key: string; rpm: number }> {
  const out = [{ key: `job:${def.name}`, rpm: Number(effective(settings, `${def.name}.rpm`, ctx)) }];
  if (def.provider) out.push({ key: `provider:${def.provider}`, rpm: Number(effective(settings, `provider.${def.provider}.rpm`, ctx)) });
  return out.filter((l) => l.rpm > 0);
}

/** The rpm guard: one slot per attempt in the current minute window (`windowMs` only shrinks in tests). */
export function rateLimitGuard(db: Db, settings: SettingsStore, ctx: ConfigContext, windowMs = MINUTE): Guard {
  const slots = new Slots(db, 'rateWindows');
  /** Window end by limit key, once a take failed: no need to lock jobs before then. */
  const exhausted = new Map<string, number>();
  return {
    name: 'rate-limit',
    heldBeforeLock(def) {
      const now = Date.now();
      return rateLimits(def, settings, ctx).some((l) => (exhausted.get(l.key) ?? 0) > now);
    },
    async check({ def, jobId }): Promise<GuardDecision> {
      const now = Date.now();
      const window = Math.floor(now / windowMs);
      const windowEnd = (window + 1) * windowMs;
      slots.forget((g) => !g.endsWith(`@${window}`));
      const taken: string[] = [];
      for (const limit of rateLimits(def, settings, ctx)) {
        const id = await slots.take(`${limit.key}@${window}`, limit.rpm, jobId, 2 * windowMs);
        if (!id) {
          for (const t of taken) await slots.release(t, jobId);
          exhausted.set(limit.key, windowEnd);
          // Spread the wake-ups so the next minute is not a stampede.
          return { ok: false, delayMs: windowEnd - now + Math.floor(Math.random() * 500), reason: `rate limit ${limit.rpm}/min (${limit.key})` };
        }
        taken.push(id);
      }
      return {
        ok: true,
        release: async (o) => {
          // An attempt that did not happen gives its slot back.
          if (o.void) for (const t of taken) await slots.release(t, jobId);
        },
      };
    },
  };
}

export interface SlotLease {
  worker: string;
  /** A slot whose holder stopped renewing it for this long is free again (SLOT_LEASE_MS). */
  leaseMs: number;
  onReclaim?(slot: { id: string; group: string; holder: string }): void;
  onError?(err: unknown): void;
}

/**
 * The concurrency guard: one slot per running attempt of a job type, across processes. A slot
 * carries its worker's lease: the worker renews every slot it holds (one write for all of them)
 * every third of the lease, so a killed worker's slots come back one lease later, not after the
 * job's timeout. `stop()` ends the heartbeat.
 */
export function concurrencyGuard(db: Db, settings: SettingsStore, ctx: ConfigContext, lease: SlotLease): Guard & { stop(): void } {
  const slots = new Slots(db, 'concurrencySlots');
  const held = new Set<string>();
  const heartbeat = setInterval(() => {
    slots.renew([...held], lease.worker, lease.leaseMs).catch((err: unknown) => lease.onError?.(err));
  }, Math.max(100, Math.floor(lease.leaseMs / 3)));
  heartbeat.unref();
  return {
    name: 'concurrency',
    stop: () => clearInterval(heartbeat),
    async check({ def, jobId }): Promise<GuardDecision> {
      const limit = Number(effective(settings, `${def.name}.concurrency`, ctx));
      if (!(limit > 0)) return { ok: true };
      const id = await slots.take(`job:${def.name}`, limit, jobId, lease.leaseMs, { reclaimExpired: true, worker: lease.worker, onReclaim: lease.onReclaim });
      if (!id) return { ok: false, delayMs: 500 + Math.floor(Math.random() * 500), reason: `concurrency ${limit} reached` };
      held.add(id);
      return {
        ok: true,
        release: async () => {
          // Not renewed any more even if the delete fails: the lease then frees it.
          held.delete(id);
          await slots.release(id, jobId);
        },
      };
    },
  };
}
