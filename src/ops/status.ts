/**
 * `status`: the whole picture from live documents and rollups, never from history: one grouped
 * count per job state over `agendaJobs`, the last hour's per-minute rollups (src/engine/rollups.ts)
 * for failures and success rates, one count over the open DLQ (closed dead letters live in
 * `deadLetterHistory`), one query for recurring jobs. The job states are those of `jobs list`
 * (src/ops/jobStates.ts).
 */
import type { Document, Filter } from 'mongodb';
import type { AgendaJobDoc, SwitchboardCollections } from '../db/collections.ts';
import type { JobRegistry } from '../engine/defineJob.ts';
import { readRollups, totalsByJob } from '../engine/rollupStore.ts';
import type { SettingsStore } from '../engine/settings.ts';
import { maskSecrets } from '../util/secrets.ts';
import { stateFilter } from './jobStates.ts';
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

type Grouped = Map<string, Document>;

async function countByJob(cols: SwitchboardCollections, match: Filter<AgendaJobDoc>): Promise<Grouped> {
  const rows = await cols.agendaJobs.aggregate([{ $match: match }, { $group: { _id: '$name', n: { $sum: 1 } } }]).toArray();
  return new Map(rows.map((r) => [String(r._id), r]));
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
): Promise<StatusData> {
  const now = new Date();
  const hourAgo = new Date(now.getTime() - 3600_000);
  const quarterAgo = new Date(now.getTime() - 15 * 60_000);
  const [queued, running, scheduled, rollups, dlqRows, recurring, breakerList] = await Promise.all([
    countByJob(cols, stateFilter('queued', now)),
    countByJob(cols, stateFilter('running', now)),
    countByJob(cols, stateFilter('scheduled', now)),
    readRollups(cols, hourAgo, now),
    cols.deadLetters.aggregate([{ $match: { status: { $in: ['pending', 'retry_scheduled'] } } }, { $group: { _id: '$status', n: { $sum: 1 } } }]).toArray(),
    cols.agendaJobs
      .find({ repeatInterval: { $exists: true, $nin: [null as never, ''] } }, { projection: { name: 1, repeatInterval: 1, nextRunAt: 1, lastRunAt: 1, failReason: 1, failCount: 1 } })
      .limit(200)
      .toArray(),
    breakers(),
  ]);

  // FerretDB v1 has no $min accumulator: one indexed query per job type with a backlog.
  const oldest = new Map<string, Date>();
  await Promise.all(
    [...queued.keys()].map(async (name) => {
      const first = await cols.agendaJobs.findOne({ name, ...stateFilter('queued', now) }, { sort: { nextRunAt: 1 }, projection: { nextRunAt: 1 } });
      if (first?.nextRunAt) oldest.set(name, first.nextRunAt);
    }),
  );
  // Whole minutes: the one holding "an hour ago" (or "15 minutes ago") counts.
  const hour = totalsByJob(rollups);
  const quarter = totalsByJob(rollups, quarterAgo);
  const names = new Set<string>(jobs.names());
  for (const m of [queued, running, scheduled]) for (const k of m.keys()) names.add(k);
  for (const [job, c] of hour) if (c.failed + c.dead > 0) names.add(job);
  const n = (m: Grouped, k: string) => Number(m.get(k)?.n ?? 0);
  const list: JobTypeStatus[] = [...names].sort().map((job) => {
    const h = hour.get(job);
    const q = quarter.get(job);
    const all = q ? q.ok + q.failed + q.dead : 0;
    return {
      job,
      queued: n(queued, job),
      running: n(running, job),
      scheduled: n(scheduled, job),
      failedLastHour: h ? h.failed + h.dead : 0,
      successRate15m: q && all ? Math.round((q.ok / all) * 1000) / 1000 : null,
      oldestOverdueAt: oldest.get(job) ?? null,
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
    recurring: recurring.map((r) => ({
      job: r.name,
      schedule: String(r.repeatInterval),
      nextRunAt: r.nextRunAt ?? null,
      lastRunAt: r.lastRunAt ?? null,
      lastError: r.failCount ? (r.failReason ?? null) : null,
    })),
    breakers: breakerList,
  });
}
