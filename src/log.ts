/**
 * pino, JSON in production and readable on a terminal; secrets never reach the output.
 */
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
