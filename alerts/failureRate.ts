/** `failure-rate`: failed attempts / all finished attempts of a job type over a window. */
import { z } from 'zod';
import { count, defineRule, duration, type Breach } from '../src/alerting/rule.ts';
import { pct, runOutcomesByJob } from '../src/alerting/ruleQueries.ts';
import { formatDuration } from '../src/util/duration.ts';

/** The rule, for alerts/index.ts. */
export default defineRule({
  name: 'failure-rate',
  description: 'Share of failed attempts of a job type over a window (only with enough attempts)',
  params: z.object({
    threshold: count(0.05, 'Failure ratio the rule fires above (0.05 = 5 %)', { max: 1 }),
    window: duration('15m', 'Attempts that finished within this window (whole minutes) count; also how long it must stay clear to resolve'),
    min_attempts: count(20, 'Fewer finished attempts than this in the window never fire', { int: true }),
  }),
  clearAfter: (p) => p.window,
  actions: ['retry-dlq', 'pause-job'],
  triage: true,
  async evaluate({ now, params, cols }) {
    const byJob = await runOutcomesByJob(cols, new Date(now.getTime() - params.window), now);
    const out: Breach[] = [];
    for (const [job, c] of byJob) {
      const failed = c.failed + c.dead;
      const total = failed + c.success;
      if (total < params.min_attempts || total === 0 || failed / total <= params.threshold) continue;
      const win = formatDuration(params.window);
      out.push({
        subject: job,
        job,
        count: failed,
        title: `High failure rate: ${job}`,
        summary: `${failed} of ${total} attempts of ${job} failed in ${win} (${pct(failed / total)}; fires above ${pct(params.threshold)})`,
        facts: [
          { label: 'Job', value: job },
          { label: 'Failure rate', value: `${pct(failed / total)} over ${win}` },
          { label: 'Attempts', value: `${total} (${c.success} ok, ${c.failed} failed, ${c.dead} dead-lettered)` },
          { label: 'Threshold', value: `> ${pct(params.threshold)} with ≥ ${params.min_attempts} attempts` },
        ],
      });
    }
    return out;
  },
});
