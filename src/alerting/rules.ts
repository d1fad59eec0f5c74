/**
 * The parameters of the alert rules a process is given (the composition root passes
 * `alerts/index.ts`'s), their defaults and descriptions, and the runtime values of those
 * parameters (`config set alerts.<rule>.<param>`).
 */
import { z } from 'zod';
import type { ConfigKeyDecl } from '../flow/runtimeConfig.ts';
import type { Logger } from '../log.ts';
import { formatDuration } from '../util/duration.ts';
import { flag, type AlertRule } from './rule.ts';

/** Every rule also has this switch: `config set alerts.<rule>.enabled off`. */
const ENABLED = flag(true, 'Evaluate this rule (off: its alerts resolve once clear for its window)');

/** One settable parameter, as `config get` lists it. */
export interface AlertParamInfo {
  /** The config key: `alerts.<rule>.<param>`. */
  key: string;
  rule: string;
  param: string;
  /** The default as one would type it ('15m', '0.05'). */
  default: string;
  description: string;
}

/** Reads a runtime configuration value by key (the engine's SettingsStore does). */
export interface ConfigSource {
  config<T = unknown>(key: string): T | undefined;
}

/** The config key of one parameter. */
export const alertConfigKey = (rule: string, param: string) => `alerts.${rule}.${param}`;

/** A rule by name among the given ones. */
export function findRule(name: string, rules: readonly AlertRule[]): AlertRule | undefined {
  return rules.find((r) => r.name === name);
}

function meta(schema: z.ZodType): { description?: string; defaultText?: string; duration?: boolean } {
  return (schema.meta() ?? {}) as { description?: string; defaultText?: string; duration?: boolean };
}

/** Every parameter of every rule, with default and description, for `config get`. */
export function alertParams(rules: readonly AlertRule[]): AlertParamInfo[] {
  const out: AlertParamInfo[] = [];
  for (const rule of rules) {
    const shape: Record<string, z.ZodType> = { ...(rule.params.shape as Record<string, z.ZodType>), enabled: ENABLED };
    for (const [param, schema] of Object.entries(shape)) {
      const m = meta(schema);
      out.push({ key: alertConfigKey(rule.name, param), rule: rule.name, param, default: m.defaultText ?? '', description: m.description ?? '' });
    }
  }
  return out;
}

/** The parameters of a rule in effect: each runtime value that validates, else the default. */
export function ruleParams(rule: AlertRule, source: ConfigSource, log?: Logger): { params: Record<string, unknown>; enabled: boolean } {
  const shape = rule.params.shape as Record<string, z.ZodType>;
  const params: Record<string, unknown> = {};
  for (const [param, schema] of Object.entries(shape)) params[param] = readOne(rule.name, param, schema, source, log);
  const enabled = readOne(rule.name, 'enabled', ENABLED, source, log) as boolean;
  return { params, enabled };
}

function readOne(rule: string, param: string, schema: z.ZodType, source: ConfigSource, log?: Logger): unknown {
  const key = alertConfigKey(rule, param);
  const raw = source.config(key);
  if (raw !== undefined && raw !== null) {
    const parsed = schema.safeParse(raw);
    if (parsed.success) return parsed.data;
    log?.warn({ key, value: raw, problem: parsed.error.issues[0]?.message }, 'ignoring an invalid alert parameter; using its default');
  }
  return schema.parse(undefined);
}

/** Parameters for display: durations as '15m', the rest as text. */
export function describeParams(rule: AlertRule, params: Record<string, unknown>): Array<{ param: string; value: string; default: string; key: string }> {
  const shape = rule.params.shape as Record<string, z.ZodType>;
  return Object.entries(shape).map(([param, schema]) => {
    const m = schema.meta() as { duration?: boolean; defaultText?: string } | undefined;
    const v = params[param];
    return { param, key: alertConfigKey(rule.name, param), value: m?.duration && typeof v === 'number' ? formatDuration(v) : String(v), default: m?.defaultText ?? '' };
  });
}

/** The schema, default and description of one `alerts.<rule>.<param>` key, for `config set` to validate with. */
export function alertParamDecl(key: string, rules: readonly AlertRule[]): { schema: z.ZodType; info: AlertParamInfo } | undefined {
  const info = alertParams(rules).find((p) => p.key === key);
  if (!info) return undefined;
  const rule = findRule(info.rule, rules)!;
  const schema = info.param === 'enabled' ? ENABLED : (rule.params.shape as Record<string, z.ZodType>)[info.param];
  return { schema, info };
}

/** Reads `config set` text as the value a rule parameter takes: numbers, booleans, else the text. */
function fromText(v: unknown): unknown {
  if (typeof v !== 'string') return v;
  if (v === 'true' || v === 'false') return v === 'true';
  return v.trim() !== '' && Number.isFinite(Number(v)) ? Number(v) : v;
}

/** Every rule parameter as a runtime key family: `config get alerts` lists them, `config set` validates them. */
export function alertConfigKeys(rules: readonly AlertRule[]): ConfigKeyDecl[] {
  return alertParams(rules).map((p) => {
    const decl = alertParamDecl(p.key, rules)!;
    return {
      pattern: p.key,
      schema: z.preprocess(fromText, decl.schema),
      description: p.description || `${p.rule}: ${p.param}`,
      defaultFor: () => decl.schema.safeParse(undefined).data,
      // Durations (`duration(...)` parameters) are shown as 10m and set as 10m or milliseconds.
      ...(meta(decl.schema).duration ? { duration: true } : {}),
    };
  });
}
