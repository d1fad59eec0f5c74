/** `help`, `help FAMILY` and `help COMMAND`, generated from the registry. */
import type { CommandRegistry, CommandSpec } from './registry.ts';
import type { Reply } from './reply.ts';
import { roleAllows, type Role } from '../auth/roles.ts';

/** The usage block of one command: grammar line and examples. */
export function usageText(spec: CommandSpec): string {
  const examples = spec.examples.map((e) => `  ${e}`).join('\n');
  return `Usage: ${spec.usage}${examples ? `\nExamples:\n${examples}` : ''}`;
}

/** Help for everything, a family, or one command; marks what the asker's role cannot run. */
export function helpReply(registry: CommandRegistry, words: string[], role: Role | 'none'): Reply {
  const found = words.length ? registry.resolve(words) : undefined;
  if (found && found.rest.length === 0) {
    const s = found.spec;
    const text = [`${s.path.join(' ')}: ${s.summary}`, s.description ?? '', usageText(s), `Role: ${s.role}`].filter(Boolean).join('\n');
    return { title: s.path.join(' '), text, ephemeral: true, data: { command: s.path.join(' '), usage: s.usage, role: s.role, examples: s.examples } };
  }
  const specs = registry.list(words);
  if (specs.length === 0) {
    return { text: `No command \`${words.join(' ')}\`. Type \`help\` for the list.`, ephemeral: true };
  }
  const rows = specs.map((s) => [s.usage, s.summary + (roleAllows(role, s.role) ? '' : ` (needs ${s.role})`)]);
  return {
    title: words.length ? `Commands: ${words.join(' ')}` : 'Switchboard commands',
    text: `${specs.length} command${specs.length === 1 ? '' : 's'}. \`help COMMAND\` shows its options and examples.`,
    table: { columns: ['command', 'what it does'], rows },
    ephemeral: true,
    data: { commands: specs.map((s) => ({ command: s.path.join(' '), usage: s.usage, summary: s.summary, role: s.role })) },
  };
}
