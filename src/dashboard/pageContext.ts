/**
 * What a dashboard page works with: the front end's services, the signed-in invoker, the session's CSRF token, the
 * query, and `run`, which runs a command line through the Dispatcher as the invoker (so a page's
 * reads are role-checked and audited like the same command typed in chat).
 */
import type { FrontEnd } from '../chat/frontEnd.ts';
import type { DispatchResult, Invoker } from '../chat/dispatcher.ts';
import { quoteArg } from '../chat/grammar.ts';
import type { ReplyAction } from '../chat/reply.ts';
import { renderReply, type ReplyViewContext } from './replyView.ts';

export interface PageContext {
  front: FrontEnd;
  invoker: Invoker;
  csrf: string;
  query: URLSearchParams;
  /** This page's path with its query, to come back to after an action. */
  here: string;
}

export interface PageResult {
  title: string;
  body: string;
  charts?: boolean;
}

export type Page = (ctx: PageContext) => Promise<PageResult>;

/** Runs a command line as the page's invoker. */
export function run(ctx: PageContext, line: string): Promise<DispatchResult> {
  return ctx.front.dispatcher.run(line, ctx.invoker);
}

/** A command line from words and options; values are quoted, empty options left out. */
export function line(words: string[], options: Record<string, string | undefined> = {}): string {
  const opts = Object.entries(options).flatMap(([k, v]) => (v ? [`--${k} ${quoteArg(v)}`] : []));
  return [...words.map(quoteArg), ...opts].join(' ');
}

/** A query parameter, trimmed; undefined when empty. */
export function param(ctx: PageContext, name: string): string | undefined {
  const v = ctx.query.get(name)?.trim();
  return v ? v : undefined;
}

/** A dispatch result as HTML (its Reply, or its refusal as a notice). */
export function show(ctx: PageContext, result: DispatchResult, links?: ReplyViewContext['links']): string {
  return renderReply(result.reply, { ...viewContext(ctx), links });
}

/** What the reply view needs from a page. */
export function viewContext(ctx: PageContext): ReplyViewContext {
  return { dispatcher: ctx.front.dispatcher, invoker: ctx.invoker, csrf: ctx.csrf, back: ctx.here };
}

/** Actions the dashboard offers beyond a command's own (cancel a job): tokens from the same store as buttons. */
export async function withTokens(ctx: PageContext, actions: ReplyAction[]): Promise<ReplyAction[]> {
  const allowed = actions.filter((a) => ctx.front.dispatcher.allows(a.command, ctx.invoker));
  return Promise.all(allowed.map(async (a) => ({ ...a, token: await ctx.front.tokens.create(a.command, a.label) })));
}

/** True when the invoker's role may run the command a line names. */
export function may(ctx: PageContext, command: string): boolean {
  return ctx.invoker.role !== 'none' && ctx.front.dispatcher.allows(command, ctx.invoker);
}
