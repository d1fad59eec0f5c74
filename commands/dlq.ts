/** `dlq list|show|retry|delete|export`: the dead-letter queue. */
import { z } from 'zod';
import { command } from './define.ts';
import { echo } from '../src/util/echo.ts';
import { fmtDate, truncate, type ReplyAction } from '../src/chat/reply.ts';
import { UsageError } from '../src/errors.ts';
import { actedOn, asTargets } from '../src/chat/outcome.ts';

const STATUS = z.enum(['pending', 'retry_scheduled', 'retried', 'deleted']);
const ids = z.array(z.string()).default([]);

export const dlqCommands = [
  command({
    path: ['dlq', 'list'],
    summary: 'Dead letters: job, error, first/last failure, attempts, payload; paged',
    usage: 'dlq list [--status pending|retry_scheduled|retried|deleted] [--job NAME] [--limit N] [--page N]',
    examples: ['dlq list', 'dlq list --job http.invoke --page 2'],
    role: 'viewer',
    args: z.object({ status: STATUS.optional(), job: z.string().optional(), limit: z.coerce.number().int().min(1).max(500).default(20), page: z.coerce.number().int().min(1).default(1) }),
    async run(a, { ops }) {
      const { items, total, page, limit } = await ops.deadLetters.list(a);
      const pages = Math.max(1, Math.ceil(total / limit));
      const actions: ReplyAction[] = [];
      const scope = `${a.job ? ` --job ${a.job}` : ''}${a.status ? ` --status ${a.status}` : ''}`;
      if (page < pages) actions.push({ label: 'Next page', command: `dlq list${scope} --limit ${limit} --page ${page + 1}` });
      if (total > 0 && (a.status ?? 'pending') === 'pending') {
        actions.push({
          label: a.job ? `Retry all ${a.job}` : 'Retry all',
          command: `dlq retry --all${a.job ? ` --job ${a.job}` : ''}`,
          style: 'primary',
          confirm: { title: 'Retry dead letters?', text: `Requeue every pending dead letter${a.job ? ` of ${a.job}` : ''} with a fresh attempt budget.` },
        });
      }
      return {
        text: total ? `${total} dead letter${total === 1 ? '' : 's'}${a.job ? ` of ${a.job}` : ''}; page ${page} of ${pages}.` : 'The DLQ is empty.',
        table: {
          columns: ['id', 'job', 'status', 'tries', 'error', 'first failed', 'last failed', 'payload'],
          rows: items.map((i) => [i.id, i.job, i.status, String(i.attempts), truncate(i.error, 60), fmtDate(i.firstFailedAt), fmtDate(i.lastFailedAt), truncate(i.payloadSummary, 40)]),
        },
        actions,
        data: { items, total, page, pages },
      };
    },
  }),
  command({
    path: ['dlq', 'show'],
    summary: 'One dead letter with its payload and error',
    usage: 'dlq show ID',
    examples: ['dlq show 6b06fd57a0c7f55c4d0f6ad6'],
    role: 'viewer',
    positionals: ['id'],
    args: z.object({ id: z.string({ error: 'give the dead-letter ID' }) }),
    async run({ id }, { ops }) {
      const d = await ops.deadLetters.show(id);
      const open = d.status === 'pending';
      return {
        title: `Dead letter ${d.id}`,
        text: `${d.job} failed ${d.attempts} time${d.attempts === 1 ? '' : 's'}: ${d.error}`,
        fields: [
          { label: 'Job', value: `${d.job} (job ${d.jobId})` },
          { label: 'Status', value: d.status },
          { label: 'Error', value: `${d.errorClass}: ${truncate(d.error, 300)}` },
          { label: 'Attempts', value: String(d.attempts) },
          { label: 'First failed', value: fmtDate(d.firstFailedAt) },
          { label: 'Last failed', value: fmtDate(d.lastFailedAt) },
          { label: 'Payload', value: truncate(JSON.stringify(d.payload) ?? '', 800) },
        ],
        actions: open
          ? [
              { label: 'Retry', command: `dlq retry ${d.id}`, style: 'primary' },
              { label: 'Delete', command: `dlq delete ${d.id}`, style: 'danger', confirm: { title: 'Delete this dead letter?', text: 'It is kept as deleted in the audit trail and will not run.' } },
            ]
          : [],
        data: d,
        audit: { target: id },
      };
    },
  }),
  command({
    path: ['dlq', 'retry'],
    summary: 'Requeue dead letters with a fresh attempt budget',
    usage: 'dlq retry ID...|--all [--job NAME]',
    examples: ['dlq retry 6b06fd57a0c7f55c4d0f6ad6', 'dlq retry --all --job http.invoke'],
    role: 'admin',
    positionals: ['ids...'],
    booleanFlags: ['all'],
    args: z.object({ ids, all: z.boolean().default(false), job: z.string().optional() }),
    async run(a, { ops, actor }) {
      if (!a.all && a.ids.length === 0) throw new UsageError('Give dead-letter IDs, or --all.');
      if (a.all && a.ids.length) throw new UsageError('Give IDs or --all, not both.');
      const res = await ops.deadLetters.retry(a, actor);
      return {
        ...actedOn({ done: res.done.length, skipped: asTargets(res.skipped), verb: 'Retried', noun: 'dead letter', nothing: `nothing to retry${a.job ? ` of ${a.job}` : ''}` }),
        ephemeral: false,
        data: { retried: res.done, skipped: res.skipped },
        audit: { target: a.all ? `all${a.job ? ` ${a.job}` : ''}` : echo(a.ids.join(' '), 500), detail: { retried: res.done.length, skipped: res.skipped.length } },
      };
    },
  }),
  command({
    path: ['dlq', 'delete'],
    summary: 'Drop dead letters (kept as deleted for the audit trail)',
    usage: 'dlq delete ID...',
    examples: ['dlq delete 6b06fd57a0c7f55c4d0f6ad6'],
    role: 'admin',
    positionals: ['ids...'],
    args: z.object({ ids: ids.refine((l) => l.length > 0, 'give at least one dead-letter ID') }),
    async run({ ids: list }, { ops, actor }) {
      const res = await ops.deadLetters.delete(list, actor);
      return {
        ...actedOn({ done: res.done.length, skipped: asTargets(res.skipped), verb: 'Deleted', noun: 'dead letter' }),
        ephemeral: false,
        data: { deleted: res.done, skipped: res.skipped },
        audit: { target: echo(list.join(' '), 500), detail: { deleted: res.done.length } },
      };
    },
  }),
  command({
    path: ['dlq', 'export'],
    summary: 'The open dead letters as CSV',
    usage: 'dlq export [--job NAME] [--status STATUS]',
    description: 'The CLI streams the CSV (RFC 4180) to stdout; in chat the answer says how many rows and the command to run. With --json: { rows, csv }.',
    examples: ['dlq export --job http.invoke > dlq.csv'],
    role: 'viewer',
    args: z.object({ job: z.string().optional(), status: STATUS.optional() }),
    async run(a, { ops }) {
      const { total } = await ops.deadLetters.list({ job: a.job, status: a.status, limit: 1 });
      const name = `dlq${a.job ? `-${a.job}` : ''}.csv`;
      return {
        text: `${total} dead letter${total === 1 ? '' : 's'} as CSV: run \`npx switchboard dlq export${a.job ? ` --job ${a.job}` : ''}${a.status ? ` --status ${a.status}` : ''} > ${name}\` to download.`,
        file: { name, mime: 'text/csv', lines: () => ops.deadLetters.exportCsv(a) },
        data: { rows: total },
        audit: { target: a.job ?? 'all' },
      };
    },
  }),
];
