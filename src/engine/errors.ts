/**
 * Errors a handler throws to steer the engine, and the serialisable description of any error.
 * The engine decides on `code`, never on message text.
 */
import type { ErrorInfo } from '../db/collections.ts';

/** The payload can never succeed: the job goes straight to the DLQ and the breaker is not told. */
export class PayloadError extends Error {
  readonly code = 'payload_invalid';
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'PayloadError';
  }
}

/** A failure that is not the provider's fault (bad input, our bug): retried, but the breaker is not told. */
export class NotProviderFaultError extends Error {
  readonly code = 'not_provider_fault';
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'NotProviderFaultError';
  }
}

/** Run me again later without spending an attempt (e.g. the provider said "come back at T"). */
export class DeferError extends Error {
  readonly code = 'defer';
  readonly delayMs: number;
  constructor(delayMs: number, message = `deferred for ${delayMs} ms`) {
    super(message);
    this.name = 'DeferError';
    this.delayMs = Math.max(0, delayMs);
  }
}

/** The attempt ran past its timeout. */
export class TimeoutError extends Error {
  readonly code = 'timeout';
  constructor(ms: number) {
    super(`timed out after ${ms} ms`);
    this.name = 'TimeoutError';
  }
}

/** The process is shutting down, or lost the job's lock: the attempt does not count. */
export class AbortedError extends Error {
  readonly code: 'shutdown' | 'lock_lost';
  constructor(code: 'shutdown' | 'lock_lost') {
    super(code === 'shutdown' ? 'aborted: the worker is shutting down' : 'aborted: the job lock was lost');
    this.name = 'AbortedError';
    this.code = code;
  }
}

/** The code of an error, if it carries one (ours, Node's system errors, HTTP clients'). */
export function errorCode(err: unknown): string | undefined {
  if (err && typeof err === 'object' && 'code' in err) {
    const code = (err as { code: unknown }).code;
    if (typeof code === 'string' || typeof code === 'number') return String(code);
  }
  return undefined;
}

/** A serialisable description: message, class, code and the first lines of the stack. */
export function describeError(err: unknown): ErrorInfo {
  if (err instanceof Error) {
    const stackHead = err.stack?.split('\n').slice(0, 4).join('\n');
    const info: ErrorInfo = { message: err.message.slice(0, 2000), class: err.name || err.constructor.name };
    const code = errorCode(err);
    if (code) info.code = code;
    if (stackHead) info.stackHead = stackHead.slice(0, 1000);
    return info;
  }
  return { message: String(err).slice(0, 2000), class: typeof err };
}
