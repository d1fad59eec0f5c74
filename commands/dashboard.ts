/** `dashboard`: a sign-in link to the web dashboard for whoever asks; it works once, for 10 minutes. */
import { z } from 'zod';
import { command } from './define.ts';
import { fmtDate } from '../src/chat/reply.ts';

export const dashboardCommand = command({
  path: ['dashboard'],
  summary: 'A sign-in link to the web dashboard (works once, for 10 minutes)',
  usage: 'dashboard',
  description: 'The link signs you in as yourself, with your role; open it in your browser and do not share it. DASHBOARD_URL sets where it points.',
  examples: ['dashboard'],
  role: 'viewer',
  action: 'dashboard_link',
  args: z.object({}),
  async run(_a, { ops, actor }) {
    const { url, expiresAt } = await ops.signInLinks.create(actor);
    return {
      title: 'Dashboard',
      text: `Open ${url} to sign in as ${actor.name}; it works once, until ${fmtDate(expiresAt)}. Do not share it.`,
      ephemeral: true,
      data: { url, expiresAt },
      audit: { target: 'dashboard' },
    };
  },
});
