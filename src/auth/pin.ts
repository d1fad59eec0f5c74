/**
 * Signup PINs: six random digits, stored only as HMAC-SHA256 under SIGNUP_PIN_SECRET (or a secret
 * generated once and kept in `settings` as `signup:pin-secret`), compared in constant time.
 */
import { createHmac, randomBytes, randomInt, timingSafeEqual } from 'node:crypto';
import { type Db } from 'mongodb';
import type { SettingDoc } from '../db/collections.ts';
import { insertOnce } from '../db/insertOnce.ts';

export const PIN_SECRET_KEY = 'signup:pin-secret';

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
 * The PIN secret: SIGNUP_PIN_SECRET when set; otherwise one generated at first use and persisted
 * (a unique insert, so concurrent processes agree on a single secret).
 */
export async function loadPinSecret(db: Db, configured: string | undefined): Promise<Buffer> {
  if (configured) return Buffer.from(configured, 'utf8');
  const col = db.collection<SettingDoc>('settings');
  const existing = await col.findOne({ _id: PIN_SECRET_KEY });
  if (typeof existing?.value === 'string') return Buffer.from(existing.value, 'base64url');
  const value = randomBytes(32).toString('base64url');
  if (await insertOnce(col, { _id: PIN_SECRET_KEY, value, updatedAt: new Date(), reason: 'generated: SIGNUP_PIN_SECRET is unset' })) {
    return Buffer.from(value, 'base64url');
  }
  // Another process generated it first: use theirs.
  const doc = await col.findOne({ _id: PIN_SECRET_KEY });
  return Buffer.from(String(doc?.value), 'base64url');
}
