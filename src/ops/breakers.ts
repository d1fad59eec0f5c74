/**
 * Circuit breakers as operators see and reset them (`ops.breakers`, `breakers list|reset`). The
 * breakers themselves are flow control's guards (src/flow/breakers.ts), shared through MongoDB.
 */
import type { Actor } from '../db/collections.ts';
import type { Breakers, BreakerState } from '../flow/breakers.ts';
import { OpsError } from '../errors.ts';

export interface BreakerView {
  provider: string;
  state: BreakerState;
  failures: number;
  openedAt: Date | null;
}

export class BreakerControls {
  private readonly breakers: Breakers;

  constructor(breakers: Breakers) {
    this.breakers = breakers;
  }

  /** Every provider's breaker. */
  list(): Promise<BreakerView[]> {
    return this.breakers.list();
  }

  /** Closes a provider's breaker by hand; returns the state it was in. */
  async reset(provider: string, by: Actor): Promise<{ provider: string; was: BreakerState }> {
    const known = (await this.breakers.list()).some((b) => b.provider === provider);
    if (!known) throw new OpsError('not_found', `No provider \`${provider}\`; \`breakers\` lists them.`);
    return { provider, was: await this.breakers.reset(provider, by) };
  }
}
