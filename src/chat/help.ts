/**
 * `help`, `help FAMILY` and `help COMMAND`, generated from the registry; and the listing's
 * terminal form, one line per command cut to the terminal's width (chat front ends show the table).
 */
import type { CommandRegistry, CommandSpec } from './registry.ts';
import { truncate, type Reply } from './reply.ts';
import { roleAllows, type Role } from '../auth/roles.ts';
import { echo } from '../util/echo.ts';
import { didYouMean } from './suggest.ts';

/** The usage block of one command: grammar line and examples. */
export function usageText(spec: CommandSpec): string {
  const examples = spec.examples.map((e) => `  ${e}`).join('\n');
  return `Usage: ${spec.usage}${examples ? `\nExamples:\n${examples}` : ''}`;
}

/**
 * Help for everything, a family, or one command; marks what the asker's role cannot run.
 * `found` is false for words that name no command (the reply says so, with suggestions, and its
 * `data` holds the error).
 */
export function helpReply(registry: CommandRegistry, words: string[], role: Role | 'none'): { found: boolean; reply: Reply } {
  const found = words.length ? registry.resolve(words) : undefined;
  if (found && found.rest.length === 0) {
    const s = found.spec;
    const text = [`${s.path.join(' ')}: ${s.summary}`, s.description ?? '', usageText(s), `Role: ${s.role}`].filter(Boolean).join('\n');
    return { found: true, reply: { title: s.path.join(' '), text, ephemeral: true, data: { command: s.path.join(' '), usage: s.usage, role: s.role, examples: s.examples } } };
  }
  const specs = withoutAliases(registry.list(words));
  if (specs.length === 0) {
    const text = `No command \`${echo(words.join(' '))}\`.${didYouMean(words.slice(0, 2).join(' '), registry.names())} Type \`help\` for the list.`;
    return { found: false, reply: { text, ephemeral: true, data: { error: text } } };
  }
  const rows = specs.map((s) => [s.usage, s.summary + (roleAllows(role, s.role) ? '' : ` (needs ${s.role})`)]);
  const reply: Reply = {
    title: words.length ? `Commands: ${words.join(' ')}` : 'Switchboard commands',
    text: `${specs.length} command${specs.length === 1 ? '' : 's'}. \`help COMMAND\` shows its options and examples.`,
    table: { columns: [LISTING_COLUMNS[0], LISTING_COLUMNS[1]], rows },
    ephemeral: true,
    data: { commands: specs.map((s) => ({ command: s.path.join(' '), usage: s.usage, summary: s.summary, role: s.role })) },
  };
  return { found: true, reply };
}

/**
 * Drops a family's default command when its subcommand is listed too: `breakers` runs what
 * `breakers list` runs (same handler), and `breakers [list]` already says so.
 */
function withoutAliases(specs: CommandSpec[]): CommandSpec[] {
  return specs.filter((s) => !specs.some((other) => other !== s && other.run === s.run && other.path.length > s.path.length));
}

const LISTING_COLUMNS = ['command', 'what it does'] as const;
/** The usage column stops growing here; a longer usage pushes its summary along its own line. */
const USAGE_COLUMN_SHARE = 0.45;

/**
 * The listing for a terminal of `width` columns: title and count wrapped, then one line per
 * command, usage then summary, cut to the width. Undefined for any other reply.
 *
 * @example helpForTerminal(reply, process.stdout.columns ?? 80)
 */
export function helpForTerminal(reply: Reply, width: number): string | undefined {
  const t = reply.table;
  if (!t || t.columns.length !== 2 || t.columns[0] !== LISTING_COLUMNS[0] || t.columns[1] !== LISTING_COLUMNS[1]) return undefined;
  const usageWidth = Math.min(Math.max(...t.rows.map((r) => r[0].length)), Math.floor(width * USAGE_COLUMN_SHARE));
  const lines = t.rows.map(([usage, summary]) => {
    const head = usage.padEnd(usageWidth);
    return head.length + 2 >= width ? truncate(usage, width) : `${head}  ${truncate(summary, width - head.length - 2)}`;
  });
  return [...wrap(reply.title ?? '', width), ...wrap(reply.text, width), ...lines].join('\n');
}

/** Words of `text` in lines of at most `width` columns (a longer word stands alone on its line). */
function wrap(text: string, width: number): string[] {
  const lines: string[] = [];
  for (const word of text.split(/\s+/).filter(Boolean)) {
    const last = lines.length - 1;
    if (last >= 0 && lines[last].length + 1 + word.length <= width) lines[last] += ` ${word}`;
    else lines.push(word);
  }
  return lines;
}
