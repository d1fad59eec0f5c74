/**
 * The smaller pages: alerts (list; one alert with its facts, buttons and the rule's triage
 * explanation), audit (by action and actor), config (keys with value, default and meaning; admins
 * set them) and backfills (progress; cancel a running one).
 */
import { csrfField, esc, filterForm } from './html.ts';
import { line, may, param, run, show, viewContext, withTokens, type Page } from './pageContext.ts';
import { renderActions } from './replyView.ts';

export const alertsPage: Page = async (ctx) => {
  const key = param(ctx, 'key');
  if (key) {
    const [shown, explained] = await Promise.all([run(ctx, line(['alerts', 'show', key])), run(ctx, line(['alerts', 'explain', key]))]);
    return { title: `Alert ${key}`, body: show(ctx, shown) + show(ctx, explained) };
  }
  const state = param(ctx, 'state');
  const list = await run(ctx, line(['alerts', 'list'], { state }));
  const filters = filterForm('/ui/alerts', [{ name: 'state', label: 'State', value: state, options: ['', 'firing', 'acknowledged', 'snoozed', 'resolved'] }]);
  return { title: 'Alerts', body: filters + show(ctx, list, { 0: (v) => `/ui/alerts?key=${encodeURIComponent(v)}` }) };
};

/** Audit: `audit --action` as the invoker; the actor filter narrows the newest 500 entries by name, id or platform. */
export const auditPage: Page = async (ctx) => {
  const action = param(ctx, 'action');
  const actor = param(ctx, 'actor')?.toLowerCase();
  const result = await run(ctx, line(['audit'], { action, limit: actor ? '500' : '100' }));
  const items = (result.reply.data as { items?: { actor: { platform: string; id: string; name: string } }[] } | undefined)?.items;
  if (actor && items && result.reply.table) {
    const keep = items.map((i) => [i.actor.name, i.actor.id, i.actor.platform].some((s) => s.toLowerCase().includes(actor)));
    result.reply.table.rows = result.reply.table.rows.filter((_r, i) => keep[i]);
    result.reply.text = `${result.reply.table.rows.length} entries by "${actor}", newest first.`;
  }
  const filters = filterForm('/ui/audit', [
    { name: 'action', label: 'Action', value: action },
    { name: 'actor', label: 'Actor', value: param(ctx, 'actor') },
  ]);
  return { title: 'Audit log', body: filters + show(ctx, result) };
};

export const configPage: Page = async (ctx) => {
  const key = param(ctx, 'key');
  const result = await run(ctx, line(['config', 'get', ...(key ? [key] : [])]));
  const form = may(ctx, 'config set x y')
    ? '<section class="panel"><h2>Change a value</h2><form method="post" action="/ui/run" class="command">' +
      `${csrfField(ctx.csrf)}<input type="hidden" name="form" value="config-set">` +
      `<label>Key <input name="key" value="${esc(key ?? '')}" required></label><label>Value <input name="value" required></label>` +
      '<button type="submit" class="primary">Set</button><span class="muted">“default” restores the default.</span></form></section>'
    : '';
  const filters = filterForm('/ui/config', [{ name: 'key', label: 'Key or prefix', value: key }]);
  return { title: 'Configuration', body: filters + show(ctx, result) + form };
};

export const backfillsPage: Page = async (ctx) => {
  const id = param(ctx, 'id');
  const result = await run(ctx, line(['backfill', 'status', ...(id ? [id] : [])], { limit: id ? undefined : '50' }));
  const data = result.reply.data as { items?: { id: string; status: string }[]; id?: string; status?: string } | undefined;
  const running = (data?.items ?? (data?.id ? [{ id: data.id, status: data.status ?? '' }] : [])).filter((b) => b.status === 'running');
  const actions = await withTokens(ctx, running.map((b) => ({ label: `Cancel ${b.id}`, command: line(['backfill', 'cancel', b.id]), style: 'danger' as const, confirm: { title: `Cancel backfill ${b.id}?`, text: 'It stops after the chunk in progress.' } })));
  return { title: id ? `Backfill ${id}` : 'Backfills', body: show(ctx, result, { 0: (v) => `/ui/backfills?id=${encodeURIComponent(v)}` }) + renderActions(actions, viewContext(ctx)) };
};
