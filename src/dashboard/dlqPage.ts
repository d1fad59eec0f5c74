/**
 * The dead-letter queue: a filtered, paged list (`dlq list`), one dead letter with its payload
 * and error and the Retry and Delete buttons of `dlq show` (admins), and the CSV export.
 */
import type { ServerResponse } from 'node:http';
import { esc, filterForm } from './html.ts';
import { line, param, run, show, type Page, type PageContext } from './pageContext.ts';
import { startBody } from './respond.ts';

const STATUSES = ['', 'pending', 'retry_scheduled', 'retried', 'deleted'];

export const dlqPage: Page = async (ctx) => {
  const id = param(ctx, 'id');
  if (id) return { title: `Dead letter ${id}`, body: show(ctx, await run(ctx, line(['dlq', 'show', id]))) };
  const job = param(ctx, 'job');
  const status = param(ctx, 'status');
  const list = await run(ctx, line(['dlq', 'list'], { job, status, page: param(ctx, 'page'), limit: '50' }));
  const filters = filterForm('/ui/dlq', [
    { name: 'job', label: 'Job', value: job, options: ['', ...ctx.front.ops.jobs.names()] },
    { name: 'status', label: 'Status', value: status, options: STATUSES },
  ]);
  const qs = new URLSearchParams(Object.entries({ job, status }).filter((e): e is [string, string] => Boolean(e[1]))).toString();
  const exportLink = `<p><a class="button" href="/ui/dlq.csv${qs ? `?${esc(qs)}` : ''}">Export CSV</a></p>`;
  return { title: 'Dead letters', body: filters + show(ctx, list, { 0: (v) => `/ui/dlq?id=${encodeURIComponent(v)}` }) + exportLink };
};

/** GET /ui/dlq.csv: `dlq export` as the invoker, its file streamed as CSV (false when the command refused). */
export async function dlqCsv(ctx: PageContext, res: ServerResponse): Promise<boolean> {
  const result = await run(ctx, line(['dlq', 'export'], { job: param(ctx, 'job'), status: param(ctx, 'status') }));
  const file = result.status === 'ok' ? result.reply.file : undefined;
  if (!file) return false;
  startBody(res, 200, { 'content-type': `${file.mime}; charset=utf-8`, 'content-disposition': `attachment; filename="${file.name.replace(/[^A-Za-z0-9._-]/g, '_')}"` });
  for await (const l of file.lines()) if (!res.write(l)) await new Promise((resolve) => res.once('drain', resolve));
  res.end();
  return true;
}
