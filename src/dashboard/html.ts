/**
 * HTML for the dashboard: escaping, the page frame, and small pieces (forms, filters). Every
 * value goes through `esc`; no inline script or style anywhere (the CSP forbids both), so the
 * pages load /ui/static/dashboard.css and, where a chart is drawn, /ui/static/dashboard.js.
 */
import type { Invoker } from '../chat/dispatcher.ts';

/** Escapes text for HTML content and attribute values. */
export function esc(text: unknown): string {
  return String(text ?? '').replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** Chat text to HTML: escaped, `code` spans as <code>, line breaks kept. */
export function chatText(text: string): string {
  return esc(text)
    .replace(/`([^`]+)`/g, '<code>$1</code>')
    .replace(/\n/g, '<br>');
}

export const NAV = [
  ['/ui', 'Overview'],
  ['/ui/jobs', 'Jobs'],
  ['/ui/dlq', 'DLQ'],
  ['/ui/alerts', 'Alerts'],
  ['/ui/audit', 'Audit'],
  ['/ui/config', 'Config'],
  ['/ui/backfills', 'Backfills'],
] as const;

export interface PageFrame {
  title: string;
  /** The path of the page, to mark its tab. */
  path: string;
  invoker?: Invoker;
  csrf?: string;
  body: string;
  /** Load the chart script and uPlot. */
  charts?: boolean;
}

/** A whole page: head with our own stylesheet (and scripts for charts), nav, body. */
export function page(f: PageFrame): string {
  const head = [
    '<meta charset="utf-8">',
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    `<title>${esc(f.title)} · Switchboard</title>`,
    '<link rel="stylesheet" href="/ui/static/dashboard.css">',
    ...(f.charts ? ['<link rel="stylesheet" href="/ui/static/uPlot.min.css">', '<script src="/ui/static/uPlot.iife.min.js" defer></script>', '<script src="/ui/static/dashboard.js" defer></script>'] : []),
  ].join('');
  const nav = f.invoker
    ? `<nav><span class="brand">Switchboard</span>${NAV.map(([href, label]) => `<a href="${href}"${href === f.path ? ' class="here"' : ''}>${label}</a>`).join('')}` +
      `<span class="who">${esc(f.invoker.actor.name)} (${esc(f.invoker.actor.platform)}, ${esc(f.invoker.role)})</span>` +
      `<form method="post" action="/ui/signout" class="inline">${csrfField(f.csrf)}<button type="submit" class="link">Sign out</button></form></nav>`
    : '<nav><span class="brand">Switchboard</span></nav>';
  return `<!doctype html><html lang="en"><head>${head}</head><body>${nav}<main><h1>${esc(f.title)}</h1>${f.body}</main></body></html>`;
}

export function csrfField(csrf: string | undefined): string {
  return csrf ? `<input type="hidden" name="csrf" value="${esc(csrf)}">` : '';
}

export function hidden(name: string, value: string): string {
  return `<input type="hidden" name="${esc(name)}" value="${esc(value)}">`;
}

export interface FilterField {
  name: string;
  label: string;
  value?: string;
  /** A select with these options (the first, '', means any); a text box without. */
  options?: string[];
}

/** A GET form of filters for a list page. */
export function filterForm(action: string, fields: FilterField[]): string {
  const inputs = fields.map((f) => {
    const control = f.options
      ? `<select name="${esc(f.name)}">${f.options.map((o) => `<option value="${esc(o)}"${o === (f.value ?? '') ? ' selected' : ''}>${esc(o || 'any')}</option>`).join('')}</select>`
      : `<input name="${esc(f.name)}" value="${esc(f.value ?? '')}">`;
    return `<label>${esc(f.label)} ${control}</label>`;
  });
  return `<form method="get" action="${esc(action)}" class="filters">${inputs.join('')}<button type="submit">Filter</button></form>`;
}

/** A notice box: ok, error or plain. */
export function notice(html: string, kind: 'ok' | 'error' | 'info' = 'info'): string {
  return `<p class="notice ${kind}">${html}</p>`;
}
