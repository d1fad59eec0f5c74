/**
 * `status`: the whole picture in a handful of indexed aggregations, never by loading jobs:
 * one per job state, two over recent runs, one over the DLQ, one for recurring jobs.
 */
import type { Document } from 'mongodb';
import type { SwitchboardCollections } from '../db/collections.ts';
import type { JobRegistry } from '../engine/defineJob.ts';
import type { SettingsStore, SwitchState } from '../engine/settings.ts';
import { maskSecrets } from '../util/secrets.ts';

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
  killSwitch: { active: boolean; reason: string | null; by: string | null; at: Date | null };
  pausedJobs: string[];
  jobs: JobTypeStatus[];
  dlq: { pending: number; retry_scheduled: number };
  recurring: Array<{ job: string; schedule: string; nextRunAt: Date | null; lastRunAt: Date | null; lastError: string | null }>;
  breakers: Array<{ provider: string; state: string }>;
}

type Grouped = Map<string, Document>;

async function groupBy(cols: SwitchboardCollections, coll: 'agendaJobs' | 'jobRuns', match: Document, group: Document): Promise<Grouped> {
  const rows = await cols[coll].aggregate([{ $match: match }, { $group: group }]).toArray();
  return new Map(rows.map((r) => [typeof r._id === 'object' && r._id ? `${r._id.name}|${r._id.outcome}` : String(r._id), r]));
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
  const [queued, running, scheduled, failed, finished, dlqRows, recurring, breakerList] = await Promise.all([
    groupBy(cols, 'agendaJobs', { nextRunAt: { $lte: now }, lockedAt: null }, { _id: '$name', n: { $sum: 1 } }),
    groupBy(cols, 'agendaJobs', { lockedAt: { $ne: null } }, { _id: '$name', n: { $sum: 1 } }),
    groupBy(cols, 'agendaJobs', { nextRunAt: { $gt: now } }, { _id: '$name', n: { $sum: 1 } }),
    groupBy(cols, 'jobRuns', { startedAt: { $gte: hourAgo }, outcome: { $in: ['failed', 'dead'] } }, { _id: '$jobName', n: { $sum: 1 } }),
    groupBy(cols, 'jobRuns', { startedAt: { $gte: quarterAgo }, outcome: { $in: ['success', 'failed', 'dead'] } }, {
      _id: { name: '$jobName', outcome: '$outcome' },
      n: { $sum: 1 },
    }),
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
      const first = await cols.agendaJobs.findOne({ name, nextRunAt: { $lte: now }, lockedAt: null }, { sort: { nextRunAt: 1 }, projection: { nextRunAt: 1 } });
      if (first?.nextRunAt) oldest.set(name, first.nextRunAt);
    }),
  );
  const names = new Set<string>(jobs.names());
  for (const m of [queued, running, scheduled, failed]) for (const k of m.keys()) names.add(k);
  const n = (m: Grouped, k: string) => Number(m.get(k)?.n ?? 0);
  const list: JobTypeStatus[] = [...names].sort().map((job) => {
    const ok = n(finished, `${job}|success`);
    const all = ok + n(finished, `${job}|failed`) + n(finished, `${job}|dead`);
    return {
      job,
      queued: n(queued, job),
      running: n(running, job),
      scheduled: n(scheduled, job),
      failedLastHour: n(failed, job),
      successRate15m: all ? Math.round((ok / all) * 1000) / 1000 : null,
      oldestOverdueAt: oldest.get(job) ?? null,
    };
  });
  const ks: SwitchState = settings.killSwitch();
  const dlq = { pending: 0, retry_scheduled: 0 };
  for (const r of dlqRows) dlq[r._id as keyof typeof dlq] = Number(r.n);
  return maskSecrets({
    killSwitch: { active: ks.active, reason: ks.reason ?? null, by: ks.by?.name ?? null, at: ks.at ? new Date(ks.at) : null },
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
