/** `signup list|approve|deny`: pending signups and the owner's decision (the Approve/Deny buttons run these). */
import { z } from 'zod';
import { command } from './define.ts';
import { fmtDate } from '../src/chat/reply.ts';
import { OpsError } from '../src/errors.ts';
import { SignupError, type Signups } from '../src/auth/signup.ts';
import type { Ops } from '../src/ops/index.ts';

async function decide(ops: Ops, id: string, decision: 'approve' | 'deny', actor: Parameters<Signups['decide']>[2]) {
  try {
    return await ops.signups.decide(id, decision, actor);
  } catch (err) {
    if (err instanceof SignupError) throw new OpsError(err.code === 'not_found' ? 'not_found' : 'conflict', err.message);
    throw err;
  }
}

export const signupCommands = [
  command({
    path: ['signup', 'list'],
    summary: 'Signups waiting for a PIN or a decision (--all for every recent one)',
    usage: 'signup list [--all]',
    examples: ['signup list', 'signup list --all'],
    role: 'admin',
    booleanFlags: ['all'],
    args: z.object({ all: z.boolean().default(false) }),
    async run({ all }, { ops }) {
      const items = await ops.signups.list(all);
      return {
        text: items.length ? `${items.length} signup${items.length === 1 ? '' : 's'}.` : 'No pending signups.',
        table: { columns: ['id', 'name', 'contact', 'role', 'status', 'expires'], rows: items.map((s) => [s.id, s.name, s.contact, s.role, s.status, fmtDate(s.expiresAt)]) },
        data: { items },
      };
    },
  }),
  ...(['approve', 'deny'] as const).map((decision) =>
    command({
      path: ['signup', decision],
      summary: decision === 'approve' ? 'Grant a signup its role without the PIN' : 'Refuse a signup; its PIN stops working',
      usage: `signup ${decision} ID`,
      examples: [`signup ${decision} Jx3kq9ZtQb8w`],
      role: 'admin',
      positionals: ['id'],
      args: z.object({ id: z.string({ error: 'give the signup ID' }) }),
      async run({ id }, { ops, actor }) {
        const s = await decide(ops, id, decision, actor);
        return {
          text: decision === 'approve' ? `Approved ${s.name} (${s.contact}): ${s.role} role granted.` : `Denied the signup of ${s.name} (${s.contact}).`,
          ephemeral: false,
          data: s,
          audit: { target: s.contact, detail: { signup: s.id, role: s.role } },
        };
      },
    }),
  ),
];
