/**
 * Starts what the configuration asks for: alerting (rules evaluated by the `alerts.evaluate`
 * job, notifiers fed by it), the signup endpoints, Slack and Telegram.
 */
import type { App } from './app/index.ts';
import { createAlerting } from './alerting/index.ts';
import { startFirstSources } from './alerting/firstSources.ts';
import type { Notifier } from './alerting/types.ts';
import { slackConfigured, startSlack } from './chat/adapters/slack/index.ts';
import { startTelegram } from './chat/adapters/telegram/index.ts';
import { mountSignupRoutes } from './auth/routes.ts';
import type { ConnectionStatus } from './http/connections.ts';
import type { HttpServer } from './http/server.ts';

export interface Adapters {
  names: string[];
  /** Each chat adapter's connection, for /readyz and the metrics. */
  connections: ConnectionStatus[];
  stop(): Promise<void>;
}

/** Mount routes before `http.listen()`; stop() in reverse order at shutdown. */
export async function startAdapters(app: App, http: HttpServer): Promise<Adapters> {
  const stops: Array<() => Promise<void> | void> = [];
  const names: string[] = [];
  const connections: ConnectionStatus[] = [];
  const notifiers: Notifier[] = [];
  const alerting = createAlerting(app);
  mountSignupRoutes(http, app.ops.signups);
  if (slackConfigured(app.config)) {
    const slack = await startSlack(app, http);
    notifiers.push(slack.notifier);
    connections.push(slack.status);
    names.push('slack');
    stops.push(() => slack.stop());
  }
  if (app.config.TELEGRAM_BOT_TOKEN) {
    const telegram = await startTelegram(app.frontEnd, http);
    notifiers.push(telegram.notifier);
    connections.push(telegram.status);
    names.push(`telegram (${telegram.mode})`);
    stops.push(() => telegram.stop());
  }
  for (const n of notifiers) alerting.service.addNotifier(n);
  if (notifiers.length) {
    // Kill switch and pauses alert at once; DLQ arrivals come through the dlq-growth rule.
    const sources = startFirstSources(app.ops, notifiers, app.log, { deadLetters: false });
    stops.push(() => sources.stop());
  }
  return {
    names,
    connections,
    async stop() {
      for (const s of stops.reverse()) await s();
    },
  };
}
