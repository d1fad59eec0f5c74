/**
 * Signup PINs: six random digits, stored only as HMAC-SHA256 under SIGNUP_PIN_SECRET (or a secret
 * generated once and kept in `pinSecrets`), compared in constant time.
 */
import { createHmac, randomBytes, randomInt, timingSafeEqual } from 'node:crypto';
import type { Collection, Db } from 'mongodb';
import { insertOnce } from '../db/insertOnce.ts';

const SIGNUP_SECRET_ID = 'signup';

interface PinSecretDoc {
  _id: string;
  /** base64url of 32 random bytes. */
  value: string;
  createdAt: Date;
}

/** Six random digits. */
export function generatePin(): string {
  return String(randomInt(0, 1_000_000)).padStart(6, '0');
}

/** The stored form of a PIN: HMAC over the signup id and the PIN. */
export function hashPin(secret: Buffer, signupId: string, pin: string): string {
  return createHmac('sha256', secret).update(`${signupId}:${pin}`).digest('base64url');
}

/** True when `pin` is the PIN behind `stored`; constant time whatever is typed. */
export function pinMatches(secret: Buffer, signupId: string, pin: string, stored: string): boolean {
  const given = Buffer.from(hashPin(secret, signupId, /^\d{6}$/.test(pin) ? pin : `x${pin}`));
  const want = Buffer.from(stored);
  return given.length === want.length && timingSafeEqual(given, want);
}

/**
 * The PIN secret: SIGNUP_PIN_SECRET when set; otherwise one generated at first use and kept in
 * collection `pinSecrets` (written by this module alone: a secret has no place among the settings
 * every process caches and announces). The first write is a unique insert, so concurrent processes
 * agree on a single secret. Loaded once per process; a failed load is tried again on the next use.
 */
export class PinSecret {
  private readonly col: Collection<PinSecretDoc>;
  private readonly configured: string | undefined;
  private loading: Promise<Buffer> | undefined;

  constructor(db: Db, configured: string | undefined) {
    this.col = db.collection<PinSecretDoc>('pinSecrets');
    this.configured = configured;
  }

  /** The secret's bytes. */
  get(): Promise<Buffer> {
    return (this.loading ??= this.load().catch((err: unknown) => {
      this.loading = undefined;
      throw err;
    }));
  }

  private async load(): Promise<Buffer> {
    if (this.configured) return Buffer.from(this.configured, 'utf8');
    const existing = await this.col.findOne({ _id: SIGNUP_SECRET_ID });
    if (existing) return Buffer.from(existing.value, 'base64url');
    const value = randomBytes(32).toString('base64url');
    if (await insertOnce(this.col, { _id: SIGNUP_SECRET_ID, value, createdAt: new Date() })) return Buffer.from(value, 'base64url');
    // Another process generated it first: use theirs.
    const theirs = await this.col.findOne({ _id: SIGNUP_SECRET_ID });
    if (!theirs) throw new Error('the signup PIN secret vanished while it was being created');
    return Buffer.from(theirs.value, 'base64url');
  }
}
