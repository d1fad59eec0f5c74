/**
 * `defineRule`: how an alert rule is declared, one file per rule in `alerts/`. A rule reads live
 * documents (jobs, open dead letters, breakers) and the per-minute rollups (`runRollups`), never
 * the history of run records, and returns the subjects that breach it, with their facts.
 *
 * @example
 * export default defineRule({
 *   name: 'failure-count', description: 'Failures of a job type over a window',
 *   params: z.object({ threshold: count(10, 'Failures allowed in the window'), window: duration('1h', 'Window') }),
 *   clearAfter: (p) => p.window, actions: ['retry-dlq', 'pause-job'], triage: true,
 *   async evaluate({ now, params, cols }) { ... return [{ subject: 'http.invoke', job: 'http.invoke', count: 12, ... }] },
 * });
 */
import type { LiveJob } from './ruleQueries.ts';
import type { Db } from 'mongodb';
import { z } from 'zod';
import type { ReplyField } from '../chat/reply.ts';
import type { SwitchboardCollections } from '../db/collections.ts';
import type { JobRegistry } from '../engine/defineJob.ts';
import { DURATION_FORMS, parseDuration, parseDurationSetting } from '../util/duration.ts';

/** One subject that breaches a rule now. */
export interface Breach {
  /** What the alert is about: a job type, a provider. Part of the alert key. */
  subject: string;
  /** The job type concerned, for routing, buttons and triage. */
  job?: string;
  /** The provider concerned (breaker rules). */
  provider?: string;
  /** The size of the problem (failures, backlog, stuck attempts): the alert's count. */
  count: number;
  /** Stable headline ("High failure rate: http.invoke"). */
  title: string;
  /** One line: what is wrong now. */
  summary: string;
  facts: ReplyField[];
  /** What to do first. */
  hint?: string;
}

/** Operational state a rule may consult (kill switch, pauses). */
export interface RuleSettings {
  pausedJobs(): string[];
  killSwitch(): { active: boolean };
}

/** What `evaluate` gets. */
export interface RuleContext<P> {
  now: Date;
  params: P;
  db: Db;
  cols: SwitchboardCollections;
  jobs: JobRegistry;
  settings: RuleSettings;
  /** The engine's lock lifetime: a lock older than this has expired. */
  lockLifetimeMs: number;
  /** The live jobs (`agendaJobs`), read once per evaluation for every rule that asks. */
  liveJobs: () => Promise<LiveJob[]>;
}

/** Buttons a rule's alerts offer, besides acknowledge and snooze (the last two: the switch alerts'). */
export type RuleAction = 'retry-dlq' | 'pause-job' | 'reset-breaker' | 'killswitch-off' | 'resume-job';

/** The pseudo-rules of the switch alerts (switchAlerts.ts: kill switch, pauses) and their buttons. */
export const SWITCH_RULE_ACTIONS: Readonly<Record<string, readonly RuleAction[]>> = {
  killswitch: ['killswitch-off'],
  pause: ['resume-job'],
};

/** Whether an alert comes from a setting rather than a rule (the evaluator leaves these alone). */
export const isSwitchRule = (rule: string): boolean => Object.hasOwn(SWITCH_RULE_ACTIONS, rule);

/** A declared rule; see the example at the top. */
export interface AlertRule<S extends z.ZodObject = z.ZodObject> {
  /** Lower-case words joined by dashes: 'failure-rate'. */
  name: string;
  description: string;
  /** Parameters with defaults; each is settable at runtime as `alerts.<rule>.<param>`. */
  params: S;
  /** How long a subject must stay clear before its alert resolves (hysteresis), in ms. */
  clearAfter: (params: z.output<S>) => number;
  actions: RuleAction[];
  /** Failure rules: an opened alert gets a triage note (cause classes, next steps). */
  triage?: boolean;
  evaluate: (ctx: RuleContext<z.output<S>>) => Promise<Breach[]>;
}

const NAME = /^[a-z][a-z0-9]*(-[a-z0-9]+)*$/;

/** Validates a rule (name, defaults that parse) and freezes it. */
export function defineRule<S extends z.ZodObject>(rule: AlertRule<S>): AlertRule {
  if (!NAME.test(rule.name)) throw new Error(`alert rule name "${rule.name}" must be lower-case words joined by dashes, like "failure-rate"`);
  for (const key of Object.keys(rule.params.shape)) {
    if (!/^[a-z][a-z0-9_]*$/.test(key)) throw new Error(`alert rule ${rule.name}: parameter "${key}" must be snake_case`);
  }
  const defaults = rule.params.safeParse({});
  if (!defaults.success) throw new Error(`alert rule ${rule.name}: every parameter needs a default (${defaults.error.issues[0]?.message})`);
  return Object.freeze({ ...rule }) as unknown as AlertRule;
}

/** A duration parameter: '15m', '1h30m' or milliseconds in; milliseconds out. */
export function duration(def: string, description: string) {
  const ms = parseDuration(def);
  if (ms === undefined) throw new Error(`bad default duration "${def}"`);
  return z
    .union([z.number(), z.string()])
    .transform((v, ctx) => {
      const out = parseDurationSetting(v);
      if (out === undefined) {
        ctx.addIssue({ code: 'custom', message: `expected ${DURATION_FORMS}` });
        return z.NEVER;
      }
      return out;
    })
    .default(ms)
    .meta({ description, duration: true, defaultText: def });
}

/** A non-negative number parameter (numbers or numeric text, as `config set` may store either). */
export function count(def: number, description: string, opts: { min?: number; max?: number; int?: boolean } = {}) {
  let n = z.coerce.number().min(opts.min ?? 0);
  if (opts.max !== undefined) n = n.max(opts.max);
  if (opts.int) n = n.int();
  return n.default(def).meta({ description, defaultText: String(def) });
}

/** An on/off parameter ('true', 'off', 1, ...). */
export function flag(def: boolean, description: string) {
  return z
    .union([z.boolean(), z.number(), z.string()])
    .transform((v, ctx) => {
      const s = String(v).trim().toLowerCase();
      if (['true', 'on', 'yes', '1'].includes(s)) return true;
      if (['false', 'off', 'no', '0'].includes(s)) return false;
      ctx.addIssue({ code: 'custom', message: 'expected on or off' });
      return z.NEVER;
    })
    .default(def)
    .meta({ description, defaultText: def ? 'on' : 'off' });
}
