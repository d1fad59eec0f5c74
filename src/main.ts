/**
 * `serve`: connect, start the engine, the HTTP server and every adapter that is configured; with
 * a terminal and no chat tokens, also the console. SIGTERM/SIGINT shut down gracefully; nothing
 * else ends the process once it serves (see surviveUnhandled).
 */
import { createApp, type App } from './app/index.ts';
import { runConsole } from './chat/adapters/console.ts';
import { configOrExit } from './configOrExit.ts';
import { ConsoleLog, createLogger, type Logger } from './log.ts';
import { registerHealthRoutes, type Health } from './http/health.ts';
import { registerDashboard } from './dashboard/routes.ts';
import { errorRef, HttpServer } from './http/server.ts';
import { connect, type Connection } from './runtime.ts';
import { startAdapters, type Adapters } from './adapters.ts';

export interface Serving {
  app: App;
  port: number;
  health: Health;
  stop(): Promise<void>;
}

/** Starts everything; resolves once the process is serving. */
/** `console: 'auto'` opens it on a terminal when no chat adapter is configured. */
export async function startServing(opts: { console?: boolean | 'auto' } = {}): Promise<Serving> {
  const config = configOrExit();
  const chatless = !config.SLACK_BOT_TOKEN && !config.TELEGRAM_BOT_TOKEN;
  const wantConsole = opts.console === 'auto' ? chatless && Boolean(process.stdin.isTTY && process.stdout.isTTY) : opts.console;
  // Beside the console, logs go to a file: on the terminal they would write over the prompt.
  const consoleLog = wantConsole ? new ConsoleLog(config.DATA_DIR) : undefined;
  const log = createLogger({ level: config.LOG_LEVEL, format: config.LOG_FORMAT, consoleLog });
  const conn: Connection = await connect(config, log);
  const app = createApp({ config, db: conn.db, log });
  if (config.HTTP_INVOKE_ALLOWED_HOSTS.length === 0) {
    log.warn('http.invoke may call any host: set HTTP_INVOKE_ALLOWED_HOSTS to restrict it');
  }
  await app.engine.start({ work: true });
  const http = new HttpServer(log);
  const health = registerHealthRoutes(app, http);
  registerDashboard(app.frontEnd, http);
  // Adapters connect in the background: a chat service that is down shows in /readyz, not here.
  const adapters: Adapters = await startAdapters(app, http);
  health.watch(...adapters.connections);
  const port = await http.listen(config.PORT, config.HTTP_HOST);
  log.info({ port, adapters: adapters.names }, `Switchboard serving on ${config.HTTP_HOST}:${port}`);
  let stopping: Promise<void> | undefined;
  const stop = () =>
    (stopping ??= (async () => {
      log.info('shutting down');
      await adapters.stop();
      health.stop();
      await app.stop();
      await http.close();
      await conn.close();
    })());
  if (wantConsole) void runConsole(app.frontEnd, { consoleLog }).then(() => stopAndExit(stop, log));
  return { app, port, health, stop };
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

/**
 * Logs (once, with a reference) and counts what escaped every handler, and keeps the process
 * running. Rejections: with a handler installed Node no longer turns them into a crash, which is
 * what we want, since one forgotten promise must not end every attempt in flight.
 *
 * Uncaught exceptions are survived too, on purpose, although Node's docs advise exiting: the
 * state that matters lives in MongoDB behind locks, leases and unique inserts, and what a throw
 * can leave half-done in memory is one request, update or timer. Exiting instead would abort
 * every running attempt (each then runs again after its lock expires) and every chat request,
 * and a supervisor restarting us would loop on a bad input. The counter makes them visible.
 * Returns a function that removes the handlers.
 */
export function surviveUnhandled(log: Logger, count: (kind: 'rejection' | 'exception') => void, proc: NodeJS.EventEmitter = process): () => void {
  const onRejection = (reason: unknown) => {
    const ref = errorRef();
    log.error({ err: reason, ref }, `unhandled promise rejection (ref ${ref}); serve keeps running`);
    count('rejection');
  };
  const onException = (err: unknown, origin: string) => {
    const ref = errorRef();
    log.error({ err, ref, origin }, `uncaught exception (ref ${ref}); serve keeps running`);
    count('exception');
  };
  proc.on('unhandledRejection', onRejection);
  proc.on('uncaughtException', onException);
  return () => {
    proc.off('unhandledRejection', onRejection);
    proc.off('uncaughtException', onException);
  };
}

/** The `serve` command. */
export async function serve(): Promise<void> {
  const serving = await startServing({ console: 'auto' });
  const log = serving.app.log;
  // From here on only a signal ends the process; a failure to start above is fatal and reported.
  surviveUnhandled(log, (kind) => serving.health.metrics.unhandledErrors.inc({ kind }));
  for (const signal of ['SIGTERM', 'SIGINT'] as const) process.once(signal, () => void stopAndExit(serving.stop, log));
  await new Promise(() => {}); // serve until a signal
}
