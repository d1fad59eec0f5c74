/** `breakers [list]` and `breakers reset PROVIDER` (`ops.breakers`). */
import { z } from 'zod';
import { command } from './define.ts';
import { fmtDate } from '../src/chat/reply.ts';
import { quoteArg } from '../src/chat/grammar.ts';

const list = command({
  path: ['breakers', 'list'],
  summary: 'Circuit breakers per provider: state, failures, opened at',
  usage: 'breakers [list]',
  examples: ['breakers'],
  role: 'viewer',
  args: z.object({}),
  async run(_a, { ops }) {
    const items = await ops.breakers.list();
    const open = items.filter((b) => b.state !== 'closed');
    return {
      text: items.length ? `${open.length} of ${items.length} breaker${items.length === 1 ? '' : 's'} not closed.` : 'No job names a provider, so there are no breakers.',
      table: { columns: ['provider', 'state', 'failures', 'opened at'], rows: items.map((b) => [b.provider, b.state, String(b.failures), fmtDate(b.openedAt)]) },
      actions: open.map((b) => ({ label: `Reset ${b.provider}`, command: `breakers reset ${quoteArg(b.provider)}`, confirm: { title: `Close the ${b.provider} breaker?`, text: 'Its jobs run again at once.' } })),
      data: { items },
    };
  },
});

export const breakersCommands = [
  list,
  { ...list, path: ['breakers'], usage: 'breakers', action: 'breakers_list' },
  command({
    path: ['breakers', 'reset'],
    summary: "Close a provider's breaker by hand",
    usage: 'breakers reset PROVIDER',
    examples: ['breakers reset partner-api'],
    role: 'operator',
    positionals: ['provider'],
    args: z.object({ provider: z.string({ error: 'give the PROVIDER' }) }),
    async run({ provider }, { ops, actor }) {
      const r = await ops.breakers.reset(provider, actor);
      return {
        text: r.was === 'closed' ? `The ${provider} breaker was already closed.` : `The ${provider} breaker is closed (was ${r.was}).`,
        ephemeral: false,
        data: { provider, state: 'closed', was: r.was },
        audit: { target: provider },
      };
    },
  }),
];
