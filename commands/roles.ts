/** `roles list|grant|revoke`: who may do what in chat (admin; `ops.roles`, src/ops/roles.ts). */
import { z } from 'zod';
import { command } from './define.ts';
import { fmtDate } from '../src/chat/reply.ts';
import { ROLES } from '../src/auth/roles.ts';
import type { UserRef } from '../src/ops/roles.ts';
import { actedOn } from '../src/chat/outcome.ts';

/** `slack:U123`, `telegram:12345`, or a Slack mention `<@U123|name>` / `<@U123>` (meaning slack). */
export function parseUserRef(text: string): UserRef | undefined {
  const mention = /^<@([UW][A-Z0-9_]+)(?:\|([^>]*))?>$/.exec(text.trim());
  if (mention) return { platform: 'slack', userId: mention[1], ...(mention[2] ? { name: mention[2] } : {}) };
  const slack = /^slack:([UW][A-Z0-9_]+)$/i.exec(text.trim());
  if (slack) return { platform: 'slack', userId: slack[1].toUpperCase() };
  const telegram = /^telegram:(-?\d+)$/i.exec(text.trim());
  if (telegram) return { platform: 'telegram', userId: telegram[1] };
  return undefined;
}

const USER_ERROR = 'expected slack:U123, telegram:12345 or a Slack mention like @ana';
const user = z.string({ error: `give the user: ${USER_ERROR}` }).transform((s, ctx) => {
  const ref = parseUserRef(s);
  if (!ref) {
    ctx.addIssue({ code: 'custom', message: USER_ERROR });
    return z.NEVER;
  }
  return ref;
});
const show = (u: UserRef) => `${u.platform}:${u.userId}${u.name ? ` (${u.name})` : ''}`;

export const rolesCommands = [
  command({
    path: ['roles', 'list'],
    summary: 'Chat users and their roles',
    usage: 'roles list',
    description: 'Slack users in SLACK_ADMIN_USER_IDS are admins whatever this list says; users not listed get the default role.',
    examples: ['roles list'],
    role: 'admin',
    args: z.object({}),
    async run(_a, { ops }) {
      const items = await ops.roles.list();
      return {
        text: items.length ? `${items.length} user${items.length === 1 ? '' : 's'} with a role.` : 'No roles granted yet; everyone has the default role.',
        table: { columns: ['user', 'name', 'role', 'granted by', 'at'], rows: items.map((i) => [`${i.platform}:${i.userId}`, i.name ?? '', i.role, i.grantedBy ?? '', fmtDate(i.grantedAt)]) },
        data: { items },
      };
    },
  }),
  command({
    path: ['roles', 'grant'],
    summary: 'Give a chat user a role (viewer, operator, admin)',
    usage: 'roles grant USER viewer|operator|admin',
    description: 'USER is slack:U123, telegram:12345, or a Slack mention.',
    examples: ['roles grant @ana operator', 'roles grant telegram:12345 viewer'],
    role: 'admin',
    positionals: ['user', 'role'],
    args: z.object({ user, role: z.enum(ROLES, { error: 'expected viewer, operator or admin' }) }),
    async run({ user: u, role }, { ops, actor }) {
      const before = await ops.roles.grant(u, role, actor);
      return {
        text: before === role ? `${show(u)} already had the ${role} role.` : `${show(u)} now has the ${role} role${before ? ` (was ${before})` : ''}.`,
        data: { platform: u.platform, userId: u.userId, role, before: before ?? null },
        audit: { target: `${u.platform}:${u.userId}`, detail: { role, before: before ?? null } },
      };
    },
  }),
  command({
    path: ['roles', 'revoke'],
    summary: "Remove a chat user's role (they fall back to the default role)",
    usage: 'roles revoke USER',
    examples: ['roles revoke @ana', 'roles revoke telegram:12345'],
    role: 'admin',
    positionals: ['user'],
    args: z.object({ user }),
    async run({ user: u }, { ops }) {
      const before = await ops.roles.revoke(u);
      // Nobody to revoke is a failed action (exit 1), told in the same words as every other.
      const outcome = actedOn({ done: before ? 1 : 0, skipped: before ? [] : [{ target: show(u), reason: 'has no role to revoke' }], verb: 'Revoked', noun: 'role' });
      return {
        text: before ? `${show(u)} no longer has the ${before} role; the default role applies.` : outcome.text,
        outcome: outcome.outcome,
        data: { platform: u.platform, userId: u.userId, before: before ?? null },
        audit: { target: `${u.platform}:${u.userId}`, detail: { before: before ?? null } },
      };
    },
  }),
];
