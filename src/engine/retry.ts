/** Backoff: exponential with jitter, from the job's policy and the runtime overrides. */
import { DEFAULT_RETRY, type JobDefinition, type RetryPolicy } from './defineJob.ts';

/** Delay before attempt `attempt + 1`, after `attempt` failures (attempt ≥ 1). */
export function backoffDelay(attempt: number, policy: RetryPolicy, random: () => number = Math.random): number {
  const base = Math.min(policy.maxBackoffMs, policy.backoffMs * policy.factor ** Math.max(0, attempt - 1));
  const spread = base * policy.jitter;
  return Math.max(0, Math.round(base - spread + 2 * spread * random()));
}

/** The policy in force: definition, then `<job>.max_attempts` / `<job>.backoff_ms` overrides. */
export function effectiveRetry(
  def: JobDefinition,
  overrides: { maxAttempts?: number; backoffMs?: number },
): RetryPolicy {
  return {
    ...DEFAULT_RETRY,
    ...def.retry,
    ...(overrides.maxAttempts !== undefined ? { maxAttempts: overrides.maxAttempts } : {}),
    ...(overrides.backoffMs !== undefined ? { backoffMs: overrides.backoffMs } : {}),
  };
}
