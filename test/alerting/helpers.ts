/** Seeding and recording helpers for the alerting tests. */
import { ObjectId, type Db } from 'mongodb';
import { z } from 'zod';
import type { AlertEvent, Notifier } from '../../src/alerting/types.ts';
import { defineRule, duration, type AlertRule, type Breach, type RuleContext } from '../../src/alerting/rule.ts';
import { collections, type ErrorInfo, type JobRunDoc, type RunOutcome } from '../../src/db/collections.ts';
import { JobRegistry, type JobDefinition } from '../../src/engine/defineJob.ts';
import { addRun, minuteOf, newRollup, rollupId, type RunRollupDoc } from '../../src/engine/rollups.ts';
import { silentLogger } from '../../src/log.ts';
import { liveJobsOnce } from '../../src/alerting/ruleQueries.ts';

/** A notifier that records every event it gets. */
export interface RecordingNotifier extends Notifier {
  events: AlertEvent[];
  kinds(key?: string): string[];
  clear(): void;
}

/** A plain object implementing Notifier that records events. */
export function recordingNotifier(name = 'recorder'): RecordingNotifier {
  const events: AlertEvent[] = [];
  return {
    name,
    events,
    async notify(event) {
      events.push(structuredClone(event));
    },
    kinds(key) {
      return events.filter((e) => !key || e.alert.key === key).map((e) => e.kind);
    },
    clear() {
      events.length = 0;
    },
  };
}

/**
 * Inserts run records: `n` attempts of `job` with `outcome`, started at `at` (or spread by
 * `spreadMs`), and the per-minute rollups a worker would have written for them (seedRollups).
 */
export async function seedRuns(
  db: Db,
  job: string,
  n: number,
  outcome: RunOutcome,
  at: Date,
  extra: { error?: ErrorInfo | ((i: number) => ErrorInfo); spreadMs?: number; timeoutMs?: number; jobId?: string } = {},
): Promise<JobRunDoc[]> {
  const docs: JobRunDoc[] = Array.from({ length: n }, (_, i) => {
    const startedAt = new Date(at.getTime() - i * (extra.spreadMs ?? 0));
    const error = typeof extra.error === 'function' ? extra.error(i) : extra.error;
    return {
      _id: new ObjectId(),
      jobId: extra.jobId ?? new ObjectId().toHexString(),
      jobName: job,
      attempt: 1,
      startedAt,
      ...(outcome === 'running' ? {} : { finishedAt: new Date(startedAt.getTime() + 20), durationMs: 20 }),
      outcome,
      ...(error ? { error } : outcome === 'failed' || outcome === 'dead' ? { error: { message: 'HTTP 500 Internal Server Error', class: 'HttpError' } } : {}),
      counts: {},
      telemetry: [],
      worker: 'test',
      timeoutMs: extra.timeoutMs ?? 60_000,
    };
  });
  if (docs.length) await collections(db).jobRuns.insertMany(docs);
  await seedRollups(db, docs);
  return docs;
}

let seedWorker = 0;

/**
 * Inserts the rollups of these runs as one worker of their own would have written them: each
 * attempt started in the minute it started, its outcome counted in the minute it finished.
 */
export async function seedRollups(db: Db, runs: JobRunDoc[]): Promise<void> {
  const worker = `seed-${++seedWorker}`;
  const docs = new Map<string, Omit<RunRollupDoc, 'updatedAt'>>();
  const at = (job: string, t: Date) => {
    const d = docs.get(rollupId(job, minuteOf(t), worker)) ?? newRollup(job, minuteOf(t), worker);
    docs.set(d._id, d);
    return d;
  };
  for (const r of runs) {
    at(r.jobName, r.startedAt).started++;
    if (r.finishedAt) addRun(at(r.jobName, r.finishedAt), r, r.finishedAt);
  }
  if (docs.size) await collections(db).runRollups.insertMany([...docs.values()].map((d) => ({ ...d, updatedAt: new Date() })));
}

/** Always-fine operational settings for rules. */
export const calmSettings = { pausedJobs: () => [] as string[], killSwitch: () => ({ active: false }) };

/** A RuleContext over a test database. */
export function ruleContext<P>(db: Db, now: Date, params: P, opts: { jobs?: JobDefinition[]; settings?: RuleContext<P>['settings']; lockLifetimeMs?: number } = {}): RuleContext<P> {
  return { now, params, db, cols: collections(db), jobs: new JobRegistry(opts.jobs ?? []), settings: opts.settings ?? calmSettings, lockLifetimeMs: opts.lockLifetimeMs ?? 60_000, liveJobs: liveJobsOnce(collections(db), now) };
}

/** A rule's default parameters, with overrides. */
export function paramsOf(rule: AlertRule, overrides: Record<string, unknown> = {}): never {
  return { ...(rule.params.parse({}) as object), ...overrides } as never;
}

/** A rule whose breaches the test sets by hand (`rule.breaches = [...]`). */
export function manualRule(name = 'manual', opts: { triage?: boolean } = {}): AlertRule & { breaches: Breach[] } {
  const holder = { breaches: [] as Breach[] };
  const rule = defineRule({
    name,
    description: 'Breaches set by the test',
    params: z.object({ window: duration('10m', 'Clear time before resolving') }),
    clearAfter: (p) => p.window,
    actions: ['retry-dlq', 'pause-job'],
    triage: opts.triage,
    evaluate: async () => holder.breaches,
  });
  return {
    ...rule,
    get breaches() {
      return holder.breaches;
    },
    set breaches(b: Breach[]) {
      holder.breaches = b;
    },
  };
}

/** A breach of job `job` with `count`. */
export function breach(job: string, count: number): Breach {
  return { subject: job, job, count, title: `Trouble: ${job}`, summary: `${count} problems with ${job}`, facts: [{ label: 'Job', value: job }] };
}

export const quietLog = silentLogger();

export const minutes = (n: number) => n * 60_000;
