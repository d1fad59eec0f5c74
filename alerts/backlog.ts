/**
 * `backlog`: jobs of a type that are due but not started, too many or waiting too long. Counted
 * from the evaluation's one read of the live jobs (all due; due for longer than `max_age`).
 */
import { z } from 'zod';
import { count, defineRule, duration, type Breach } from '../src/alerting/rule.ts';
import { plural, type LiveJob } from '../src/alerting/ruleQueries.ts';
import { formatDuration } from '../src/util/duration.ts';

/** Due, unlocked, enabled jobs per type: all of them, and those due since before `before`. */
function dueByJob(live: LiveJob[], now: Date, before: Date): { due: Map<string, number>; old: Map<string, number> } {
  const due = new Map<string, number>();
  const old = new Map<string, number>();
  for (const j of live) {
    if (!j.nextRunAt || j.nextRunAt > now || j.lockedAt || j.disabled) continue;
    due.set(j.name, (due.get(j.name) ?? 0) + 1);
    if (j.nextRunAt <= before) old.set(j.name, (old.get(j.name) ?? 0) + 1);
  }
  return { due, old };
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
  async evaluate({ now, params, settings, liveJobs }) {
    if (settings.killSwitch().active) return [];
    const paused = new Set(settings.pausedJobs());
    const { due, old } = dueByJob(await liveJobs(), now, new Date(now.getTime() - params.max_age));
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
