/**
 * Commands are declared once (path, zod arguments, role, examples, handler) and served to every
 * front end. `help` is generated from these declarations.
 *
 * @example
 * defineCommand({
 *   path: ['dlq', 'show'], summary: 'Show one dead letter', role: 'viewer',
 *   usage: 'dlq show ID', examples: ['dlq show 65f0c1...'],
 *   positionals: ['id'], args: z.object({ id: z.string() }),
 *   run: async ({ id }, ctx) => ctx.ops.deadLetters.show(id),
 * });
 */
import { z } from 'zod';
import type { Actor } from '../db/collections.ts';
import type { Reply } from './reply.ts';
import type { Role } from '../auth/roles.ts';
import type { Ops } from '../ops/index.ts';

/** What a command's handler gets: who runs it, and the operations service (its one door). */
export interface CommandContext {
  actor: Actor;
  role: Role;
  ops: Ops;
  /** The text that was run, for commands that build follow-up buttons. */
  commandText: string;
  /** One line of progress for the asker while the command runs (the CLI prints it; chat ignores it). */
  progress: (line: string) => void;
}

export interface CommandSpec<S extends z.ZodObject = z.ZodObject> {
  /** Words that name the command: ['dlq', 'retry']. */
  path: string[];
  summary: string;
  /** One line of grammar: 'dlq retry ID...|--all [--job NAME]'. */
  usage: string;
  /** More words for `help COMMAND`. */
  description?: string;
  examples: string[];
  role: Role;
  /** Names the leading words bind to, in order; a name ending in '...' takes the rest as an array. */
  positionals?: string[];
  /** The argument bound to the trailing JSON payload, if the command takes one. */
  payloadArg?: string;
  /** Flags that never take a value. */
  booleanFlags?: string[];
  args: S;
  // A method, so that a spec of particular arguments is a CommandSpec too (the dispatcher binds
  // the arguments with `args` before it calls `run`).
  run(args: z.output<S>, ctx: CommandContext): Promise<Reply>;
  /** Audit action name; defaults to the path joined by '_'. */
  action?: string;
}

/** Declares a command (identity function that keeps the types). */
export function defineCommand<S extends z.ZodObject>(spec: CommandSpec<S>): CommandSpec<S> {
  return spec;
}

export class CommandRegistry {
  private readonly byKey = new Map<string, CommandSpec>();

  constructor(specs: Iterable<CommandSpec> = []) {
    for (const s of specs) this.add(s);
  }

  /** Adds a command; a second command with the same path is an error. */
  add(spec: CommandSpec): void {
    const key = spec.path.join(' ');
    if (this.byKey.has(key)) throw new Error(`command "${key}" is defined twice`);
    this.byKey.set(key, spec);
  }

  /** The command named by the longest prefix of `words`, and the words after it. */
  resolve(words: string[]): { spec: CommandSpec; rest: string[] } | undefined {
    const lower = words.map((w) => w.toLowerCase());
    for (let n = Math.min(lower.length, 3); n > 0; n--) {
      const spec = this.byKey.get(lower.slice(0, n).join(' '));
      if (spec) return { spec, rest: words.slice(n) };
    }
    return undefined;
  }

  /** Commands whose path starts with `prefix` (all when empty). */
  list(prefix: string[] = []): CommandSpec[] {
    const p = prefix.map((w) => w.toLowerCase());
    return [...this.byKey.values()]
      .filter((s) => p.every((w, i) => s.path[i] === w))
      .sort((a, b) => a.path.join(' ').localeCompare(b.path.join(' ')));
  }

  /** Every command path, and every family name ('dlq'), for suggestions. */
  names(): string[] {
    const out = new Set<string>();
    for (const s of this.byKey.values()) {
      out.add(s.path.join(' '));
      out.add(s.path[0]);
    }
    return [...out];
  }

  /** The union of every command's boolean flags, plus the global ones. */
  booleanFlags(): Set<string> {
    const out = new Set(['json', 'help', 'all', 'wait']);
    for (const s of this.byKey.values()) for (const f of s.booleanFlags ?? []) out.add(f);
    return out;
  }
}

/** The option names a command accepts: its argument keys that are not positionals or the payload. */
export function optionNames(spec: CommandSpec): string[] {
  const positional = new Set((spec.positionals ?? []).map((p) => p.replace(/\.\.\.$/, '')));
  return Object.keys(spec.args.shape)
    .filter((k) => !positional.has(k) && k !== spec.payloadArg)
    .map(toFlag);
}

/** camelCase argument name → --kebab-case flag. */
export function toFlag(key: string): string {
  return key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
}

/** --kebab-case flag → camelCase argument name. */
export function fromFlag(flag: string): string {
  return flag.replace(/-([a-z0-9])/g, (_, c: string) => c.toUpperCase());
}
