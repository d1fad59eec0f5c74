/**
 * `backlog`: jobs of a type that are due but not started, too many or waiting too long. Two
 * grouped counts (all due; due for longer than `max_age`), whatever the number of job types.
 */
import { z } from 'zod';
import { count, defineRule, duration, type Breach } from '../src/alerting/rule.ts';
import { plural } from '../src/alerting/ruleQueries.ts';
import type { SwitchboardCollections } from '../src/db/collections.ts';
import { formatDuration } from '../src/util/duration.ts';

async function dueByJob(cols: SwitchboardCollections, dueBy: Date): Promise<Map<string, number>> {
  const rows = await cols.agendaJobs
    .aggregate<{ _id: string; n: number }>([
      { $match: { nextRunAt: { $lte: dueBy }, lockedAt: null, disabled: { $ne: true } } },
      { $group: { _id: '$name', n: { $sum: 1 } } },
    ])
    .toArray();
  return new Map(rows.map((r) => [r._id, Number(r.n)]));
}

/** The rule, for alerts/index.ts. */
export default defineRule({
  name: 'backlog',
  description: 'Due-but-not-started jobs of a type above a threshold, or any of them waiting beyond a limit (paused types and an active kill switch are left out)',
  params: z.object({
    threshold: count(20, 'Due jobs of one type the rule fires above', { int: true }),
    max_age: duration('10m', 'Fires when a due job has waited longer than this'),
    clear_after: duration('10m', 'How long the backlog must stay under both limits to resolve'),
  }),
  clearAfter: (p) => p.clear_after,
  actions: ['pause-job'],
  async evaluate({ now, params, cols, settings }) {
    if (settings.killSwitch().active) return [];
    const paused = new Set(settings.pausedJobs());
    const [due, old] = await Promise.all([dueByJob(cols, now), dueByJob(cols, new Date(now.getTime() - params.max_age))]);
    const out: Breach[] = [];
    const age = formatDuration(params.max_age);
    for (const [job, n] of due) {
      const waiting = old.get(job) ?? 0;
      if (paused.has(job) || (n <= params.threshold && waiting === 0)) continue;
      out.push({
        subject: job,
        job,
        count: n,
        title: `Backlog: ${job}`,
        summary: `${plural(n, 'job')} of ${job} due and not started; ${waiting} waiting over ${age}`,
        facts: [
          { label: 'Job', value: job },
          { label: 'Due, not started', value: `${n} (fires above ${params.threshold})` },
          { label: `Waiting over ${age}`, value: String(waiting) },
        ],
        hint: 'Check that workers are running and not held by a breaker or rate limit; raise concurrency (`config set JOB.concurrency N`) if the load is real.',
      });
    }
    return out;
  },
});
