/**
 * `inbox.generate`: an example of per-user generation, written the way we want jobs written.
 *
 * For each user (collection `users`, oldest first; one with `user`, the first `limit` otherwise)
 * it asks a generator for observations and inserts them into `inbox`, respecting:
 * - queue capacity: at most `queue` (3) open items per user; a full queue is skipped;
 * - a dedupe window: no observation whose dedupe key the user got within `window` (14) days.
 *
 * Idempotency: a re-run with the same parameters inserts nothing new — the open items fill the
 * queue, and whatever has room again is caught by the dedupe window. The insert itself is the
 * last word: `_id` = user + key + day, so even two racing runs (or a retry after a crash between
 * two inserts) cannot insert the same observation twice on a day; a duplicate-key error counts as
 * skipped. (A unique `_id` insert is the one atomic write on FerretDB v1.) Queue capacity is
 * checked before inserting, so the job runs one at a time (`concurrency: 1`).
 *
 * Generators: deterministic by default (derived from the user and the day: no network, same
 * answer every time); with OPENAI_API_KEY the `openai` client (OPENAI_BASE_URL, OPENAI_MODEL,
 * strict timeout, no retries). A generator failure is counted in `errors` for that user, who gets
 * nothing this run (no fallback: a re-run fills the gap); if it fails for every user the run fails,
 * and is retried. Counts: users, inserted, skipped, queue_full, errors; telemetry per call:
 * `generator` { model, tokens?, ms, user }.
 */
import { createHash } from 'node:crypto';
import OpenAI from 'openai';
import { ObjectId, type Filter } from 'mongodb';
import { z } from 'zod';
import type { IndexPlan } from '../src/db/collections.ts';
import { insertOnce } from '../src/db/insertOnce.ts';
import { defineJob } from '../src/engine/defineJob.ts';

/** A user as this job reads it (collection `users`). */
export interface UserDoc {
  _id: string | ObjectId;
  name?: string;
  createdAt: Date;
}

/** One observation in a user's inbox (collection `inbox`). */
export interface InboxDoc {
  /** `${user}:${key}:${day}`: the dedupe decision of last resort. */
  _id: string;
  user: string;
  key: string;
  title: string;
  body: string;
  status: 'open' | 'confirmed' | 'dismissed';
  day: string;
  generator: string;
  createdAt: Date;
}

/** One suggestion; `key` names what it is about (a topic), for the dedupe window. */
export interface Observation {
  key: string;
  title: string;
  body: string;
}

/** What a generator is asked for one user. */
export interface GenerateInput {
  user: { id: string; name: string };
  /** UTC day, YYYY-MM-DD. */
  day: string;
  /** How many the queue has room for. */
  count: number;
  /** Keys the user got within the window (a hint: the job filters them anyway). */
  avoid: string[];
  signal: AbortSignal;
}

/** Pluggable: the deterministic one, the OpenAI one, or your own. */
export interface ObservationGenerator {
  model: string;
  generate(input: GenerateInput): Promise<{ observations: Observation[]; tokens?: number; model?: string }>;
}

const DAY_MS = 86_400_000;
const TOPICS = ['sleep', 'focus', 'energy', 'stress', 'movement', 'connection', 'gratitude', 'boundaries', 'rest', 'learning', 'nature', 'creativity'];

/** Keys are compared normalised: lower case, dashes. */
export const normaliseKey = (k: string) => k.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '').slice(0, 64) || 'untitled';

/** Derived from the user and the day only: `count` topics picked by a hash. Ignores `avoid`. */
export function deterministicGenerator(): ObservationGenerator {
  return {
    model: 'deterministic',
    async generate({ user, day, count }) {
      const seed = createHash('sha256').update(`${user.id}:${day}`).digest();
      const pool = [...TOPICS];
      const picked: Observation[] = [];
      for (let i = 0; i < Math.min(count, pool.length); i++) {
        const [topic] = pool.splice(seed[i] % pool.length, 1);
        picked.push({ key: topic, title: `${user.name}, how is your ${topic} lately?`, body: `A short check-in about ${topic} for ${day}.` });
      }
      return { observations: picked };
    },
  };
}

const aiAnswer = z.object({
  observations: z.array(z.object({ key: z.string().min(1), title: z.string().min(1).max(300), body: z.string().max(2000).default('') })),
});

/** Asks an OpenAI-compatible chat model; strict timeout, no retries (the job's retry decides). */
export function openAiGenerator(opts: { apiKey: string; baseURL?: string; model: string; timeoutMs?: number }): ObservationGenerator {
  const timeout = opts.timeoutMs ?? 20_000;
  const client = new OpenAI({ apiKey: opts.apiKey, baseURL: opts.baseURL, timeout, maxRetries: 0 });
  return {
    model: opts.model,
    async generate({ user, day, count, avoid, signal }) {
      const res = await client.chat.completions.create(
        {
          model: opts.model,
          temperature: 0.2,
          response_format: { type: 'json_object' },
          messages: [
            { role: 'system', content: 'You write short, kind check-in observations for a personal inbox. Reply with JSON only: {"observations":[{"key":"<one-word topic>","title":"...","body":"..."}]}.' },
            { role: 'user', content: `User: ${user.name}. Day: ${day}. Write at most ${count}. Avoid these topics: ${avoid.join(', ') || 'none'}.` },
          ],
        },
        { timeout, maxRetries: 0, signal: AbortSignal.any([signal, AbortSignal.timeout(timeout + 250)]) },
      );
      const content = res.choices?.[0]?.message?.content;
      if (typeof content !== 'string') throw new Error('the answer has no message content');
      const parsed = aiAnswer.safeParse(JSON.parse(content.replace(/^```(?:json)?\s*|\s*```$/g, '')));
      if (!parsed.success) throw new Error(`the answer is not {observations:[{key,title,body}]}: ${parsed.error.issues[0]?.message}`);
      return { observations: parsed.data.observations, tokens: res.usage?.total_tokens, model: res.model || opts.model };
    },
  };
}

/** The indexes of the collections this module owns (collected by src/app/schema.ts). */
export const inboxIndexes: IndexPlan = {
  inbox: [
    { key: { user: 1, status: 1 }, name: 'user_status' },
    { key: { user: 1, createdAt: -1 }, name: 'user_createdAt' },
  ],
};

/** `{ user?, limit?, queue = 3, window = 14 days }`. */
export const inboxPayload = z.object({
  user: z.string().min(1).optional(),
  limit: z.number().int().min(1).optional(),
  queue: z.number().int().min(0).max(50).default(3),
  window: z.number().int().min(0).max(365).default(14),
});

function userFilter(user: string | undefined): Filter<UserDoc> {
  if (!user) return {};
  return ObjectId.isValid(user) && user.length === 24 ? { _id: { $in: [user, new ObjectId(user)] } } : { _id: user };
}

/** The job, with `generator` if given, else OpenAI when `openai.apiKey` is set, else deterministic. */
export function inboxGenerateJob(opts: { generator?: ObservationGenerator; openai?: { apiKey?: string; baseURL?: string; model: string; timeoutMs?: number } } = {}) {
  const generator =
    opts.generator ?? (opts.openai?.apiKey ? openAiGenerator({ ...opts.openai, apiKey: opts.openai.apiKey }) : deterministicGenerator());
  return defineJob({
    name: 'inbox.generate',
    description: 'Generates inbox observations per user, within queue capacity and a dedupe window.',
    payload: inboxPayload,
    concurrency: 1,
    retry: { maxAttempts: 3, backoffMs: 30_000 },
    timeoutMs: 15 * 60_000,
    async handler({ payload, db, signal, count, telemetry, log }) {
      const inbox = db.collection<InboxDoc>('inbox');
      const now = new Date();
      const day = now.toISOString().slice(0, 10);
      const since = new Date(now.getTime() - payload.window * DAY_MS);
      const users = await db.collection<UserDoc>('users').find(userFilter(payload.user)).sort({ createdAt: 1, _id: 1 }).limit(payload.limit ?? 0).toArray();
      let asked = 0;
      let failed = 0;
      for (const u of users) {
        if (signal.aborted) throw signal.reason;
        const uid = String(u._id);
        count('users');
        const room = payload.queue - (await inbox.countDocuments({ user: uid, status: 'open' }));
        if (room <= 0) {
          count('queue_full');
          continue;
        }
        const recent = new Set((await inbox.find({ user: uid, createdAt: { $gte: since } }, { projection: { key: 1 } }).toArray()).map((d) => d.key));
        const started = Date.now();
        asked++;
        let out: Awaited<ReturnType<ObservationGenerator['generate']>>;
        try {
          out = await generator.generate({ user: { id: uid, name: u.name ?? uid }, day, count: room, avoid: [...recent], signal });
        } catch (err) {
          if (signal.aborted) throw signal.reason;
          failed++;
          count('errors');
          telemetry('generator', { model: generator.model, ms: Date.now() - started, user: uid, error: err instanceof Error ? err.message : String(err) });
          log.warn({ user: uid, err: err instanceof Error ? err.message : String(err) }, 'generator failed for a user');
          continue;
        }
        telemetry('generator', { model: out.model ?? generator.model, ...(out.tokens !== undefined ? { tokens: out.tokens } : {}), ms: Date.now() - started, user: uid });
        let left = room;
        for (const o of out.observations) {
          if (left <= 0) break;
          const key = normaliseKey(o.key);
          if (recent.has(key)) {
            count('skipped');
            continue;
          }
          const doc: InboxDoc = { _id: `${uid}:${key}:${day}`, user: uid, key, title: o.title, body: o.body, status: 'open', day, generator: out.model ?? generator.model, createdAt: new Date() };
          if (await insertOnce(inbox, doc)) {
            count('inserted');
            recent.add(key);
            left--;
          } else {
            count('skipped');
          }
        }
      }
      if (asked > 0 && failed === asked) throw new Error(`the generator (${generator.model}) failed for all ${asked} users`);
    },
  });
}
