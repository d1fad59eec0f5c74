/** `audit`: who did what, newest first. */
import { z } from 'zod';
import { command } from './define.ts';
import { fmtDate, truncate } from '../src/chat/reply.ts';

export const auditCommand = command({
  path: ['audit'],
  summary: 'The audit log: who did what, to what, why, and how it ended',
  usage: 'audit [--limit N] [--action ACTION]',
  examples: ['audit', 'audit --action dlq_retry --limit 50'],
  role: 'viewer',
  args: z.object({
    limit: z.coerce.number().int().min(1).max(500).default(20),
    action: z.string().regex(/^[a-z_]+$/, 'expected an action name like dlq_retry').optional(),
  }),
  async run({ limit, action }, { ops }) {
    const entries = await ops.audit.list({ limit, action });
    const items = entries.map((e) => ({
      at: e.at,
      action: e.action,
      actor: e.actor,
      target: e.target ?? null,
      reason: e.reason ?? null,
      outcome: e.outcome,
      command: e.command ?? null,
    }));
    return {
      text: items.length ? `${items.length} entr${items.length === 1 ? 'y' : 'ies'}, newest first.` : 'No audit entries.',
      table: {
        columns: ['at', 'who', 'action', 'target', 'outcome', 'reason'],
        rows: items.map((i) => [fmtDate(i.at), `${i.actor.name} (${i.actor.platform})`, i.action, truncate(i.target ?? '', 30), i.outcome, truncate(i.reason ?? '', 40)]),
      },
      data: { items },
    };
  },
});
