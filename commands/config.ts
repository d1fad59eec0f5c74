/** `config get [KEY]` and `config set KEY VALUE`: runtime configuration, no restart (`ops.config`). */
import { z } from 'zod';
import { command } from './define.ts';

const show = (v: unknown) => (v === undefined ? '—' : typeof v === 'string' ? v : JSON.stringify(v));

export const configCommands = [
  command({
    path: ['config', 'get'],
    summary: 'Runtime settings: value, default, what each does',
    usage: 'config get [KEY|PREFIX]',
    examples: ['config get', 'config get http.invoke', 'config get breaker.partner-api.cooldown_ms'],
    role: 'viewer',
    positionals: ['key'],
    args: z.object({ key: z.string().optional() }),
    async run({ key }, { ops }) {
      const items = ops.config.get(key);
      return {
        text: `${items.length} setting${items.length === 1 ? '' : 's'}${key ? ` matching ${key}` : ''}.`,
        table: { columns: ['key', 'value', 'default', 'what it does'], rows: items.map((i) => [i.key, show(i.value), show(i.default), i.description]) },
        data: { items },
      };
    },
  }),
  command({
    path: ['config', 'set'],
    summary: 'Change a runtime setting in every process (within seconds); `default` resets it',
    usage: 'config set KEY VALUE',
    examples: ['config set http.invoke.rpm 120', 'config set http.invoke.max_attempts 3', 'config set breaker.partner-api.threshold default'],
    role: 'admin',
    positionals: ['key', 'value'],
    args: z.object({ key: z.string({ error: 'give the KEY' }), value: z.string({ error: 'give the VALUE (or `default`)' }) }),
    async run({ key, value }, { ops, actor }) {
      const r = await ops.config.set(key, value, actor);
      return {
        text: `${key}: ${show(r.old)} → ${show(r.value)}.`,
        ephemeral: false,
        data: r,
        audit: { target: key, detail: { old: r.old ?? null, value: r.value ?? null } },
      };
    },
  }),
];
