/**
 * The one command pipeline: parse → resolve → bind arguments → authorize → run → audit → Reply.
 * Every front end (CLI, console, Slack, Telegram, HTTP) calls `run` with text, or `click` with a
 * button's token. It never throws for anything a user typed.
 */
import { randomBytes } from 'node:crypto';
import type { Actor } from '../db/collections.ts';
import type { Logger } from '../log.ts';
import type { AuditLog } from '../ops/audit.ts';
import type { Ops } from '../ops/index.ts';
import { OpsError, UsageError } from '../errors.ts';
import type { ActionTokens } from './actions.ts';
import { parseCommandLine } from './grammar.ts';
import { helpReply, usageText } from './help.ts';
import { fromFlag, optionNames, type CommandRegistry, type CommandSpec } from './registry.ts';
import { fmtDate, type Reply } from './reply.ts';
import { roleAllows, type Role } from '../auth/roles.ts';
import { didYouMean } from './suggest.ts';
import { actedOnNothing } from './outcome.ts';
import { echo } from '../util/echo.ts';

export interface Invoker {
  actor: Actor;
  role: Role | 'none';
}

export type DispatchStatus = 'ok' | 'usage' | 'denied' | 'error';

export interface DispatchResult {
  status: DispatchStatus;
  reply: Reply;
  spec?: CommandSpec;
}

/** CLI exit code for a dispatch status: 0 ok, 1 failed or denied, 2 usage. */
export function exitCode(status: DispatchStatus): number {
  return status === 'ok' ? 0 : status === 'usage' ? 2 : 1;
}

/** What a front end may give a run besides the text: where progress lines go (`jobs run --wait`). */
export interface RunOptions {
  progress?: (line: string) => void;
}

/** Audit action of a line that names no command; the text is kept only up to AUDIT_TEXT_MAX. */
export const UNKNOWN_ACTION = 'unknown';
const AUDIT_TEXT_MAX = 1000;

export interface DispatcherOptions {
  registry: CommandRegistry;
  ops: Ops;
  audit: AuditLog;
  tokens: ActionTokens;
  log: Logger;
}

export class Dispatcher {
  readonly registry: CommandRegistry;
  private readonly opts: DispatcherOptions;

  constructor(opts: DispatcherOptions) {
    this.opts = opts;
    this.registry = opts.registry;
  }

  /** Runs one command line as `invoker`. */
  async run(text: string, invoker: Invoker, runOpts: RunOptions = {}): Promise<DispatchResult> {
    const parsed = parseCommandLine(text, { booleanFlags: this.registry.booleanFlags() });
    if (!parsed.ok) {
      return this.finish(invoker, text, 'parse', { status: 'usage', reply: { text: `${parsed.error}. Try \`help\`.`, ephemeral: true } });
    }
    const { words, options, payload } = parsed.value;
    if (words.length === 0 || words[0].toLowerCase() === 'help') {
      const help = helpReply(this.registry, words.slice(1), invoker.role);
      return this.finish(invoker, text, 'help', { status: help.found ? 'ok' : 'usage', reply: help.reply });
    }
    const found = this.registry.resolve(words);
    if (!found) return this.finish(invoker, text, UNKNOWN_ACTION, { status: 'usage', reply: { text: unknownCommand(this.registry, words), ephemeral: true } });
    const { spec, rest } = found;
    const action = spec.action ?? spec.path.join('_');
    if (options.help === true) return this.finish(invoker, text, 'help', { status: 'ok', reply: helpReply(this.registry, spec.path, invoker.role).reply });
    // `breakers explode`: the family's default command does not take the word; say what the family has.
    if (rest.length && !(spec.positionals ?? []).length && this.registry.list([spec.path[0]]).length > 1) {
      return this.finish(invoker, text, UNKNOWN_ACTION, { status: 'usage', reply: { text: unknownCommand(this.registry, [...spec.path, ...rest]), ephemeral: true } });
    }
    const bound = bindArgs(spec, rest, options, payload);
    if (!bound.ok) return this.finish(invoker, text, action, usage(spec, bound.error), spec);
    if (!roleAllows(invoker.role, spec.role)) {
      const reply = {
        text: `You need the ${spec.role} role for \`${spec.path.join(' ')}\`; you have ${invoker.role === 'none' ? 'no role' : `the ${invoker.role} role`}.`,
        ephemeral: true,
      };
      return this.finish(invoker, text, action, { status: 'denied', reply }, spec);
    }
    try {
      const progress = runOpts.progress ?? (() => {});
      const reply = await spec.run(bound.args as never, { actor: invoker.actor, role: invoker.role as Role, ops: this.opts.ops, commandText: text, progress });
      await this.attachTokens(reply);
      // Targets were named and none was acted on: the command failed, whatever it printed.
      return await this.finish(invoker, text, action, { status: actedOnNothing(reply.outcome) ? 'error' : 'ok', reply }, spec);
    } catch (err) {
      if (err instanceof UsageError) return this.finish(invoker, text, action, usage(spec, err.message), spec);
      if (err instanceof OpsError) {
        return this.finish(invoker, text, action, { status: 'error', reply: { text: err.message, ephemeral: true } }, spec);
      }
      const ref = randomBytes(3).toString('hex');
      this.opts.log.error({ err, ref, command: spec.path.join(' ') }, 'command failed');
      const reply = { text: `\`${spec.path.join(' ')}\` failed on our side (ref ${ref}); the details are in the server log.`, ephemeral: true };
      return this.finish(invoker, text, action, { status: 'error', reply }, spec);
    }
  }

  /**
   * A button click: the token's command runs as the clicker, once. A clicker without the role is
   * refused without using the token; a second click is told who did it and when.
   */
  async click(token: string, invoker: Invoker): Promise<DispatchResult & { alreadyDone?: { by: Actor; at: Date } }> {
    const { tokens } = this.opts;
    const peeked = await tokens.peek(token);
    if (peeked.status === 'unknown' || peeked.status === 'expired') {
      return { status: 'error', reply: { text: 'This button has expired; run the command again.', ephemeral: true } };
    }
    if (peeked.status === 'used') return alreadyDone(peeked.by, peeked.at);
    // Refused through the same path as typing it, so the denial is answered and audited.
    if (!this.allows(peeked.command, invoker)) return this.run(peeked.command, invoker);
    const used = await tokens.markUsed(token, invoker.actor);
    if (used.status === 'used') return alreadyDone(used.by, used.at);
    return this.run(peeked.command, invoker);
  }

  /** True when a button's token is live and its command is one the invoker's role may run. */
  async mayClick(token: string, invoker: Invoker): Promise<boolean> {
    const peeked = await this.opts.tokens.peek(token);
    return peeked.status === 'ok' && this.allows(peeked.command, invoker);
  }

  /** Whether the invoker's role reaches the command a text names (unknown text: the run will say). */
  allows(command: string, invoker: Invoker): boolean {
    const parsed = parseCommandLine(command);
    const found = parsed.ok ? this.registry.resolve(parsed.value.words) : undefined;
    return !found || roleAllows(invoker.role, found.spec.role);
  }

  private async attachTokens(reply: Reply): Promise<void> {
    for (const a of reply.actions ?? []) a.token ??= await this.opts.tokens.create(a.command, a.label);
  }

  private async finish(invoker: Invoker, text: string, action: string, result: DispatchResult, spec?: CommandSpec): Promise<DispatchResult> {
    const outcome = result.status === 'ok' ? 'ok' : result.status === 'denied' ? 'denied' : 'error';
    try {
      await this.opts.audit.record({
        action,
        actor: invoker.actor,
        command: text.length > AUDIT_TEXT_MAX ? `${text.slice(0, AUDIT_TEXT_MAX - 1)}…` : text,
        outcome,
        ...(result.reply.audit?.target ? { target: result.reply.audit.target } : {}),
        ...(result.reply.audit?.reason ? { reason: result.reply.audit.reason } : {}),
        ...(result.reply.audit?.detail ? { detail: result.reply.audit.detail } : {}),
        ...(outcome !== 'ok' ? { error: result.reply.text } : {}),
      });
    } catch (err) {
      this.opts.log.error({ err, action }, 'audit write failed');
    }
    return { ...result, spec };
  }
}

function alreadyDone(by: Actor, at: Date): DispatchResult & { alreadyDone: { by: Actor; at: Date } } {
  return { status: 'ok', reply: { text: `Already done by ${by.name} at ${fmtDate(at)}.`, ephemeral: true }, alreadyDone: { by, at } };
}

/**
 * "Unknown command" for words that name none: the family's subcommands when the first word is a
 * family (`jobs explode`), else the nearest command names. The words are echoed, capped and escaped.
 */
export function unknownCommand(registry: CommandRegistry, words: string[]): string {
  const family = registry.list([words[0]]);
  if (family.length && words.length > 1) {
    const subs = [...new Set(family.map((s) => s.path.slice(1).join(' ')).filter(Boolean))];
    const name = words[0].toLowerCase();
    return `Unknown command \`${echo(`${name} ${words[1]}`)}\`.${didYouMean(words[1], subs, (w) => `${name} ${w}`)} \`${name}\` has: ${subs.join(', ')}. Type \`help ${name}\` for details.`;
  }
  return `Unknown command \`${echo(words[0])}\`.${didYouMean(words.slice(0, 2).join(' '), registry.names())} Type \`help\` for the list.`;
}

function usage(spec: CommandSpec, problem: string): DispatchResult {
  return { status: 'usage', reply: { text: `${problem}\n${usageText(spec)}`, ephemeral: true } };
}

type Bound = { ok: true; args: unknown } | { ok: false; error: string };

/** Binds words and options to the command's argument names and validates them with its schema. */
export function bindArgs(spec: CommandSpec, rest: string[], options: Record<string, string | true | string[]>, payload: unknown): Bound {
  const input: Record<string, unknown> = {};
  const positionals = spec.positionals ?? [];
  let i = 0;
  for (const name of positionals) {
    if (name.endsWith('...')) {
      input[name.slice(0, -3)] = rest.slice(i);
      i = rest.length;
    } else if (i < rest.length) {
      input[name] = rest[i++];
    }
  }
  if (i < rest.length) return { ok: false, error: `Unexpected \`${echo(rest[i])}\`.` };
  const allowed = new Set(optionNames(spec));
  for (const [flag, value] of Object.entries(options)) {
    if (flag === 'json') continue;
    if (!allowed.has(flag)) return { ok: false, error: `Unknown option \`--${echo(flag)}\`.${didYouMean(flag, [...allowed], (f) => `--${f}`)}` };
    input[fromFlag(flag)] = value;
  }
  if (payload !== undefined) {
    if (!spec.payloadArg) return { ok: false, error: 'This command takes no JSON payload.' };
    input[spec.payloadArg] = payload;
  }
  const parsed = spec.args.safeParse(input);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const key = String(issue?.path[0] ?? '');
    const isOption = key && !positionals.some((p) => p.replace(/\.\.\.$/, '') === key) && key !== spec.payloadArg;
    const where = key ? (isOption ? `--${key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}` : key.toUpperCase()) : 'arguments';
    const sub = issue && issue.path.length > 1 ? ` (${issue.path.slice(1).join('.')})` : '';
    return { ok: false, error: `${where}${sub}: ${issue?.message ?? 'invalid'}.` };
  }
  return { ok: true, args: parsed.data };
}
