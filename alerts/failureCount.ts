/** `failure-count`: failed attempts of a job type over a window. */
import { z } from 'zod';
import { count, defineRule, duration, type Breach } from '../src/alerting/rule.ts';
import { runOutcomesByJob } from '../src/alerting/ruleQueries.ts';
import { formatDuration } from '../src/util/duration.ts';

/** The rule, for alerts/index.ts. */
export default defineRule({
  name: 'failure-count',
  description: 'Failed attempts of a job type over a window',
  params: z.object({
    threshold: count(10, 'Failures in the window the rule fires above', { int: true }),
    window: duration('1h', 'Attempts that finished within this window (whole minutes) count; also how long it must stay clear to resolve'),
  }),
  clearAfter: (p) => p.window,
  actions: ['retry-dlq', 'pause-job'],
  triage: true,
  async evaluate({ now, params, cols }) {
    const byJob = await runOutcomesByJob(cols, new Date(now.getTime() - params.window), now);
    const out: Breach[] = [];
    for (const [job, c] of byJob) {
      const failed = c.failed + c.dead;
      if (failed <= params.threshold) continue;
      const win = formatDuration(params.window);
      out.push({
        subject: job,
        job,
        count: failed,
        title: `Failures: ${job}`,
        summary: `${failed} attempts of ${job} failed in ${win} (fires above ${params.threshold})`,
        facts: [
          { label: 'Job', value: job },
          { label: 'Failures', value: `${failed} in ${win} (${c.dead} dead-lettered)` },
          { label: 'Threshold', value: `> ${params.threshold} in ${win}` },
        ],
      });
    }
    return out;
  },
});
