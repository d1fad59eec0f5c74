/**
 * Errors the operations service and commands throw on purpose. Each carries a code and a message
 * that is one plain sentence fit for chat; anything else is a bug and is logged with its stack.
 */
export type OpsErrorCode = 'not_found' | 'conflict' | 'invalid' | 'unavailable' | 'forbidden';

export class OpsError extends Error {
  readonly code: OpsErrorCode;
  constructor(code: OpsErrorCode, message: string) {
    super(message);
    this.name = 'OpsError';
    this.code = code;
  }
}

/** Bad arguments that the schema could not catch (e.g. "give IDs or --all"): answered with usage. */
export class UsageError extends Error {
  readonly code = 'usage';
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}
