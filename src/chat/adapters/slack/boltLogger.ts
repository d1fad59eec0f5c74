/** Bolt's Logger interface on top of our pino logger (so tokens stay redacted and levels agree). */
import { LogLevel, type Logger as BoltLogger } from '@slack/bolt';
import type { Logger } from '../../../log.ts';

const join = (msg: unknown[]) => msg.map((m) => (typeof m === 'string' ? m : m instanceof Error ? m.message : JSON.stringify(m))).join(' ');

/** Wraps a pino logger for Bolt and the Web API client. */
export function boltLogger(log: Logger): BoltLogger {
  let level: LogLevel = LogLevel.INFO;
  let name = 'bolt';
  return {
    debug: (...msg: unknown[]) => log.debug({ lib: name }, join(msg)),
    info: (...msg: unknown[]) => log.info({ lib: name }, join(msg)),
    warn: (...msg: unknown[]) => log.warn({ lib: name }, join(msg)),
    error: (...msg: unknown[]) => log.error({ lib: name }, join(msg)),
    setLevel: (l: LogLevel) => {
      level = l;
    },
    getLevel: () => level,
    setName: (n: string) => {
      name = n;
    },
  };
}
