/** `dlq-growth`: new pending dead letters of a job type within a window. */
import { z } from 'zod';
import { count, defineRule, duration, type Breach } from '../src/alerting/rule.ts';
import { plural } from '../src/alerting/ruleQueries.ts';
import { formatDuration } from '../src/util/duration.ts';

/** The rule, for alerts/index.ts. */
export default defineRule({
  name: 'dlq-growth',
  description: 'New dead letters of a job type (still pending) within a window',
  params: z.object({
    threshold: count(0, 'New pending dead letters in the window the rule fires above', { int: true }),
    window: duration('10m', 'Dead letters created within this window count; also how long it must stay clear to resolve'),
  }),
  clearAfter: (p) => p.window,
  actions: ['retry-dlq', 'pause-job'],
  triage: true,
  async evaluate({ now, params, cols }) {
    const grouped = (match: Record<string, unknown>) =>
      cols.deadLetters.aggregate<{ _id: string; n: number }>([{ $match: match }, { $group: { _id: '$jobName', n: { $sum: 1 } } }]).toArray();
    const fresh = await grouped({ createdAt: { $gte: new Date(now.getTime() - params.window), $lte: now }, status: 'pending' });
    const growing = fresh.filter((r) => r.n > params.threshold);
    if (!growing.length) return [];
    const pending = new Map((await grouped({ status: 'pending', jobName: { $in: growing.map((r) => r._id) } })).map((r) => [r._id, r.n]));
    const win = formatDuration(params.window);
    return growing.map(({ _id: job, n }): Breach => ({
      subject: job,
      job,
      count: n,
      title: `Dead letters: ${job}`,
      summary: `${plural(n, 'job')} of ${job} dead-lettered in ${win}; ${pending.get(job) ?? n} pending in all`,
      facts: [
        { label: 'Job', value: job },
        { label: 'New dead letters', value: `${n} in ${win} (fires above ${params.threshold})` },
        { label: 'Pending in the DLQ', value: String(pending.get(job) ?? n) },
      ],
    }));
  },
});
