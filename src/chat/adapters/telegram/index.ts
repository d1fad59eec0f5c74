/**
 * The Telegram adapter (grammY). `startTelegram` serves the bot: long polling by the one process
 * holding the `telegram-poller` lease, or the webhook at /auth/telegram/webhook when
 * TELEGRAM_WEBHOOK_URL is set; each update runs once (update_id log). It returns the alert
 * notifier for the owner's chat. It takes the front end's parts (ops, dispatcher, tokens), not the
 * whole App: the owner, bind codes and signups are read and changed through `ops`.
 */
import { randomBytes } from 'node:crypto';
import { Bot } from 'grammy';
import type { Update } from 'grammy/types';
import { ConnectionStatus } from '../../../http/connections.ts';
import type { HttpServer } from '../../../http/server.ts';
import { accessCommands, signupNotices } from './access.ts';
import { clientOptions, configureApi, type ApiOptions } from './api.ts';
import { bindCommand } from './bind.ts';
import { clickRoutes } from './clicks.ts';
import { commandFamilies, typedCommands } from './commands.ts';
import type { TelegramDeps } from './context.ts';
import { Lease } from './lease.ts';
import { handleWithCatch, reportFailure, requireSender } from './failures.ts';
import { TelegramAlertNotifier, type TelegramNotifierOptions } from './notifier.ts';
import { Poller, type PollerOptions, type PollingTrouble } from './poller.ts';
import { TelegramSender } from './sender.ts';
import { UpdateLog } from './updates.ts';
import { keepRegisteringWebhook, mountWebhook, webhookSecret } from './webhook.ts';
import type { FrontEnd } from '../../frontEnd.ts';

export { TelegramAlertNotifier } from './notifier.ts';

export interface TelegramOptions extends PollerOptions, ApiOptions {
  /** How long a poller's lease lasts without renewal (default 30 s; renewed every `renewMs`). */
  leaseMs?: number;
  alerts?: TelegramNotifierOptions;
}

export interface TelegramAdapter {
  mode: 'polling' | 'webhook';
  notifier: TelegramAlertNotifier;
  /** Connected once the webhook is registered or polling works; standby while another process polls. */
  status: ConnectionStatus;
  /** Resolves when no update is being handled (tests). */
  idle(): Promise<void>;
  stop(): Promise<void>;
}

const RETENTION_MS = 7 * 24 * 3600_000;

/** Starts the bot for TELEGRAM_BOT_TOKEN; see the module comment. */
export async function startTelegram(front: FrontEnd, http: HttpServer, opts: TelegramOptions = {}): Promise<TelegramAdapter> {
  const { config, ops } = front;
  const token = config.TELEGRAM_BOT_TOKEN;
  if (!token) throw new Error('TELEGRAM_BOT_TOKEN is not set');
  const log = front.log.child({ component: 'telegram' });
  const bot = new Bot(token, { client: clientOptions(config) });
  configureApi(bot.api, log, opts);
  const sender = new TelegramSender(bot.api, front.db, front.tokens);
  const deps: TelegramDeps = { ops, dispatcher: front.dispatcher, tokens: front.tokens, sender, log, ownerId: config.TELEGRAM_OWNER_ID };
  const updateLog = new UpdateLog(front.db, token);
  const inFlight = new Set<Promise<void>>();
  const mode = config.TELEGRAM_WEBHOOK_URL ? 'webhook' : 'polling';
  const status = new ConnectionStatus('Telegram');
  let active = true;

  // A composer per concern, in order: who may get in, the owner binding, typed commands, buttons.
  bot.use(requireSender, accessCommands(deps), bindCommand(deps), typedCommands(deps, commandFamilies(front.dispatcher.registry)), clickRoutes(deps));
  bot.catch(reportFailure(log, sender));

  // getMe once, ourselves: grammY's bot.init() retries a network error forever, so with Telegram
  // unreachable the poller or webhook loop would hang in it (no backoff, no reason, no stop).
  let initializing: Promise<void> | undefined;
  const ensureInit = () =>
    (initializing ??= (async () => {
      if (!bot.isInited()) bot.botInfo = await bot.api.getMe();
    })().catch((err: unknown) => {
      initializing = undefined;
      throw err;
    }));

  const handle = async (update: Update): Promise<void> => {
    try {
      await ensureInit();
    } catch (err) {
      return void log.error({ err, updateId: update.update_id }, 'Telegram update not handled: getMe failed');
    }
    await handleWithCatch(bot, update);
  };
  const receive = async (update: Update): Promise<void> => {
    if (!active) return;
    if (!(await updateLog.firstDelivery(update.update_id))) return void log.debug({ updateId: update.update_id }, 'duplicate Telegram update dropped');
    const work: Promise<void> = handle(update)
      .catch((err: unknown) => log.error({ err, updateId: update.update_id }, 'Telegram update failed while reporting its failure'))
      .finally(() => inFlight.delete(work));
    inFlight.add(work);
  };
  const onError = (t: PollingTrouble) => ops.emit('telegram-error', { ...t, mode });
  const onRecovered = () => ops.emit('telegram-recovered', { mode });

  let poller: Poller | undefined;
  let webhookSetup: { stop(): Promise<void> } | undefined;
  if (mode === 'webhook') {
    const secret = webhookSecret(config.TELEGRAM_WEBHOOK_SECRET, token);
    mountWebhook(http, { secret, receive, active: () => active });
    webhookSetup = keepRegisteringWebhook({ api: bot.api, url: config.TELEGRAM_WEBHOOK_URL as string, secret, log, status, prepare: ensureInit, onError, onRecovered, backoffMs: opts.backoffMs });
  } else {
    const lease = new Lease(front.db, { name: 'telegram-poller', holder: `${config.WORKER_NAME}:${randomBytes(4).toString('hex')}`, ttlMs: opts.leaseMs ?? 30_000 });
    const prepare = async () => {
      await ensureInit();
      await bot.api.deleteWebhook({ drop_pending_updates: false });
    };
    poller = new Poller({ api: bot.api, lease, log, status, prepare, receive, onError, onRecovered }, opts);
    poller.start();
  }

  const notifier = new TelegramAlertNotifier({ db: front.db, sender, owner: ops.owner, tokens: front.tokens, log }, opts.alerts);
  const onSignup = signupNotices(deps);
  ops.on('signup', onSignup);
  const prune = () => {
    const before = new Date(Date.now() - RETENTION_MS);
    Promise.all([updateLog.prune(before), sender.prune(before)]).catch((err: unknown) => log.warn({ err }, 'Telegram retention cleanup failed'));
  };
  prune();
  const pruneTimer = setInterval(prune, 6 * 3600_000);
  pruneTimer.unref();
  log.info({ mode }, 'Telegram adapter started');

  const idle = async () => {
    while (inFlight.size > 0) await Promise.allSettled([...inFlight]);
  };
  return {
    mode,
    notifier,
    status,
    idle,
    async stop() {
      active = false;
      clearInterval(pruneTimer);
      ops.off('signup', onSignup);
      await poller?.stop();
      await webhookSetup?.stop();
      status.stopped();
      await idle();
      await notifier.stop();
    },
  };
}
