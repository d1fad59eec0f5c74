/** A real pino logger whose lines the test can read and await (for "logged once, with a ref"). */
import { pino } from 'pino';
import type { Logger } from '../../src/log.ts';
import { Recorder } from '../support/waitFor.ts';

export interface LogLine {
  level: string;
  msg: string;
  ref?: string;
  [key: string]: unknown;
}

/** A debug-level logger recording every line, parsed. */
export function captureLogs(): { log: Logger; lines: Recorder<LogLine> } {
  const lines = new Recorder<LogLine>();
  const log = pino(
    { level: 'debug', formatters: { level: (label) => ({ level: label }) } },
    { write: (line: string) => void lines.record(JSON.parse(line) as LogLine) },
  );
  return { log, lines };
}
