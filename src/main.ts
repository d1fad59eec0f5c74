/**
 * `serve`: connect, start the engine, the HTTP server and every adapter that is configured; with
 * a terminal and no chat tokens, also the console. SIGTERM/SIGINT shut down gracefully.
 */
import { createApp, type App } from './app.ts';
import { runConsole } from './chat/adapters/console.ts';
import { configOrExit } from './configOrExit.ts';
import { createLogger, type Logger } from './log.ts';
import { registerHealthRoutes } from './http/health.ts';
import { HttpServer } from './http/server.ts';
import { connect, type Connection } from './runtime.ts';
import { startAdapters, type Adapters } from './adapters.ts';

export interface Serving {
  app: App;
  port: number;
  stop(): Promise<void>;
}

/** Starts everything; resolves once the process is serving. */
/** `console: 'auto'` opens it on a terminal when no chat adapter is configured. */
export async function startServing(opts: { console?: boolean | 'auto' } = {}): Promise<Serving> {
  const config = configOrExit();
  const log = createLogger({ level: config.LOG_LEVEL, format: config.LOG_FORMAT });
  const conn: Connection = await connect(config, log);
  const app = createApp({ config, db: conn.db, log });
  if (config.HTTP_INVOKE_ALLOWED_HOSTS.length === 0) {
    log.warn('http.invoke may call any host: set HTTP_INVOKE_ALLOWED_HOSTS to restrict it');
  }
  await app.engine.start({ work: true });
  const http = new HttpServer(log);
  registerHealthRoutes(app, http);
  const adapters: Adapters = await startAdapters(app, http);
  const port = await http.listen(config.PORT, config.HTTP_HOST);
  log.info({ port, adapters: adapters.names }, `Switchboard serving on ${config.HTTP_HOST}:${port}`);
  let stopping: Promise<void> | undefined;
  const stop = () =>
    (stopping ??= (async () => {
      log.info('shutting down');
      await adapters.stop();
      await app.stop();
      await http.close();
      await conn.close();
    })());
  const chatless = !config.SLACK_BOT_TOKEN && !config.TELEGRAM_BOT_TOKEN;
  const wantConsole = opts.console === 'auto' ? chatless && Boolean(process.stdin.isTTY && process.stdout.isTTY) : opts.console;
  if (wantConsole) void runConsole(app).then(() => stopAndExit(stop, log));
  return { app, port, stop };
}

async function stopAndExit(stop: () => Promise<void>, log: Logger): Promise<never> {
  try {
    await stop();
    process.exit(0);
  } catch (err) {
    log.error({ err }, 'shutdown failed');
    process.exit(1);
  }
}

/** The `serve` command. */
export async function serve(): Promise<void> {
  const serving = await startServing({ console: 'auto' });
  const log = serving.app.log;
  for (const signal of ['SIGTERM', 'SIGINT'] as const) process.once(signal, () => void stopAndExit(serving.stop, log));
  await new Promise(() => {}); // serve until a signal
}
