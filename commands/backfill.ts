/** `backfill start|status|cancel`: run a job over a range in resumable chunks (`ops.backfills`, src/ops/backfills.ts). */
import { z } from 'zod';
import { command } from './define.ts';
import { fmtDate } from '../src/chat/reply.ts';
import type { BackfillView } from '../src/ops/backfills.ts';
import { actedOn } from '../src/chat/outcome.ts';

const summaryOf = (b: BackfillView) =>
  `${b.job} backfill ${b.id}: ${b.status}, ${b.done}/${b.total} chunks, ${b.rate}/min` +
  `${b.cancelRequested && b.status === 'running' ? ', cancel requested' : ''}${b.waiting ? `, waiting: ${b.waiting}` : ''}${b.error ? `, error: ${b.error}` : ''}.`;

const fieldsOf = (b: BackfillView) => [
  { label: 'Status', value: b.status },
  { label: 'Progress', value: `${b.done}/${b.total} chunks (checkpoint ${b.checkpoint})` },
  { label: 'Rate', value: `${b.rate} chunks/min` },
  { label: 'Parameters', value: JSON.stringify(b.params) },
  { label: 'Started', value: `${fmtDate(b.startedAt)} by ${b.by}` },
  { label: 'Updated', value: fmtDate(b.updatedAt) },
  ...(b.waiting ? [{ label: 'Waiting', value: b.waiting }] : []),
  ...(b.error ? [{ label: 'Error', value: b.error }] : []),
  ...(Object.keys(b.counts).length ? [{ label: 'Counts', value: Object.entries(b.counts).map(([k, v]) => `${k} ${v}`).join(', ') }] : []),
];

const int = (flag: string) => z.coerce.number({ error: `${flag} expects a whole number` }).int(`${flag} expects a whole number`).optional();

/** `backfill start`, `backfill status`, `backfill cancel`. */
export const backfillCommands = [
  command({
    path: ['backfill', 'start'],
    summary: 'Run a job over a range in chunks, with checkpoints (resumes after a crash)',
    usage: 'backfill start NAME [--days N] [--limit N] [PAYLOAD_JSON]',
    description: 'The job checks the parameters (--days, --limit and the JSON payload); re-running a chunk is safe.',
    examples: ['backfill start discovery.harvest --days 7 --limit 100', 'backfill start discovery.harvest --days 3 {"until":"2025-01-31"}'],
    role: 'operator',
    positionals: ['name'],
    payloadArg: 'payload',
    args: z.object({ name: z.string({ error: 'give the job name' }), days: int('--days'), limit: int('--limit'), payload: z.record(z.string(), z.unknown()).default({}) }),
    async run(a, { ops, actor }) {
      const params = { ...a.payload, ...(a.days !== undefined ? { days: a.days } : {}), ...(a.limit !== undefined ? { limit: a.limit } : {}) };
      const b = await ops.backfills.start(a.name, params, actor);
      return {
        text: `Started the ${b.job} backfill ${b.id}: ${b.total} chunk${b.total === 1 ? '' : 's'}.`,
        data: b,
        actions: [
          { label: 'Status', command: `backfill status ${b.id}` },
          { label: 'Cancel', command: `backfill cancel ${b.id}`, style: 'danger', confirm: { title: 'Cancel the backfill?', text: 'It stops after the chunk in progress.' } },
        ],
        audit: { target: `${b.job} ${b.id}`, detail: { params: b.params, total: b.total } },
      };
    },
  }),
  command({
    path: ['backfill', 'status'],
    summary: 'Progress and rate of a backfill, or the recent ones',
    usage: 'backfill status [ID] [--limit N]',
    examples: ['backfill status', 'backfill status 6650c0ffee0123456789abcd'],
    role: 'viewer',
    positionals: ['id'],
    args: z.object({ id: z.string().optional(), limit: z.coerce.number().int().min(1).max(100).default(10) }),
    async run({ id, limit }, { ops }) {
      if (id) {
        const b = await ops.backfills.get(id);
        return { title: `${b.job} backfill ${b.id}`, text: summaryOf(b), fields: fieldsOf(b), data: b };
      }
      const items = await ops.backfills.list(limit);
      return {
        text: items.length ? `${items.length} recent backfill${items.length === 1 ? '' : 's'}.` : 'No backfills yet; `backfill start NAME --days N` starts one.',
        table: {
          columns: ['id', 'job', 'status', 'done', 'rate/min', 'started', 'by'],
          rows: items.map((b) => [b.id, b.job, b.status, `${b.done}/${b.total}`, String(b.rate), fmtDate(b.startedAt), b.by]),
        },
        data: { items },
      };
    },
  }),
  command({
    path: ['backfill', 'cancel'],
    summary: 'Stop a backfill after the chunk in progress',
    usage: 'backfill cancel ID',
    examples: ['backfill cancel 6650c0ffee0123456789abcd'],
    role: 'operator',
    positionals: ['id'],
    args: z.object({ id: z.string({ error: 'give the backfill ID' }) }),
    async run({ id }, { ops, actor }) {
      const b = await ops.backfills.cancel(id, actor);
      // A cancel requested before is not this command's doing: nothing acted on (exit 1).
      const outcome = actedOn({ done: b.changed ? 1 : 0, skipped: b.changed ? [] : [{ target: id, reason: 'a cancel was already requested' }], verb: 'Cancelled', noun: 'backfill' });
      const text =
        b.status === 'cancelled'
          ? `Backfill ${id} cancelled at ${b.done}/${b.total} chunks.`
          : b.changed
            ? `Backfill ${id} will stop after the chunk in progress (${b.done}/${b.total} done).`
            : `A cancel of backfill ${id} was already requested; it stops after the chunk in progress.`;
      return { text, outcome: outcome.outcome, ephemeral: false, data: b, audit: { target: `${b.job} ${id}`, detail: { changed: b.changed, done: b.done } } };
    },
  }),
];
