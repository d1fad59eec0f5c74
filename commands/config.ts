/** `config get [KEY]` and `config set KEY VALUE`: runtime configuration, no restart (`ops.config`). */
import { z } from 'zod';
import { command } from './define.ts';
import { formatDuration } from '../src/util/duration.ts';

/** A value as `config` shows it: durations as `10m` (--json keeps the milliseconds). */
const show = (v: unknown, duration?: boolean) =>
  v === undefined ? '—' : duration && typeof v === 'number' ? formatDuration(v) : typeof v === 'string' ? v : JSON.stringify(v);

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
        table: { columns: ['key', 'value', 'default', 'what it does'], rows: items.map((i) => [i.key, show(i.value, i.duration), show(i.default, i.duration), i.description]) },
        data: { items },
      };
    },
  }),
  command({
    path: ['config', 'set'],
    summary: 'Change a runtime setting in every process (within seconds); `default` resets it',
    usage: 'config set KEY VALUE',
    description: 'Duration keys (shown like 10m) take 90s, 10m, 1h, 2d or milliseconds.',
    examples: ['config set http.invoke.rpm 120', 'config set http.invoke.max_attempts 3', 'config set alerts.backlog.max_age 15m', 'config set breaker.partner-api.threshold default'],
    role: 'admin',
    positionals: ['key', 'value'],
    args: z.object({ key: z.string({ error: 'give the KEY' }), value: z.string({ error: 'give the VALUE (or `default`)' }) }),
    async run({ key, value }, { ops, actor }) {
      const r = await ops.config.set(key, value, actor);
      return {
        text: `${key}: ${show(r.old, r.duration)} → ${show(r.value, r.duration)}.`,
        ephemeral: false,
        data: r,
        audit: { target: key, detail: { old: r.old ?? null, value: r.value ?? null } },
      };
    },
  }),
];
