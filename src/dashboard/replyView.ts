/**
 * A command's Reply as HTML: title, text, fields, table, and its actions. An action whose command
 * is a read the dashboard has a page for becomes a link to that page; any other becomes a POST
 * form carrying the action's single-use token (and the CSRF token), shown only when the invoker's
 * role may run its command. Actions that ask for confirmation post to the confirmation page first.
 */
import type { Dispatcher, Invoker } from '../chat/dispatcher.ts';
import { parseCommandLine } from '../chat/grammar.ts';
import type { Reply, ReplyAction } from '../chat/reply.ts';
import { chatText, csrfField, esc, hidden } from './html.ts';

export interface ReplyViewContext {
  dispatcher: Dispatcher;
  invoker: Invoker;
  csrf: string;
  /** Where to come back to after an action (a /ui path). */
  back: string;
  /** Links a table cell: column index → href for the cell's value. */
  links?: Record<number, (value: string) => string>;
}

/** Renders a Reply (the plain text is shown when it adds to the title). */
export function renderReply(reply: Reply, ctx: ReplyViewContext): string {
  const out: string[] = [];
  if (reply.title) out.push(`<h2>${esc(reply.title)}</h2>`);
  if (reply.text && reply.text !== reply.title) out.push(`<p>${chatText(reply.text)}</p>`);
  if (reply.fields?.length) {
    out.push(`<dl class="fields">${reply.fields.map((f) => `<dt>${esc(f.label)}</dt><dd>${chatText(f.value)}</dd>`).join('')}</dl>`);
  }
  if (reply.table?.rows.length) {
    const head = reply.table.columns.map((c) => `<th>${esc(c)}</th>`).join('');
    const rows = reply.table.rows.map((r) => `<tr>${r.map((cell, i) => `<td>${ctx.links?.[i] ? `<a href="${esc(ctx.links[i](cell))}">${esc(cell)}</a>` : esc(cell)}</td>`).join('')}</tr>`);
    out.push(`<div class="scroll"><table><thead><tr>${head}</tr></thead><tbody>${rows.join('')}</tbody></table></div>`);
  }
  const actions = renderActions(reply.actions ?? [], ctx);
  if (actions) out.push(actions);
  return `<section class="reply">${out.join('')}</section>`;
}

/** The actions the invoker may take, as links and forms. */
export function renderActions(actions: ReplyAction[], ctx: ReplyViewContext): string {
  const parts = actions.flatMap((a) => {
    const link = pageFor(a.command);
    if (link) return [`<a class="button" href="${esc(link)}">${esc(a.label)}</a>`];
    if (!a.token || !ctx.dispatcher.allows(a.command, ctx.invoker)) return [];
    return [actionForm(a, ctx.csrf, ctx.back)];
  });
  return parts.length ? `<div class="actions">${parts.join('')}</div>` : '';
}

/** One action as a POST form: to /ui/act, or to /ui/confirm when it asks first. */
export function actionForm(a: ReplyAction, csrf: string, back: string): string {
  const cls = a.style === 'danger' ? 'danger' : a.style === 'primary' ? 'primary' : '';
  const confirm = a.confirm
    ? hidden('title', a.confirm.title) + hidden('text', a.confirm.text) + hidden('confirm', a.confirm.confirm ?? a.label)
    : '';
  return (
    `<form method="post" action="${a.confirm ? '/ui/confirm' : '/ui/act'}" class="inline">` +
    `${csrfField(csrf)}${hidden('token', a.token ?? '')}${hidden('back', back)}${confirm}` +
    `<button type="submit"${cls ? ` class="${cls}"` : ''}>${esc(a.label)}</button></form>`
  );
}

/**
 * The dashboard page showing what a read command shows, or undefined: `dlq list --job X` →
 * /ui/dlq?job=X, `jobs show ID` → /ui/jobs?id=ID, and so on.
 */
export function pageFor(command: string): string | undefined {
  const parsed = parseCommandLine(command);
  if (!parsed.ok) return undefined;
  const { words, options } = parsed.value;
  const opt = (k: string) => (typeof options[k] === 'string' ? (options[k] as string) : undefined);
  const q = (path: string, params: Record<string, string | undefined>) => {
    const qs = new URLSearchParams(Object.entries(params).filter((e): e is [string, string] => Boolean(e[1]))).toString();
    return qs ? `${path}?${qs}` : path;
  };
  const key = words.slice(0, 2).join(' ').toLowerCase();
  if (key === 'dlq list') return q('/ui/dlq', { job: opt('job'), status: opt('status'), page: opt('page') });
  if (key === 'dlq show') return q('/ui/dlq', { id: words[2] });
  if (key === 'jobs show') return q('/ui/jobs', { id: words[2] });
  if (key === 'jobs list') return q('/ui/jobs', { job: opt('job'), state: opt('state') });
  if (key === 'alerts show') return q('/ui/alerts', { key: words[2] });
  if (key === 'backfill status') return q('/ui/backfills', { id: words[2] });
  if (key === 'status') return '/ui';
  return undefined;
}
