/** `failure-count`: failed attempts of a job type over a window. */
import { z } from 'zod';
import { count, defineRule } from '../src/alerting/rule.ts';
import { failureRuleTraits, failuresOver, failureWindow } from '../src/alerting/ruleQueries.ts';
import { formatDuration } from '../src/util/duration.ts';

/** The rule, for alerts/index.ts. */
export default defineRule({
  name: 'failure-count',
  description: 'Failed attempts of a job type over a window',
  params: z.object({
    threshold: count(10, 'Failures in the window the rule fires above', { int: true }),
    window: failureWindow('1h'),
  }),
  ...failureRuleTraits,
  async evaluate({ now, params, cols }) {
    const win = formatDuration(params.window);
    return (await failuresOver(cols, now, params.window))
      .filter(({ failed }) => failed > params.threshold)
      .map(({ job, failed, counts }) => ({
        subject: job,
        job,
        count: failed,
        title: `Failures: ${job}`,
        summary: `${failed} attempts of ${job} failed in ${win} (fires above ${params.threshold})`,
        facts: [
          { label: 'Job', value: job },
          { label: 'Failures', value: `${failed} in ${win} (${counts.dead} dead-lettered)` },
          { label: 'Threshold', value: `> ${params.threshold} in ${win}` },
        ],
      }));
  },
});
