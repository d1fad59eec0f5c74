/**
 * pino, JSON in production and readable on a terminal; secrets never reach the output.
 */
import { pino, type Logger, type DestinationStream } from 'pino';
import pretty from 'pino-pretty';

export type { Logger };

/** Object paths whose values are replaced by "[redacted]". */
export const REDACT_PATHS = [
  'token',
  '*.token',
  'password',
  '*.password',
  'secret',
  '*.secret',
  'apiKey',
  '*.apiKey',
  'headers.authorization',
  '*.headers.authorization',
  'headers["x-slack-signature"]',
  'headers["x-telegram-bot-api-secret-token"]',
  'config.SLACK_BOT_TOKEN',
  'config.SLACK_SIGNING_SECRET',
  'config.SLACK_APP_TOKEN',
  'config.TELEGRAM_BOT_TOKEN',
  'config.TELEGRAM_WEBHOOK_SECRET',
  'config.SIGNUP_PIN_SECRET',
  'config.OPENAI_API_KEY',
  'config.MONGODB_URL',
];

/** Removes credentials from connection strings and bot tokens from URLs in free text. */
export function redactText(text: string): string {
  return text
    .replace(/(mongodb(?:\+srv)?:\/\/)[^@/\s]+@/g, '$1[redacted]@')
    .replace(/\/bot\d+:[A-Za-z0-9_-]+/g, '/bot[redacted]')
    .replace(/\bxox[abposr]-[A-Za-z0-9-]+/g, 'xox-[redacted]')
    .replace(/\bxapp-[A-Za-z0-9-]+/g, 'xapp-[redacted]')
    .replace(/\bsk-[A-Za-z0-9_-]{8,}/g, 'sk-[redacted]');
}

export interface LogOptions {
  level?: string;
  format?: 'auto' | 'json' | 'pretty';
  /** Where logs go; stdout by default. The CLI sends them to stderr so stdout stays clean. */
  destination?: 1 | 2;
}

/** The process's root logger. */
export function createLogger(opts: LogOptions = {}): Logger {
  const fd = opts.destination ?? 1;
  const isTty = fd === 1 ? process.stdout.isTTY : process.stderr.isTTY;
  const usePretty = opts.format === 'pretty' || (opts.format !== 'json' && Boolean(isTty));
  const stream: DestinationStream = usePretty
    ? pretty({ destination: fd, colorize: true, translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname', sync: true })
    : pino.destination({ fd, sync: true });
  return pino(
    {
      level: opts.level ?? 'info',
      redact: { paths: REDACT_PATHS, censor: '[redacted]' },
      formatters: { level: (label) => ({ level: label }) },
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

function errorSerializer(err: unknown): unknown {
  const s = pino.stdSerializers.err(err as Error) as { message?: string; stack?: string };
  if (s && typeof s === 'object') {
    if (s.message) s.message = redactText(s.message);
    if (s.stack) s.stack = redactText(s.stack);
  }
  return s;
}

/** A logger that writes nothing (tests, `--json` CLI runs). */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
