/**
 * ALERT_ROUTES: which Slack channel an alert goes to and whether the Telegram owner gets it, by
 * rule, job type or provider (`*` globs). JSON, first match wins; no match: everywhere (the
 * notifier's default channel and the owner).
 *
 * @example
 * ALERT_ROUTES='[{"match":{"rule":"backlog"},"slack":"C123","telegram":false},{"match":{"job":"inbox.*"},"slack":"C456"}]'
 */
import { z } from 'zod';
import type { AlertEvent } from './types.ts';

/** Where one alert goes (the `route` of its events). */
export type AlertRouteDecision = NonNullable<AlertEvent['route']>;

const glob = z.string().trim().min(1);
const routeSchema = z.object({
  match: z.object({ rule: glob.optional(), job: glob.optional(), provider: glob.optional() }).strict(),
  slack: z.string().trim().min(1).optional(),
  telegram: z.boolean().default(true),
});
const routesSchema = z.array(routeSchema);

/** One entry of ALERT_ROUTES. */
export type AlertRoute = z.output<typeof routeSchema>;

/** The decision when no route matches. */
export const DEFAULT_ROUTE: AlertRouteDecision = Object.freeze({ telegram: true });

/** Parses ALERT_ROUTES; throws one sentence naming the variable and the problem. */
export function parseRoutes(text: string | undefined): AlertRoute[] {
  if (!text?.trim()) return [];
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new Error('ALERT_ROUTES: expected a JSON array like [{"match":{"rule":"backlog"},"slack":"C123","telegram":false}]');
  }
  const parsed = routesSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new Error(`ALERT_ROUTES: ${issue?.path.join('.') || 'routes'}: ${issue?.message ?? 'invalid'}`);
  }
  return parsed.data;
}

function globMatches(pattern: string, value: string | undefined): boolean {
  if (value === undefined) return false;
  const re = new RegExp(`^${pattern.split('*').map((p) => p.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*')}$`);
  return re.test(value);
}

/** The route of an alert: the first route whose every given field matches. */
export function routeFor(routes: readonly AlertRoute[], alert: { rule: string; job?: string; provider?: string }): AlertRouteDecision {
  for (const r of routes) {
    const m = r.match;
    if (m.rule !== undefined && !globMatches(m.rule, alert.rule)) continue;
    if (m.job !== undefined && !globMatches(m.job, alert.job)) continue;
    if (m.provider !== undefined && !globMatches(m.provider, alert.provider)) continue;
    return { ...(r.slack ? { slackChannel: r.slack } : {}), telegram: r.telegram };
  }
  return { ...DEFAULT_ROUTE };
}
