/** ALERT_ROUTES: parsing, first-match routing by rule / job / provider, and the route on published events. */
import { describe, expect, it } from 'vitest';
import { parseRoutes, routeFor } from '../../src/alerting/routing.ts';
import { AlertService } from '../../src/alerting/service.ts';
import type { AlertView } from '../../src/alerting/types.ts';
import { quietLog, recordingNotifier } from './helpers.ts';

const ROUTES = parseRoutes(
  JSON.stringify([
    { match: { rule: 'backlog' }, slack: 'C123', telegram: false },
    { match: { job: 'inbox.*' }, slack: 'C456' },
    { match: { rule: 'breaker-*', provider: 'partner-api' }, slack: 'C789', telegram: true },
  ]),
);

const view = (rule: string, subject: string): AlertView => ({
  key: `${rule}:${subject}`,
  rule,
  subject,
  state: 'firing',
  title: 't',
  summary: 's',
  facts: [],
  count: 1,
  firstSeenAt: new Date(),
  lastSeenAt: new Date(),
  actions: [],
});

describe('routing', () => {
  it('routes by rule, by job glob and by provider; first match wins; default is everywhere', () => {
    expect(routeFor(ROUTES, { rule: 'backlog', job: 'inbox.generate' })).toEqual({ slackChannel: 'C123', telegram: false });
    expect(routeFor(ROUTES, { rule: 'failure-rate', job: 'inbox.generate' })).toEqual({ slackChannel: 'C456', telegram: true });
    expect(routeFor(ROUTES, { rule: 'failure-rate', job: 'inboxes' })).toEqual({ telegram: true });
    expect(routeFor(ROUTES, { rule: 'breaker-open', provider: 'partner-api' })).toEqual({ slackChannel: 'C789', telegram: true });
    expect(routeFor(ROUTES, { rule: 'breaker-open', provider: 'other-api' })).toEqual({ telegram: true });
    expect(routeFor([], { rule: 'backlog' })).toEqual({ telegram: true });
    expect(routeFor(parseRoutes('[{"match":{},"telegram":false}]'), { rule: 'stuck' })).toEqual({ telegram: false });
  });

  it('treats dots in globs literally', () => {
    const routes = parseRoutes('[{"match":{"job":"feeds.sync"},"slack":"C1"}]');
    expect(routeFor(routes, { rule: 'stuck', job: 'feedsXsync' })).toEqual({ telegram: true });
    expect(routeFor(routes, { rule: 'stuck', job: 'feeds.sync' })).toEqual({ slackChannel: 'C1', telegram: true });
  });

  it('rejects a bad ALERT_ROUTES with a sentence naming it', () => {
    expect(parseRoutes(undefined)).toEqual([]);
    expect(() => parseRoutes('{not json')).toThrow(/^ALERT_ROUTES: expected a JSON array/);
    expect(() => parseRoutes('[{"match":{"rule":"x"},"telegram":"no"}]')).toThrow(/^ALERT_ROUTES: 0\.telegram/);
    expect(() => parseRoutes('[{"match":{"team":"x"}}]')).toThrow(/^ALERT_ROUTES: 0\.match/);
  });

  it('puts the route on every published event and reaches every notifier despite a failing or hanging one', async () => {
    const service = new AlertService({ log: quietLog, routes: ROUTES, notifyTimeoutMs: 200 });
    const a = recordingNotifier('a');
    const b = recordingNotifier('b');
    service.addNotifier(a);
    service.addNotifier({ name: 'broken', notify: async () => Promise.reject(new Error('down')) });
    service.addNotifier({ name: 'hung', notify: () => new Promise<void>(() => {}) });
    service.addNotifier(b);
    const seen: string[] = [];
    service.on('event', (e) => seen.push(e.kind));
    const result = await service.publish({ kind: 'opened', alert: view('failure-rate', 'inbox.generate') }, { job: 'inbox.generate' });
    expect(result).toEqual({ delivered: ['a', 'b'], failed: ['broken', 'hung'] });
    expect(a.events[0].route).toEqual({ slackChannel: 'C456', telegram: true });
    expect(b.events[0].route).toEqual({ slackChannel: 'C456', telegram: true });
    expect(seen).toEqual(['opened']);
    expect(service.notifierNames()).toEqual(['a', 'broken', 'hung', 'b']);
  });
});
