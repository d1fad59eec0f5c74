/**
 * Starts what the configuration asks for: the signup endpoints, Slack and Telegram, and the
 * app's alerting as a serving process's (the notifiers added, then started: rules evaluated by
 * the `alerts.evaluate` job, kill-switch and pause changes announced at once).
 */
import type { App } from './app/index.ts';
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
  const alerting = app.alerting;
  mountSignupRoutes(http, app.ops.signups);
  if (slackConfigured(app.config)) {
    const slack = await startSlack(app.frontEnd, http);
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
  alerting.start();
  stops.push(() => alerting.stop());
  return {
    names,
    connections,
    async stop() {
      for (const s of stops.reverse()) await s();
    },
  };
}
