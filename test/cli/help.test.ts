/** `help` on a terminal: one line per command, usage then summary, cut to the terminal's width. */
import { describe, it, expect } from 'vitest';
import { commandRegistry } from '../../commands/index.ts';
import { helpForTerminal, helpReply } from '../../src/chat/help.ts';
import { replyForTerminal } from '../../src/chat/adapters/console.ts';

const registry = commandRegistry();

describe('help listing on a terminal', () => {
  it('fits a narrow terminal with one line per command, usage first', () => {
    const reply = helpReply(registry, [], 'admin').reply;
    const rows = reply.table!.rows;
    for (const width of [30, 40, 60, 100]) {
      const lines = helpForTerminal(reply, width)!.split('\n');
      const commands = lines.slice(-rows.length);
      // Title and count first, wrapped to the width.
      expect(lines.slice(0, -rows.length).join(' ')).toBe(`Switchboard commands ${reply.text}`);
      for (const line of lines) expect(line.length, line).toBeLessThanOrEqual(width);
      // Each line is its command's usage (cut only when the usage alone is wider than the line), then its summary.
      commands.forEach((line, i) => {
        const [usage, summary] = rows[i];
        if (usage.length + 2 < width) {
          expect(line.startsWith(usage)).toBe(true);
          expect(summary.startsWith(line.slice(usage.length).trim().replace(/…$/, ''))).toBe(true);
        } else expect(usage.startsWith(line.replace(/…$/, ''))).toBe(true);
      });
    }
  });

  it('lists a default subcommand once: `breakers [list]`, not also `breakers`', () => {
    const reply = helpReply(registry, [], 'admin').reply;
    const usages = reply.table!.rows.map((r) => r[0]);
    expect(usages.filter((u) => u.startsWith('breakers'))).toEqual(['breakers [list]', 'breakers reset PROVIDER']);
    expect(usages).toHaveLength(registry.list().length - 1); // only the alias is dropped
    expect(helpReply(registry, ['breakers', 'list'], 'admin').reply.title).toBe('breakers list'); // both names still run
    expect(helpReply(registry, ['breakers'], 'admin').reply.title).toBe('breakers');
  });

  it('marks what the role cannot run, and leaves other replies to the plain renderer', () => {
    const viewer = helpForTerminal(helpReply(registry, ['killswitch'], 'viewer').reply, 200)!;
    expect(viewer).toMatch(/^killswitch on .*\(needs admin\)$/m);
    const one = helpReply(registry, ['dlq', 'show'], 'admin').reply;
    expect(helpForTerminal(one, 40)).toBeUndefined();
    expect(replyForTerminal(one, 40)).toContain('Usage: dlq show');
  });
});
