/**
 * Runtime configuration: keys declared with a zod schema, a default and a description, stored in
 * `settings` (`config:<key>`) and read by every process within GUARD_REFRESH_MS. `config get`
 * lists them; `config set` validates the key and the value and reports the old one.
 */
import { z } from 'zod';
import type { Config } from '../config.ts';
import type { JobRegistry } from '../engine/defineJob.ts';
import { DEFAULT_RETRY } from '../engine/defineJob.ts';
import type { SettingsStore } from '../engine/settings.ts';
import { DURATION_FORMS, parseDurationSetting } from '../util/duration.ts';

export interface ConfigKeyInfo {
  key: string;
  value: unknown;
  default: unknown;
  description: string;
  /** A duration in milliseconds: shown as `10m`, set as `90s`, `10m`, `1h`, `2d` or milliseconds. */
  duration?: boolean;
}

/** One family of keys: `pattern` has a single `*` standing for a job, provider or rule name. */
export interface ConfigKeyDecl {
  pattern: string;
  schema: z.ZodType;
  description: string;
  /** Names the `*` may take (jobs, providers); none for a fixed key. */
  names?: (ctx: ConfigContext) => string[];
  defaultFor: (name: string, ctx: ConfigContext) => unknown;
  /** The value is a duration in milliseconds (its schema reads `10m` as well as milliseconds). */
  duration?: boolean;
}

export interface ConfigContext {
  /** Every key family this process knows: the flow's own and those the composition root adds (alert rules). */
  keys: readonly ConfigKeyDecl[];
  jobs: JobRegistry;
  config: Pick<Config, 'CB_FAILURE_THRESHOLD' | 'CB_COOLDOWN_MS' | 'JOB_RUNS_RETENTION_DAYS'>;
}

/** A duration key's value: `90s`, `10m`, `1h`, `2d` or milliseconds (src/util/duration.ts), in milliseconds. */
export const durationValue = z.union([z.number(), z.string()]).transform((v, ctx) => {
  const ms = parseDurationSetting(v);
  if (ms === undefined) {
    ctx.addIssue({ code: 'custom', message: `expected ${DURATION_FORMS}` });
    return z.NEVER;
  }
  return ms;
});

const count = (min: number) => z.coerce.number({ error: 'expected a whole number' }).int('expected a whole number').min(min, `expected a number ≥ ${min}`);

/** Providers named by job definitions. */
export function providers(jobs: JobRegistry): string[] {
  return [...new Set(jobs.list().flatMap((d) => (d.provider ? [d.provider] : [])))].sort();
}

const jobNames = (ctx: ConfigContext) => ctx.jobs.names();

/** The key families of flow control and retention; other modules export theirs to the composition root. */
export const FLOW_CONFIG_KEYS: readonly ConfigKeyDecl[] = [
  {
    pattern: '*.max_attempts',
    schema: count(1),
    description: 'attempts in one budget before the DLQ',
    names: jobNames,
    defaultFor: (n, c) => c.jobs.get(n)?.retry?.maxAttempts ?? DEFAULT_RETRY.maxAttempts,
  },
  {
    pattern: '*.backoff_ms',
    schema: durationValue,
    duration: true,
    description: 'delay before the first retry (doubles each time, ±20 % jitter)',
    names: jobNames,
    defaultFor: (n, c) => c.jobs.get(n)?.retry?.backoffMs ?? DEFAULT_RETRY.backoffMs,
  },
  {
    pattern: '*.rpm',
    schema: count(0),
    description: 'attempts started per minute across all processes (0 = no limit)',
    names: jobNames,
    defaultFor: (n, c) => c.jobs.get(n)?.rateLimit?.rpm ?? 0,
  },
  {
    pattern: '*.concurrency',
    schema: count(0),
    description: 'attempts running at once across all processes (0 = no limit)',
    names: jobNames,
    defaultFor: (n, c) => c.jobs.get(n)?.concurrency ?? 0,
  },
  {
    pattern: 'provider.*.rpm',
    schema: count(0),
    description: 'attempts per minute of all jobs of this provider together (0 = no limit)',
    names: (c) => providers(c.jobs),
    defaultFor: () => 0,
  },
  {
    pattern: 'breaker.*.threshold',
    schema: count(1),
    description: 'consecutive failures that open the breaker',
    names: (c) => providers(c.jobs),
    defaultFor: (_n, c) => c.config.CB_FAILURE_THRESHOLD,
  },
  {
    pattern: 'breaker.*.cooldown_ms',
    schema: durationValue,
    duration: true,
    description: 'how long the breaker stays open before one trial attempt',
    names: (c) => providers(c.jobs),
    defaultFor: (_n, c) => c.config.CB_COOLDOWN_MS,
  },
  {
    pattern: 'runs.retention_days',
    schema: count(1),
    description: 'days run records are kept',
    defaultFor: (_n, c) => c.config.JOB_RUNS_RETENTION_DAYS,
  },
];

function match(decl: ConfigKeyDecl, key: string): string | undefined {
  const [pre, post] = decl.pattern.split('*');
  if (post === undefined) return key === decl.pattern ? '' : undefined;
  if (!key.startsWith(pre) || !key.endsWith(post) || key.length <= pre.length + post.length) return undefined;
  return key.slice(pre.length, key.length - post.length);
}

/** The declaration and name behind a key, or an error sentence. */
export function resolveKey(key: string, ctx: ConfigContext): { decl: ConfigKeyDecl; name: string } | { error: string } {
  for (const decl of ctx.keys) {
    const name = match(decl, key);
    if (name === undefined) continue;
    if (decl.names && !decl.names(ctx).includes(name)) {
      return { error: `\`${name}\` is not a known ${decl.pattern.startsWith('*') ? 'job' : 'name'} for \`${decl.pattern}\`; known: ${decl.names(ctx).join(', ') || 'none'}.` };
    }
    return { decl, name };
  }
  return { error: `Unknown key \`${key}\`. \`config get\` lists the keys.` };
}

/** The value in force for a key: the stored one, else the default. */
export function effective<T = unknown>(settings: SettingsStore, key: string, ctx: ConfigContext): T {
  const stored = settings.config<T>(key);
  if (stored !== undefined) return stored;
  const r = resolveKey(key, ctx);
  return ('error' in r ? undefined : r.decl.defaultFor(r.name, ctx)) as T;
}

/** Every key (optionally those starting with `prefix`) with its value, default and description. */
export function listKeys(settings: SettingsStore, ctx: ConfigContext, prefix = ''): ConfigKeyInfo[] {
  const out: ConfigKeyInfo[] = [];
  for (const decl of ctx.keys) {
    for (const name of decl.names ? decl.names(ctx) : ['']) {
      const key = decl.pattern.replace('*', name);
      if (!key.startsWith(prefix)) continue;
      const def = decl.defaultFor(name, ctx);
      out.push({ key, value: settings.config(key) ?? def, default: def, description: decl.description, ...(decl.duration ? { duration: true } : {}) });
    }
  }
  return out.sort((a, b) => a.key.localeCompare(b.key));
}

/** Validates a value for a key; returns the parsed value or an error sentence. */
export function parseValue(key: string, raw: string, ctx: ConfigContext): { value: unknown } | { error: string } {
  const r = resolveKey(key, ctx);
  if ('error' in r) return r;
  const parsed = r.decl.schema.safeParse(raw);
  if (!parsed.success) return { error: `\`${key}\`: ${parsed.error.issues[0]?.message ?? 'invalid value'} (got "${raw}").` };
  return { value: parsed.data };
}
