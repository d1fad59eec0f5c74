/**
 * The signup PIN secret: generated once and kept in its own collection (`pinSecrets`), never among
 * the settings every process caches and announces; processes starting together agree on one.
 */
import { describe, expect, it } from 'vitest';
import { hashPin, PinSecret } from '../../src/auth/pin.ts';
import { useTestDb } from '../support/mongo.ts';

describe('PinSecret', () => {
  it('generates one secret that concurrent processes share, in pinSecrets and not in settings', async () => {
    const t = await useTestDb('pin');
    const secrets = await Promise.all(Array.from({ length: 5 }, () => new PinSecret(t.db, undefined).get()));
    expect(secrets[0].length).toBe(32);
    for (const s of secrets) expect(s.equals(secrets[0])).toBe(true);
    expect(await t.db.collection('pinSecrets').countDocuments()).toBe(1);
    expect(await t.db.collection('settings').countDocuments()).toBe(0);
    // A later process reads the same secret, so a PIN hashed by one verifies in another.
    const later = await new PinSecret(t.db, undefined).get();
    expect(hashPin(later, 'id', '123456')).toBe(hashPin(secrets[0], 'id', '123456'));
  });

  it('uses SIGNUP_PIN_SECRET when set and stores nothing', async () => {
    const t = await useTestDb('pin');
    const secret = await new PinSecret(t.db, 'a-configured-secret-of-some-length').get();
    expect(secret.toString('utf8')).toBe('a-configured-secret-of-some-length');
    expect(await t.db.collection('pinSecrets').countDocuments()).toBe(0);
  });
});
