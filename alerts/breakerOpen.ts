/** `breaker-open`: a provider's circuit breaker is open (collection `breakers`, one doc per provider). */
import { z } from 'zod';
import { defineRule, duration, type Breach } from '../src/alerting/rule.ts';
import { fmtDate } from '../src/chat/reply.ts';

interface BreakerDoc {
  _id: string;
  state: 'open' | 'half-open' | 'closed';
  openedAt?: Date | null;
  failures?: number;
}

/** The rule, for alerts/index.ts. */
export default defineRule({
  name: 'breaker-open',
  description: "A provider's circuit breaker is open: its jobs are held back",
  params: z.object({
    clear_after: duration('5m', 'How long the breaker must stay out of `open` before the alert resolves'),
  }),
  clearAfter: (p) => p.clear_after,
  actions: ['reset-breaker'],
  async evaluate({ now, db, jobs }) {
    const open = await db.collection<BreakerDoc>('breakers').find({ state: 'open' }).limit(500).toArray();
    return open.map((b): Breach => {
      const provider = String(b._id);
      const users = jobs.list().filter((d) => d.provider === provider).map((d) => d.name);
      const openedAt = b.openedAt ? new Date(b.openedAt) : undefined;
      return {
        subject: provider,
        provider,
        count: Number(b.failures ?? 0) || 1,
        title: `Breaker open: ${provider}`,
        summary: `Calls to ${provider} are held back: its breaker opened${openedAt ? ` at ${fmtDate(openedAt)}` : ''} after ${Number(b.failures ?? 0)} failures`,
        facts: [
          { label: 'Provider', value: provider },
          { label: 'Failures', value: String(b.failures ?? '—') },
          { label: 'Open since', value: openedAt ? `${fmtDate(openedAt)} (${Math.max(0, Math.round((now.getTime() - openedAt.getTime()) / 60_000))} min)` : '—' },
          { label: 'Jobs held', value: users.join(', ') || '—' },
        ],
        hint: `Check ${provider}'s status; reset the breaker (\`breakers reset ${provider}\`) once it is healthy, or let the cool-down try it.`,
      };
    });
  },
});
