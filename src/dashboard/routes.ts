/**
 * The web dashboard under /ui: one more front end of the Dispatcher. Pages run commands as the
 * signed-in chat identity and render their Replies; a button posts its single-use token, and the
 * click runs through `dispatcher.click` as the session's invoker, so roles, single use and the
 * audit are the chat buttons' own. Without a session every page is a sign-in hint and nothing
 * else; a POST without the session's CSRF token is refused (403) and audited.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { FrontEnd } from '../chat/frontEnd.ts';
import type { DispatchResult } from '../chat/dispatcher.ts';
import type { Actor } from '../db/collections.ts';
import type { HttpServer } from '../http/server.ts';
import { dlqCsv, dlqPage } from './dlqPage.ts';
import { chatText, esc, hidden, notice, page } from './html.ts';
import { sessionInvoker } from './invoker.ts';
import { jobsPage } from './jobsPage.ts';
import { overviewPage } from './overviewPage.ts';
import { alertsPage, auditPage, backfillsPage, configPage } from './otherPages.ts';
import { show, type Page, type PageContext } from './pageContext.ts';
import { formCommand } from './forms.ts';
import { clearedCookie, cookieValue, formBody, queryOf, redirect, safeBack, sendHtml, SESSION_COOKIE, sessionCookie } from './respond.ts';
import { csrfMatches, DashboardSessions, type DashboardSession } from './sessions.ts';
import { SIGNIN_PATH } from '../auth/signInLinks.ts';
import { mountStaticFiles } from './staticFiles.ts';

const PAGES: [string, Page][] = [
  ['/ui', overviewPage],
  ['/ui/jobs', jobsPage],
  ['/ui/dlq', dlqPage],
  ['/ui/alerts', alertsPage],
  ['/ui/audit', auditPage],
  ['/ui/config', configPage],
  ['/ui/backfills', backfillsPage],
];

const HINT =
  'Open the dashboard with a sign-in link from chat: send <code>dashboard</code> (Slack <code>/ops dashboard</code>, Telegram <code>/dashboard</code>) or run <code>npx switchboard dashboard</code>. A link works once, for 10 minutes.';

/** Mounts the dashboard's routes on the process's HttpServer. */
export function registerDashboard(front: FrontEnd, http: HttpServer): void {
  const sessions = new DashboardSessions(front.db, front.config.DASHBOARD_SESSION_HOURS);
  const secure = front.ops.signInLinks.base.startsWith('https:');
  mountStaticFiles(http);

  const signedIn = async (req: IncomingMessage) => {
    const session = await sessions.find(cookieValue(req, SESSION_COOKIE));
    return session && { session, invoker: await sessionInvoker(front.config, front.ops.identities, session.actor) };
  };
  const context = (req: IncomingMessage, s: { session: DashboardSession; invoker: PageContext['invoker'] }): PageContext => ({
    front,
    invoker: s.invoker,
    csrf: s.session.csrf,
    query: queryOf(req),
    here: safeBack(req.url),
  });
  const hint = (res: ServerResponse) => sendHtml(res, 401, page({ title: 'Sign in', path: '', body: `<p>${HINT}</p>` }));
  const noRole = (res: ServerResponse, s: NonNullable<Awaited<ReturnType<typeof signedIn>>>) =>
    sendHtml(res, 403, page({ title: 'No access', path: '', invoker: s.invoker, csrf: s.session.csrf, body: notice('You have no role here; ask an admin for one in chat.', 'error') }));

  for (const [path, render] of PAGES) {
    http.route('GET', path, async (req, res) => {
      const s = await signedIn(req);
      if (!s) return hint(res);
      if (s.invoker.role === 'none') return noRole(res, s);
      const p = await render(context(req, s));
      sendHtml(res, 200, page({ ...p, path, invoker: s.invoker, csrf: s.session.csrf }));
    });
  }

  http.route('GET', '/ui/dlq.csv', async (req, res) => {
    const s = await signedIn(req);
    if (!s) return hint(res);
    if (s.invoker.role === 'none' || !(await dlqCsv(context(req, s), res))) return noRole(res, s);
  });

  http.route('GET', SIGNIN_PATH, async (req, res) => {
    const token = queryOf(req).get('t') ?? '';
    const checked = await front.ops.signInLinks.peek(token);
    if (checked.status !== 'ok') return sendHtml(res, 403, page({ title: 'Sign in', path: '', body: notice(chatText(checked.reason), 'error') }));
    const form = `<form method="post" action="${SIGNIN_PATH}">${hidden('t', token)}<button type="submit" class="primary">Sign in as ${esc(checked.actor.name)}</button></form>`;
    sendHtml(res, 200, page({ title: 'Sign in', path: '', body: `<p>This link signs you in as <b>${esc(checked.actor.name)}</b> (${esc(checked.actor.platform)}). It works once.</p>${form}` }));
  });

  http.route('POST', SIGNIN_PATH, async (req, res, raw) => {
    if (req.headers['sec-fetch-site'] === 'cross-site') return refuse(req, res, undefined, 'A sign-in from another site is refused.');
    const checked = await front.ops.signInLinks.redeem(formBody(raw).t ?? '');
    if (checked.status !== 'ok') return sendHtml(res, 403, page({ title: 'Sign in', path: '', body: notice(chatText(checked.reason), 'error') }));
    const { id } = await sessions.open(checked.actor);
    await front.ops.audit.record({ action: 'dashboard_signin', actor: checked.actor, outcome: 'ok', detail: { hours: front.config.DASHBOARD_SESSION_HOURS } });
    redirect(res, '/ui', { 'set-cookie': sessionCookie(id, front.config.DASHBOARD_SESSION_HOURS * 3600, secure) });
  });

  /** A POST from a signed-in page with the session's CSRF token, or a refusal (403, audited). */
  const guardedPost = (path: string, handle: (ctx: PageContext, form: Record<string, string>, res: ServerResponse, req: IncomingMessage) => Promise<void>) =>
    http.route('POST', path, async (req, res, raw) => {
      const form = formBody(raw);
      const s = await signedIn(req);
      if (!s) return refuse(req, res, undefined, 'The request has no dashboard session.');
      if (!csrfMatches(s.session, form.csrf)) return refuse(req, res, s.session.actor, 'The form is missing its CSRF token or it does not match the session.');
      await handle(context(req, s), form, res, req);
    });

  const refuse = async (req: IncomingMessage, res: ServerResponse, actor: Actor | undefined, why: string) => {
    const who: Actor = actor ?? { platform: 'http', id: String(req.socket.remoteAddress ?? 'unknown'), name: 'anonymous' };
    await front.ops.audit.record({ action: 'dashboard_post', actor: who, command: `POST ${(req.url ?? '').split('?')[0]}`, outcome: 'denied', error: why });
    sendHtml(res, 403, page({ title: 'Refused', path: '', body: notice(esc(why), 'error') }));
  };

  guardedPost('/ui/signout', async (_ctx, _form, res, req) => {
    const id = cookieValue(req, SESSION_COOKIE);
    if (id) await sessions.close(id);
    redirect(res, '/ui', { 'set-cookie': clearedCookie(secure) });
  });

  guardedPost('/ui/confirm', async (ctx, form, res) => {
    const back = safeBack(form.back);
    const body =
      `<section class="panel"><h2>${esc(form.title || 'Are you sure?')}</h2><p>${esc(form.text ?? '')}</p>` +
      `<form method="post" action="/ui/act" class="inline">${hidden('csrf', ctx.csrf)}${hidden('token', form.token ?? '')}${hidden('back', back)}` +
      `<button type="submit" class="danger">${esc(form.confirm || 'Confirm')}</button></form> <a class="button" href="${esc(back)}">Cancel</a></section>`;
    sendHtml(res, 200, page({ title: 'Confirm', path: '', invoker: ctx.invoker, csrf: ctx.csrf, body }));
  });

  guardedPost('/ui/act', async (ctx, form, res) => outcomePage(ctx, res, await front.dispatcher.click(form.token ?? '', ctx.invoker), safeBack(form.back)));

  guardedPost('/ui/run', async (ctx, form, res) => {
    const built = formCommand(form);
    if (!built.ok) return sendHtml(res, 400, page({ title: 'Not run', path: '', invoker: ctx.invoker, csrf: ctx.csrf, body: notice(esc(built.error), 'error') }));
    outcomePage(ctx, res, await front.dispatcher.run(built.line, ctx.invoker), built.back);
  });
}

/** What an action did: 200 done, 403 refused by role, 400 otherwise; with a way back. */
function outcomePage(ctx: PageContext, res: ServerResponse, result: DispatchResult, back: string): void {
  const status = result.status === 'ok' ? 200 : result.status === 'denied' ? 403 : 400;
  const title = result.status === 'ok' ? 'Done' : result.status === 'denied' ? 'Refused' : 'Not done';
  const { text, ...rest } = result.reply;
  const body = notice(chatText(text), result.status === 'ok' ? 'ok' : 'error') + show(ctx, { ...result, reply: { ...rest, text: '' } }) + `<p><a class="button" href="${esc(back)}">Back</a></p>`;
  sendHtml(res, status, page({ title, path: '', invoker: ctx.invoker, csrf: ctx.csrf, body }));
}
