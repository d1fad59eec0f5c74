/**
 * `switchboard [--json] <command>`: one command as the local admin (exit 0 ok, 1 failed, 2 usage);
 * `switchboard console`: the interactive console; `switchboard serve`: the engine and adapters.
 */
import { once } from 'node:events';
import { createApp, type App } from './app/index.ts';
import { localAdmin } from './chat/localAdmin.ts';
import { replyForTerminal, runConsole, terminalWidth } from './chat/adapters/console.ts';
import { exitCode } from './chat/dispatcher.ts';
import { quoteArg } from './chat/grammar.ts';
import { configOrExit } from './configOrExit.ts';
import { ConsoleLog, createLogger } from './log.ts';
import { connect } from './runtime.ts';

/**
 * Runs `fn` with an app on the configured or local database (no job processing), then closes it.
 * Logs go to stderr, or with `consoleLog` (the interactive console) to a file under DATA_DIR.
 */
async function withLocalApp<T>(fn: (app: App, consoleLog?: ConsoleLog) => Promise<T>, opts: { consoleLog?: boolean } = {}): Promise<T> {
  const config = configOrExit();
  const consoleLog = opts.consoleLog ? new ConsoleLog(config.DATA_DIR) : undefined;
  const log = createLogger({ level: process.env.LOG_LEVEL ?? 'warn', format: config.LOG_FORMAT, destination: 2, consoleLog });
  const conn = await connect(config, log);
  try {
    const app = createApp({ config, db: conn.db, log });
    await app.engine.start({ work: false });
    try {
      return await fn(app, consoleLog);
    } finally {
      app.engine.settings.stop();
    }
  } finally {
    await conn.close();
  }
}

function runOne(args: string[], json: boolean): Promise<number> {
  return withLocalApp(async (app) => {
    // Progress (`jobs run --wait`) goes to stderr, so stdout stays the answer (one JSON document with --json).
    const progress = (line: string) => void process.stderr.write(`${line}\n`);
    const result = await app.dispatcher.run(args.map(shellWord).join(' '), localAdmin('cli'), { progress });
    const file = result.status === 'ok' ? result.reply.file : undefined;
    if (json) {
      const data = file ? { ...(result.reply.data as object), csv: await collect(file.lines()) } : result.reply.data;
      // A failure keeps its data (what was skipped and why) beside the error.
      const failed = { ...(data && typeof data === 'object' && !Array.isArray(data) ? data : {}), error: result.reply.text, status: result.status };
      process.stdout.write(`${JSON.stringify(result.status === 'ok' ? (data ?? {}) : failed, null, 2)}\n`);
    } else if (file) {
      // Streamed: a large export never sits in memory whole.
      for await (const line of file.lines()) if (!process.stdout.write(line)) await once(process.stdout, 'drain');
    } else {
      (result.status === 'ok' ? process.stdout : process.stderr).write(`${replyForTerminal(result.reply, terminalWidth(process.stdout))}\n`);
    }
    return exitCode(result.status);
  });
}

async function collect(lines: AsyncIterable<string>): Promise<string> {
  let out = '';
  for await (const line of lines) out += line;
  return out;
}

/** The shell already split the words: quote each again so the grammar sees the same words. */
function shellWord(word: string): string {
  if (/^[{[]/.test(word)) return word; // a JSON payload stays as it is
  if (/^--[a-z][a-z0-9-]*=/.test(word)) {
    const eq = word.indexOf('=');
    return `${word.slice(0, eq + 1)}${quoteArg(word.slice(eq + 1))}`;
  }
  return /^--[a-z]/i.test(word) ? word : quoteArg(word);
}

function runConsoleCommand(): Promise<number> {
  const interactive = Boolean(process.stdin.isTTY && process.stdout.isTTY);
  return withLocalApp((app, consoleLog) => runConsole(app.frontEnd, { consoleLog }), { consoleLog: interactive });
}

async function main(argv: string[]): Promise<number> {
  const json = argv.includes('--json');
  const args = argv.filter((a) => a !== '--json');
  if (args[0] === 'serve') {
    const { serve } = await import('./main.ts');
    await serve();
    return 0;
  }
  if (args[0] === 'console') return runConsoleCommand();
  return runOne(args, json);
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err) => {
    process.stderr.write(`switchboard: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  },
);
