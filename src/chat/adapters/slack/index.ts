/**
 * The Slack adapter (Bolt): `/ops` slash command, buttons, and the alert-thread notifier.
 * HTTP mode mounts Bolt on our HttpServer at `/slack/events` (verified with SLACK_SIGNING_SECRET);
 * Socket Mode is used when SLACK_APP_TOKEN is set. SLACK_API_URL points the Web API elsewhere.
 * Slack being unreachable never stops `serve`: Bolt's start (auth.test, the socket) is retried in
 * the background, and `status` tells /readyz how far it got.
 */
import { App as BoltApp, SocketModeReceiver, webApi } from '@slack/bolt';
import type { Config } from '../../../config.ts';
import { ConnectionStatus, keepConnecting } from '../../../http/connections.ts';
import type { HttpServer } from '../../../http/server.ts';
import type { FrontEnd } from '../../frontEnd.ts';
import { SlackAlertNotifier, type SlackAlertNotifierOptions } from './alertThreads.ts';
import { boltLogger } from './boltLogger.ts';
import { registerClicks } from './clicks.ts';
import { Inflight, type SlackContext } from './context.ts';
import { SlackDeliveries } from './deliveries.ts';
import { SlackRouteReceiver } from './receiver.ts';
import { SlackResponder } from './responder.ts';
import { registerSlashCommand } from './slashCommand.ts';

/** The path Slack posts slash commands, interactivity and events to. */
export const SLACK_EVENTS_PATH = '/slack/events';

const PRUNE_EVERY_MS = 3600_000;

export interface SlackAdapter {
  /** Stops receiving, waits for listener work in progress, stops the notifier. */
  stop(): Promise<void>;
  notifier: SlackAlertNotifier;
  /** Resolves when no command or click is being worked on. */
  idle(): Promise<void>;
  bolt: BoltApp;
  /** Connected once Bolt started; retrying (with the last error) while Slack is unreachable. */
  status: ConnectionStatus;
  /** Resolves once Bolt has started (or the adapter was stopped first). */
  connected: Promise<void>;
}

export interface StartSlackOptions {
  /** Timings of the alert notifier (tests shorten them). */
  alerts?: Pick<SlackAlertNotifierOptions, 'minUpdateIntervalMs' | 'threadReplyIntervalMs'>;
  /** First delay before retrying the start (default 1 s; doubled up to 60 s). */
  backoffMs?: number;
}

/** True when the config has what Slack needs: a bot token and a signing secret or an app token. */
export function slackConfigured(config: Config): boolean {
  return Boolean(config.SLACK_BOT_TOKEN && (config.SLACK_SIGNING_SECRET || config.SLACK_APP_TOKEN));
}

/**
 * Web API client options: SLACK_API_URL, a request timeout, and retries that honour 429
 * Retry-After. Callers never wait on them: commands answer after the ack, alerts are queued.
 */
export function slackClientOptions(config: Pick<Config, 'SLACK_API_URL'>): webApi.WebClientOptions {
  return {
    ...(config.SLACK_API_URL ? { slackApiUrl: config.SLACK_API_URL } : {}),
    retryConfig: { retries: 3, factor: 2, minTimeout: 1000, maxTimeout: 30_000, randomize: true },
    timeout: 15_000,
    rejectRateLimitedCalls: false,
  };
}

/**
 * Starts the Slack adapter for `serve` (HTTP mode needs `http` to be listening, or to listen
 * later). Resolves at once with the route mounted; Bolt starts in the background.
 */
export async function startSlack(front: FrontEnd, http: HttpServer, opts: StartSlackOptions = {}): Promise<SlackAdapter> {
  const config = front.config;
  if (!config.SLACK_BOT_TOKEN) throw new Error('SLACK_BOT_TOKEN is not set');
  if (!config.SLACK_APP_TOKEN && !config.SLACK_SIGNING_SECRET) {
    throw new Error('set SLACK_SIGNING_SECRET (HTTP mode) or SLACK_APP_TOKEN (Socket Mode)');
  }
  const log = front.log.child({ component: 'slack' });
  const logger = boltLogger(log);
  const socketMode = Boolean(config.SLACK_APP_TOKEN);
  const status = new ConnectionStatus('Slack');
  let started = false;
  let stopping = false;
  let abandonStart = () => {};
  const startAbandoned = new Promise<void>((resolve) => (abandonStart = resolve));
  const routeReceiver = socketMode ? undefined : new SlackRouteReceiver({ signingSecret: config.SLACK_SIGNING_SECRET!, log, ready: () => started });
  const socketReceiver = routeReceiver ? undefined : new SocketModeReceiver({ appToken: config.SLACK_APP_TOKEN!, logger, installerOptions: { clientOptions: slackClientOptions(config) } });
  const receiver = routeReceiver ?? socketReceiver!;
  // Once started, the Socket Mode client reconnects by itself after a drop: /readyz says so meanwhile.
  socketReceiver?.client.on('close', () => {
    if (started && !stopping) status.failed(new Error('the Socket Mode connection closed; reconnecting'));
  });
  socketReceiver?.client.on('connected', () => {
    if (started && !stopping) status.connected();
  });
  // Deferred: otherwise Bolt calls auth.test in its constructor and keeps a rejected promise that
  // nobody awaits (an unhandled rejection when Slack is down, and every later event fails on it).
  const bolt = new BoltApp({ token: config.SLACK_BOT_TOKEN, receiver, logger, clientOptions: slackClientOptions(config), deferInitialization: true });
  bolt.error(async (err) => log.error({ err }, 'slack listener error'));

  const ctx: SlackContext = {
    front,
    client: bolt.client,
    responder: new SlackResponder(bolt.client, log),
    deliveries: new SlackDeliveries(front.db),
    inflight: new Inflight(log),
    log,
  };
  registerSlashCommand(bolt, ctx);
  registerClicks(bolt, ctx);
  if (routeReceiver) http.route('POST', SLACK_EVENTS_PATH, routeReceiver.handle);
  // One quick auth.test per attempt (the shared client retries for ~10 s), so our backoff paces it.
  const probe = new webApi.WebClient(config.SLACK_BOT_TOKEN, { ...slackClientOptions(config), retryConfig: { retries: 0 }, logger });
  const connecting = keepConnecting({
    status,
    log,
    what: 'start the Slack adapter (auth.test)',
    backoffMs: opts.backoffMs,
    async attempt() {
      await probe.auth.test();
      await bolt.init();
      // Socket Mode's start waits for Slack's hello and retries apps.connections.open by itself, so
      // it may not settle before stop(): stop() stops waiting, and closes a connection made after it.
      const starting = bolt.start();
      void starting.then(() => (stopping ? bolt.stop() : undefined)).catch(() => {});
      await Promise.race([starting, startAbandoned]);
      started = true;
    },
  });

  const prune = () => ctx.deliveries.prune().catch((err: unknown) => log.warn({ err }, 'pruning slackDeliveries failed'));
  void prune();
  const pruneTimer = setInterval(prune, PRUNE_EVERY_MS);
  pruneTimer.unref();

  const notifier = new SlackAlertNotifier({ client: bolt.client, db: front.db, channel: config.SLACK_ALERT_CHANNEL, tokens: front.tokens, log, ...opts.alerts });
  log.info({ mode: socketMode ? 'socket' : 'http', command: config.SLACK_COMMAND, path: socketMode ? undefined : SLACK_EVENTS_PATH }, 'slack adapter started; connecting to Slack in the background');
  return {
    bolt,
    notifier,
    status,
    connected: connecting.done,
    idle: () => ctx.inflight.idle(),
    async stop() {
      clearInterval(pruneTimer);
      stopping = true;
      abandonStart();
      await connecting.stop();
      status.stopped();
      // A Socket Mode receiver whose start was never called cannot stop; the HTTP one just stops routing.
      if (started || routeReceiver) await bolt.stop();
      await ctx.inflight.idle();
      await notifier.stop();
    },
  };
}

export { SlackAlertNotifier } from './alertThreads.ts';
