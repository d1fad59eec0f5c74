/**
 * `stale-recurring`: a recurring job (a definition with `schedule`) that has not succeeded within
 * N of its intervals, judged by its last success in the per-minute rollups (`runRollups`).
 */
import { z } from 'zod';
import type { AgendaJobDoc } from '../src/db/collections.ts';
import type { RunRollupDoc } from '../src/engine/rollups.ts';
import { edgeRollup, readRollups } from '../src/engine/rollupStore.ts';
import { count, defineRule, duration, type Breach } from '../src/alerting/rule.ts';
import { fmtDate, truncate } from '../src/chat/reply.ts';
import { formatDuration, parseDuration } from '../src/util/duration.ts';

/** The interval of a recurring job in ms: Agenda's number or words, else the gap between its last and next run (cron). */
export function intervalMs(job: Partial<Pick<AgendaJobDoc, 'repeatInterval' | 'lastRunAt' | 'nextRunAt'>>): number | undefined {
  const every = job.repeatInterval;
  if (typeof every === 'number' && every > 0) return every;
  if (typeof every === 'string') {
    const words = every.trim().replace(/^(an?|one)\s+/i, '1 ');
    const ms = /^\d+$/.test(words) ? Number(words) : parseDuration(words);
    if (ms && ms > 0) return ms;
  }
  if (job.lastRunAt && job.nextRunAt && job.nextRunAt > job.lastRunAt) return job.nextRunAt.getTime() - job.lastRunAt.getTime();
  return undefined;
}

/** When a rollup's last success finished (its minute's start if it does not say). */
const lastSuccess = (r: Pick<RunRollupDoc, 'minute' | 'lastOkAt'>): Date => r.lastOkAt ?? r.minute;

/** The rule, for alerts/index.ts. */
export default defineRule({
  name: 'stale-recurring',
  description: 'A recurring job that has not succeeded within N of its intervals (paused types, disabled jobs and an active kill switch are left out)',
  params: z.object({
    intervals: count(3, 'Intervals without a success the rule fires after', { int: true, min: 1 }),
    clear_after: duration('0s', 'How long after a success before the alert resolves'),
  }),
  clearAfter: (p) => p.clear_after,
  actions: [],
  async evaluate({ now, params, cols, jobs, settings, liveJobs }) {
    if (settings.killSwitch().active) return [];
    const paused = new Set(settings.pausedJobs());
    const names = jobs.list().filter((d) => d.schedule && !paused.has(d.name)).map((d) => d.name);
    if (!names.length) return [];
    const wanted = new Set(names);
    const docs = (await liveJobs()).filter((j) => wanted.has(j.name) && j.repeatInterval !== undefined);
    const recurring = new Map<string, { job: (typeof docs)[number]; every: number; limit: number }>();
    for (const job of docs) {
      const every = intervalMs(job);
      if (!job.disabled && every && !recurring.has(job.name)) recurring.set(job.name, { job, every, limit: params.intervals * every });
    }
    if (!recurring.size) return [];
    // One query for every job's successes within its own limit (the widest limit bounds it).
    const widest = Math.max(...[...recurring.values()].map((r) => r.limit));
    const successes = await readRollups(cols, new Date(now.getTime() - widest), now, { job: { $in: [...recurring.keys()] }, ok: { $gt: 0 } });
    const fine = new Set(successes.filter((s) => now.getTime() - lastSuccess(s).getTime() <= recurring.get(s.job)!.limit).map((s) => s.job));

    const out: Breach[] = [];
    for (const [name, { job, every, limit }] of recurring) {
      if (fine.has(name)) continue;
      // Never run and not yet overdue: too early to tell, without a query.
      if (!job.lastRunAt && (!job.nextRunAt || now.getTime() - job.nextRunAt.getTime() <= limit)) continue;
      const last = await edgeRollup(cols, { job: name, minute: { $lte: now }, ok: { $gt: 0 } }, -1);
      let since = last ? lastSuccess(last) : undefined;
      if (!since) {
        // Never succeeded: late since its first attempt on record, else since it was first due.
        const first = await edgeRollup(cols, { job: name, minute: { $lte: now } }, 1);
        since = first?.minute ?? job.nextRunAt ?? undefined;
      }
      if (!since) continue;
      const late = now.getTime() - since.getTime();
      if (late <= limit) continue;
      const missed = Math.floor(late / every);
      out.push({
        subject: name,
        job: name,
        count: missed,
        title: `Recurring job not succeeding: ${name}`,
        summary: `${name} (every ${formatDuration(every)}) has not succeeded for ${formatDuration(late)}: ${missed} intervals (fires after ${params.intervals})`,
        facts: [
          { label: 'Job', value: name },
          { label: 'Schedule', value: `${String(job.repeatInterval)} (${formatDuration(every)})` },
          { label: 'Last success', value: last ? fmtDate(since) : 'none on record' },
          { label: 'Last run', value: fmtDate(job.lastRunAt) },
          { label: 'Next run', value: fmtDate(job.nextRunAt) },
          ...(job.failReason ? [{ label: 'Last error', value: truncate(job.failReason, 200) }] : []),
        ],
        hint: `Look at its last runs (\`jobs list --job ${name}\`); run it now with \`jobs run ${name}\` once fixed.`,
      });
    }
    return out;
  },
});
