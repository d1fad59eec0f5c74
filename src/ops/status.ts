/**
 * `status`: the whole picture from live documents and rollups, never from history, in one round
 * of four queries: one read of the live jobs (`agendaJobs`: counts per type and state, the oldest
 * queued, the recurring jobs), the last hour's per-minute rollups (src/engine/rollups.ts) for
 * failures and success rates, one count over the open DLQ (closed dead letters live in
 * `deadLetterHistory`), and the breakers. The job states are those of `jobs list`
 * (src/ops/jobStates.ts).
 */
import type { AgendaJobDoc, SwitchboardCollections } from '../db/collections.ts';
import type { JobRegistry } from '../engine/defineJob.ts';
import { readRollups, totalsByJob } from '../engine/rollupStore.ts';
import type { SettingsStore } from '../engine/settings.ts';
import { maskSecrets } from '../util/secrets.ts';
import { stateOf } from './jobStates.ts';
import { viewSwitch, type KillSwitchView } from './killSwitch.ts';

export interface JobTypeStatus {
  job: string;
  queued: number;
  running: number;
  scheduled: number;
  failedLastHour: number;
  /** Successes / finished attempts over 15 minutes; null when none finished. */
  successRate15m: number | null;
  oldestOverdueAt: Date | null;
}

export interface StatusData {
  /** When the numbers were read. */
  at: Date;
  killSwitch: KillSwitchView;
  pausedJobs: string[];
  jobs: JobTypeStatus[];
  dlq: { pending: number; retry_scheduled: number };
  recurring: Array<{ job: string; schedule: string; nextRunAt: Date | null; lastRunAt: Date | null; lastError: string | null }>;
  breakers: Array<{ provider: string; state: string }>;
}

/** What status reads of each live job: one pass over `agendaJobs` serves every count. */
const LIVE_FIELDS = { name: 1, nextRunAt: 1, lockedAt: 1, failCount: 1, lastFinishedAt: 1, lastRunAt: 1, repeatInterval: 1, failReason: 1 } as const;
const RECURRING_SHOWN = 200;

interface LiveCounts {
  byJob: Map<string, Record<'queued' | 'running' | 'scheduled', number>>;
  oldestQueued: Map<string, Date>;
  recurring: AgendaJobDoc[];
}

/**
 * Counts the live jobs per type and state (the states of `jobs list`, src/ops/jobStates.ts), the
 * oldest queued one per type, and the recurring jobs, from one read of the live set. One query,
 * not one per state and per type: on FerretDB v1 every query reads the whole collection, and it
 * has no `$min` accumulator; the live set stays small (finished one-off jobs are retired).
 */
async function countLive(cols: SwitchboardCollections, now: Date): Promise<LiveCounts> {
  const out: LiveCounts = { byJob: new Map(), oldestQueued: new Map(), recurring: [] };
  for await (const j of cols.agendaJobs.find({}, { projection: LIVE_FIELDS })) {
    const state = stateOf(j, now);
    if (state === 'queued' || state === 'running' || state === 'scheduled') {
      const c = out.byJob.get(j.name) ?? { queued: 0, running: 0, scheduled: 0 };
      c[state]++;
      out.byJob.set(j.name, c);
    }
    if (state === 'queued' && j.nextRunAt) {
      const first = out.oldestQueued.get(j.name);
      if (!first || j.nextRunAt < first) out.oldestQueued.set(j.name, j.nextRunAt);
    }
    if (j.repeatInterval && out.recurring.length < RECURRING_SHOWN) out.recurring.push(j);
  }
  return out;
}

/**
 * Computes the status document of DESIGN.md section 7, masked (a recurring job's last error and
 * the kill switch's reason are free text that can quote a credential).
 */
export async function computeStatus(
  cols: SwitchboardCollections,
  jobs: JobRegistry,
  settings: SettingsStore,
  breakers: () => Promise<Array<{ provider: string; state: string }>> = async () => [],
  now = new Date(),
): Promise<StatusData> {
  const hourAgo = new Date(now.getTime() - 3600_000);
  const quarterAgo = new Date(now.getTime() - 15 * 60_000);
  const [live, rollups, dlqRows, breakerList] = await Promise.all([
    countLive(cols, now),
    readRollups(cols, hourAgo, now),
    cols.deadLetters.aggregate([{ $match: { status: { $in: ['pending', 'retry_scheduled'] } } }, { $group: { _id: '$status', n: { $sum: 1 } } }]).toArray(),
    breakers(),
  ]);
  // Whole minutes: the one holding "an hour ago" (or "15 minutes ago") counts.
  const hour = totalsByJob(rollups);
  const quarter = totalsByJob(rollups, quarterAgo);
  const names = new Set<string>(jobs.names());
  for (const k of live.byJob.keys()) names.add(k);
  for (const [job, c] of hour) if (c.failed + c.dead > 0) names.add(job);
  const list: JobTypeStatus[] = [...names].sort().map((job) => {
    const h = hour.get(job);
    const q = quarter.get(job);
    const all = q ? q.ok + q.failed + q.dead : 0;
    return {
      job,
      queued: live.byJob.get(job)?.queued ?? 0,
      running: live.byJob.get(job)?.running ?? 0,
      scheduled: live.byJob.get(job)?.scheduled ?? 0,
      failedLastHour: h ? h.failed + h.dead : 0,
      successRate15m: q && all ? Math.round((q.ok / all) * 1000) / 1000 : null,
      oldestOverdueAt: live.oldestQueued.get(job) ?? null,
    };
  });
  const dlq = { pending: 0, retry_scheduled: 0 };
  for (const r of dlqRows) dlq[r._id as keyof typeof dlq] = Number(r.n);
  return maskSecrets({
    at: now,
    killSwitch: viewSwitch(settings.killSwitch()),
    pausedJobs: settings.pausedJobs(),
    jobs: list,
    dlq,
    recurring: live.recurring.map((r) => ({
      job: r.name,
      schedule: String(r.repeatInterval),
      nextRunAt: r.nextRunAt ?? null,
      lastRunAt: r.lastRunAt ?? null,
      lastError: r.failCount ? (r.failReason ?? null) : null,
    })),
    breakers: breakerList,
  });
}
