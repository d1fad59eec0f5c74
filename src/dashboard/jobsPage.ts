/**
 * Jobs: a filtered list (`jobs list`), one job with its last runs, counts and telemetry
 * (`jobs show`), cancel it, and run a job type with a payload (operators and admins).
 */
import { filterForm, csrfField, esc } from './html.ts';
import { line, may, param, run, show, viewContext, withTokens, type Page, type PageContext } from './pageContext.ts';
import { renderActions } from './replyView.ts';

const STATES = ['', 'queued', 'running', 'scheduled', 'failed', 'completed'];

export const jobsPage: Page = async (ctx) => {
  const id = param(ctx, 'id');
  if (id) return jobPage(ctx, id);
  const job = param(ctx, 'job');
  const state = param(ctx, 'state');
  const names = ctx.front.ops.jobs.names();
  const list = await run(ctx, line(['jobs', 'list'], { job, state, limit: '50' }));
  const filters = filterForm('/ui/jobs', [
    { name: 'job', label: 'Type', value: job, options: ['', ...names] },
    { name: 'state', label: 'State', value: state, options: STATES },
  ]);
  return { title: 'Jobs', body: filters + show(ctx, list, { 0: (v) => `/ui/jobs?id=${encodeURIComponent(v)}` }) + runForm(ctx, names, job) };
};

async function jobPage(ctx: PageContext, id: string) {
  const shown = await run(ctx, line(['jobs', 'show', id]));
  const data = shown.status === 'ok' ? (shown.reply.data as { state?: string; runs?: RunView[] } | undefined) : undefined;
  const done = data?.state === 'completed' || data?.state === 'failed';
  const actions = shown.status === 'ok' && !done
    ? await withTokens(ctx, [{ label: 'Cancel job', command: line(['jobs', 'cancel', id]), style: 'danger', confirm: { title: 'Cancel this job?', text: 'It will not run again.' } }])
    : [];
  const extra = renderActions(actions, viewContext(ctx));
  return { title: `Job ${id}`, body: show(ctx, shown) + extra + runDetails(data?.runs ?? []) };
}

interface RunView {
  attempt?: number;
  counts?: Record<string, number>;
  telemetry?: Record<string, unknown>;
}

/** The counts and telemetry of the job's last runs (from `jobs show`'s data). */
function runDetails(runs: RunView[]): string {
  const rows = runs.filter((r) => (r.counts && Object.keys(r.counts).length) || (r.telemetry && Object.keys(r.telemetry).length));
  if (!rows.length) return '';
  const cell = (v: unknown) => esc(v && Object.keys(v).length ? JSON.stringify(v) : '—');
  return (
    '<section class="panel"><h2>Counts and telemetry</h2><table><thead><tr><th>attempt</th><th>counts</th><th>telemetry</th></tr></thead><tbody>' +
    rows.map((r) => `<tr><td>${esc(r.attempt ?? '')}</td><td>${cell(r.counts)}</td><td>${cell(r.telemetry)}</td></tr>`).join('') +
    '</tbody></table></section>'
  );
}

/** "Run a job": a form posted to /ui/run, shown to roles that may `jobs run`. */
function runForm(ctx: PageContext, names: string[], selected: string | undefined): string {
  if (!may(ctx, 'jobs run x')) return '';
  const options = names.map((n) => `<option${n === selected ? ' selected' : ''}>${esc(n)}</option>`).join('');
  return (
    '<section class="panel"><h2>Run a job</h2><form method="post" action="/ui/run" class="command">' +
    `${csrfField(ctx.csrf)}<input type="hidden" name="form" value="jobs-run"><label>Type <select name="job">${options}</select></label>` +
    '<label>Payload (JSON) <textarea name="payload">{}</textarea></label><button type="submit" class="primary">Run</button></form></section>'
  );
}
