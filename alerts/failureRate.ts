/** `failure-rate`: failed attempts / all finished attempts of a job type over a window. */
import { z } from 'zod';
import { count, defineRule } from '../src/alerting/rule.ts';
import { failureRuleTraits, failuresOver, failureWindow, pct } from '../src/alerting/ruleQueries.ts';
import { formatDuration } from '../src/util/duration.ts';

/** The rule, for alerts/index.ts. */
export default defineRule({
  name: 'failure-rate',
  description: 'Share of failed attempts of a job type over a window (only with enough attempts)',
  params: z.object({
    threshold: count(0.05, 'Failure ratio the rule fires above (0.05 = 5 %)', { max: 1 }),
    window: failureWindow('15m'),
    min_attempts: count(20, 'Fewer finished attempts than this in the window never fire', { int: true }),
  }),
  ...failureRuleTraits,
  async evaluate({ now, params, cols }) {
    const win = formatDuration(params.window);
    return (await failuresOver(cols, now, params.window))
      .filter(({ failed, total }) => total >= params.min_attempts && total > 0 && failed / total > params.threshold)
      .map(({ job, failed, total, counts }) => ({
        subject: job,
        job,
        count: failed,
        title: `High failure rate: ${job}`,
        summary: `${failed} of ${total} attempts of ${job} failed in ${win} (${pct(failed / total)}; fires above ${pct(params.threshold)})`,
        facts: [
          { label: 'Job', value: job },
          { label: 'Failure rate', value: `${pct(failed / total)} over ${win}` },
          { label: 'Attempts', value: `${total} (${counts.success} ok, ${counts.failed} failed, ${counts.dead} dead-lettered)` },
          { label: 'Threshold', value: `> ${pct(params.threshold)} with ≥ ${params.min_attempts} attempts` },
        ],
      }));
  },
});
