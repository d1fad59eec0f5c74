/**
 * `discovery.harvest`: an example of a job that calls an external provider, written the way we
 * want jobs written.
 *
 * - Provider `discovery`: its circuit breaker (`breaker.discovery.*`) and its shared rate limit
 *   (`provider.discovery.rpm`) guard every attempt, and every backfill chunk.
 * - Per item: `GET {base}/items/{item}` → upserted into `discoveries` with `_id` = the item id.
 * - Backfill (`backfill start discovery.harvest --days 7 --limit 100`): one chunk per day, oldest
 *   first: `GET {base}/items?day=YYYY-MM-DD&limit=N`, each item upserted.
 *
 * Idempotency: every write is an upsert keyed by the provider's item id, setting the whole
 * harvested state, so running an item or a day twice (a retry, a chunk re-run after a crash)
 * leaves the same documents. FerretDB v1 upserts are not atomic: two racing upserts of a new id
 * can both try to insert; the loser gets a duplicate-key error and updates instead.
 *
 * The base URL is DISCOVERY_URL, or `baseUrl` in the payload / backfill parameters.
 */
import type { Db } from 'mongodb';
import { z } from 'zod';
import { isDuplicateKey } from '../src/db/insertOnce.ts';
import { defineBackfill, defineJob } from '../src/engine/defineJob.ts';
import { DeferError, NotProviderFaultError, PayloadError } from '../src/engine/errors.ts';
import { HttpStatusError } from './httpInvoke.ts';

/** A harvested item as stored. */
export interface DiscoveryDoc {
  _id: string;
  data: Record<string, unknown>;
  /** The day it was listed under, when it came from a backfill. */
  day?: string;
  firstSeenAt: Date;
  updatedAt: Date;
}

/** Where the provider is, and how long to wait for it. */
export interface DiscoveryOptions {
  /** DISCOVERY_URL: the provider's base URL (a payload's `baseUrl` wins). */
  baseUrl?: string;
  /** Per-request timeout (15 s). */
  timeoutMs?: number;
}

const url = z.url({ protocol: /^https?$/ });
const DAY = /^\d{4}-\d{2}-\d{2}$/;
const itemSchema = z.looseObject({ id: z.union([z.string().min(1), z.number()]).transform(String) });

/** The `discoveries` collection. */
export const discoveries = (db: Db) => db.collection<DiscoveryDoc>('discoveries');

/** Upserts one item by its id (see the idempotency note above). */
export async function upsertDiscovery(db: Db, item: Record<string, unknown> & { id: string }, day?: string): Promise<void> {
  const now = new Date();
  const set: Partial<DiscoveryDoc> = { data: item, updatedAt: now, ...(day ? { day } : {}) };
  try {
    await discoveries(db).updateOne({ _id: item.id }, { $set: set, $setOnInsert: { firstSeenAt: now } }, { upsert: true });
  } catch (err) {
    if (!isDuplicateKey(err)) throw err;
    await discoveries(db).updateOne({ _id: item.id }, { $set: set });
  }
}

/** GETs JSON; classifies failures the way the engine and the breaker need. */
async function getJson(target: URL, signal: AbortSignal, timeoutMs: number, telemetry: (tool: string, d: Record<string, unknown>) => void): Promise<unknown> {
  const started = Date.now();
  const res = await fetch(target, { signal: AbortSignal.any([signal, AbortSignal.timeout(timeoutMs)]), headers: { accept: 'application/json' } });
  const text = await res.text();
  telemetry('discovery', { status: res.status, ms: Date.now() - started, bytes: text.length, path: target.pathname });
  if (res.status === 429 && res.headers.get('retry-after')) {
    // The provider told us when to come back: not a failure, no attempt spent.
    throw new DeferError(Math.min(Number(res.headers.get('retry-after')) * 1000 || 60_000, 3600_000), 'discovery: HTTP 429, retrying after Retry-After');
  }
  if (!res.ok) {
    const err = new HttpStatusError(res.status, text.slice(0, 200).replace(/\s+/g, ' ').trim());
    // A 4xx other than 408/429 is about our request, not the provider's health: no breaker.
    if (res.status >= 400 && res.status < 500 && res.status !== 408 && res.status !== 429) throw new NotProviderFaultError(err.message, { cause: err });
    throw err;
  }
  try {
    return JSON.parse(text);
  } catch {
    throw new Error(`discovery: the answer from ${target.pathname} is not JSON`);
  }
}

function base(explicit: string | undefined, fallback: string | undefined): string {
  const b = explicit ?? fallback;
  if (!b) throw new PayloadError('no discovery provider: set DISCOVERY_URL or pass "baseUrl"');
  return b.endsWith('/') ? b : `${b}/`;
}

/** The UTC days ending at `until` (today by default), oldest first. */
export function dayRange(days: number, until?: string): string[] {
  const end = until ? Date.parse(`${until}T00:00:00Z`) : Date.now();
  return Array.from({ length: days }, (_, k) => new Date(end - (days - 1 - k) * 86_400_000).toISOString().slice(0, 10));
}

/** The job; `baseUrl` from DISCOVERY_URL. */
export function discoveryHarvestJob(opts: DiscoveryOptions = {}) {
  const timeoutMs = opts.timeoutMs ?? 15_000;
  return defineJob({
    name: 'discovery.harvest',
    description: 'Harvests one item from the discovery provider into `discoveries`; backfill by day.',
    payload: z.object({ item: z.string().trim().min(1).max(200), baseUrl: url.optional() }),
    provider: 'discovery',
    retry: { maxAttempts: 5, backoffMs: 5_000 },
    timeoutMs: 2 * timeoutMs,
    async handler({ payload, db, signal, count, telemetry }) {
      const target = new URL(`items/${encodeURIComponent(payload.item)}`, base(payload.baseUrl, opts.baseUrl));
      const parsed = itemSchema.safeParse(await getJson(target, signal, timeoutMs, telemetry));
      if (!parsed.success) throw new Error(`discovery: item ${payload.item} has no id in the answer`);
      await upsertDiscovery(db, parsed.data);
      count('upserted');
    },
    backfill: defineBackfill({
      params: z.object({
        days: z.coerce.number().int().min(1).max(366).default(7),
        limit: z.coerce.number().int().min(1).max(1000).default(100),
        /** The last day (UTC, YYYY-MM-DD); today by default. */
        until: z.string().regex(DAY, 'expected YYYY-MM-DD').optional(),
        baseUrl: url.optional(),
      }),
      plan: (p) => {
        base(p.baseUrl, opts.baseUrl); // refuse at start, not at the first chunk
        return dayRange(p.days, p.until).map((day) => ({ day }));
      },
      async runChunk(chunk: { day: string }, { params, db, signal, count, telemetry }) {
        const target = new URL('items', base(params.baseUrl, opts.baseUrl));
        target.searchParams.set('day', chunk.day);
        target.searchParams.set('limit', String(params.limit));
        const body = await getJson(target, signal, timeoutMs, telemetry);
        const list = z.union([z.array(itemSchema), z.object({ items: z.array(itemSchema) }).transform((o) => o.items)]).safeParse(body);
        if (!list.success) throw new Error(`discovery: the list for ${chunk.day} is not { items: [{ id }] }`);
        for (const item of list.data.slice(0, params.limit)) await upsertDiscovery(db, item, chunk.day);
        count('upserted', Math.min(list.data.length, params.limit));
      },
    }),
  });
}
