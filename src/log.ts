/**
 * pino, JSON in production and readable on a terminal; secrets never reach the output. Beside the
 * console, logs go to a file instead (ConsoleLog), so they never write over the prompt.
 */
import path from 'node:path';
import { Writable } from 'node:stream';
import { pino, type Logger, type DestinationStream } from 'pino';
import pretty from 'pino-pretty';
import { maskSecrets, maskText } from './util/secrets.ts';

export type { Logger };

/**
 * Removes credentials from free text (connection strings, bot tokens in URLs, API tokens, secret
 * `key=value` pairs). The same masking the views use (src/util/secrets.ts), under its log name.
 */
export const redactText = maskText;

export interface LogOptions {
  level?: string;
  format?: 'auto' | 'json' | 'pretty';
  /** Where logs go; stdout by default. The CLI sends them to stderr so stdout stays clean. */
  destination?: 1 | 2;
  /** Console mode: every entry goes to this file instead, warnings and errors to the console too. */
  consoleLog?: ConsoleLog;
}

/** One log entry as written: pino's JSON line, parsed. */
export interface LogEntry {
  level: string;
  msg?: string;
  err?: { message?: string; type?: string };
  [key: string]: unknown;
}

/** Warnings held for a console that is not listening yet (those logged while it starts). */
const HELD_NOTICES = 50;

/**
 * Console mode's log destination: all entries as JSON lines in `DATA_DIR/switchboard.log`, and
 * each warning or error handed to the console (see onNotice), which shows it as one short line.
 */
export class ConsoleLog {
  readonly file: string;
  private listener?: (entry: LogEntry) => void;
  private held: LogEntry[] = [];

  constructor(dataDir: string) {
    this.file = path.resolve(dataDir, 'switchboard.log');
  }

  /** Calls `fn` with every warning and error, first those logged before; returns a function that stops. */
  onNotice(fn: (entry: LogEntry) => void): () => void {
    this.listener = fn;
    const held = this.held;
    this.held = [];
    for (const entry of held) fn(entry);
    return () => {
      if (this.listener === fn) this.listener = undefined;
    };
  }

  /** The pino stream: the file for every level the logger lets through, the console for warn and up. */
  stream(): DestinationStream {
    const notices = new Writable({
      write: (line: Buffer | string, _enc, done) => {
        this.notice(line.toString());
        done();
      },
    });
    return pino.multistream([
      { level: 'trace', stream: pino.destination({ dest: this.file, mkdir: true, append: true, sync: true }) },
      { level: 'warn', stream: notices },
    ]);
  }

  private notice(line: string): void {
    let entry: LogEntry;
    try {
      entry = JSON.parse(line) as LogEntry;
    } catch {
      entry = { level: 'warn', msg: line.trim() };
    }
    if (this.listener) this.listener(entry);
    else if (this.held.push(entry) > HELD_NOTICES) this.held.shift();
  }
}

/** The process's root logger. */
export function createLogger(opts: LogOptions = {}): Logger {
  const stream = opts.consoleLog?.stream() ?? terminalStream(opts);
  return pino(
    {
      level: opts.level ?? 'info',
      // Not pino's path-based `redact`: a list of paths misses a secret one level deeper or
      // spelled otherwise (`X-Api-Key`), and would be a second list beside the views' key rule.
      // Child bindings are not passed through here (pino formats them once, without this hook):
      // they carry context (component, job id), never payloads.
      formatters: { level: (label) => ({ level: label }), log: (o) => maskSecrets(o) },
      hooks: {
        logMethod(args, method) {
          // Strings logged as messages are scrubbed too (URLs with credentials, tokens in errors).
          const scrubbed = args.map((a) => (typeof a === 'string' ? redactText(a) : a));
          return method.apply(this, scrubbed as Parameters<typeof method>);
        },
      },
      serializers: { err: errorSerializer },
    },
    stream,
  );
}

/** stdout or stderr: pretty on a terminal unless JSON is asked for. */
function terminalStream(opts: LogOptions): DestinationStream {
  const fd = opts.destination ?? 1;
  const isTty = fd === 1 ? process.stdout.isTTY : process.stderr.isTTY;
  const usePretty = opts.format === 'pretty' || (opts.format !== 'json' && Boolean(isTty));
  return usePretty
    ? pretty({ destination: fd, colorize: true, translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname', sync: true })
    : pino.destination({ fd, sync: true });
}

function errorSerializer(err: unknown): unknown {
  const s = pino.stdSerializers.err(err as Error);
  // A plain copy, so the masker walks it: the message, the stack and any field an error carries
  // (an HTTP client's request headers, a driver's connection string).
  return s && typeof s === 'object' ? maskSecrets({ ...s }) : s;
}

/** A logger that writes nothing (tests, `--json` CLI runs). */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
