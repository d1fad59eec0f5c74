/** `killswitch status|on|off`: stop every new attempt everywhere; a reason is required both ways. */
import { z } from 'zod';
import { command } from './define.ts';
import { reason } from './args.ts';
import { fmtDate } from '../src/chat/reply.ts';


export const killSwitchCommands = [
  command({
    path: ['killswitch', 'status'],
    summary: 'Is the kill switch on, since when, by whom, why',
    usage: 'killswitch status',
    examples: ['killswitch status'],
    role: 'viewer',
    args: z.object({}),
    async run(_a, { ops }) {
      const s = ops.killSwitch();
      return {
        text: s.active ? `Kill switch is ON since ${fmtDate(s.at)} by ${s.by}: ${s.reason}` : `Kill switch is off${s.at ? ` (since ${fmtDate(s.at)} by ${s.by}: ${s.reason})` : ''}.`,
        data: s,
      };
    },
  }),
  ...(['on', 'off'] as const).map((mode) =>
    command({
      path: ['killswitch', mode],
      summary: mode === 'on' ? 'Stop every new attempt in every process (running ones finish)' : 'Resume work after the kill switch',
      usage: `killswitch ${mode} --reason TEXT`,
      examples: [`killswitch ${mode} --reason "${mode === 'on' ? 'provider outage, INC-42' : 'provider recovered'}"`],
      role: 'admin',
      args: z.object({ reason }),
      async run({ reason: why }, { ops, actor }) {
        const { changed, state } = await ops.setKillSwitch(mode === 'on', why, actor);
        const text = changed
          ? `Kill switch ${mode === 'on' ? 'ON: no new attempt starts anywhere within 5 s; running attempts finish' : 'off: held jobs resume'}.`
          : `Kill switch was already ${mode} (since ${fmtDate(state.at)} by ${state.by}); nothing changed.`;
        return {
          text,
          ephemeral: false,
          data: state,
          actions: mode === 'on' && changed ? [{ label: 'Turn off', command: 'killswitch off --reason "resolved"', style: 'primary' }] : [],
          audit: { target: 'global', reason: why, detail: { changed } },
        };
      },
    }),
  ),
];
