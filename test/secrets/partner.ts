/**
 * The job and secrets the masking tests share: `test.partner` takes a payload full of credentials,
 * records what its handler received, and fails its first execution with an error that quotes
 * them (as careless errors do), so the job leaves a failed run, a failReason and a dead letter.
 */
import type { Db } from 'mongodb';
import { expect } from 'vitest';
import { z } from 'zod';
import type { Reply } from '../../src/chat/reply.ts';
import { defineJob } from '../../src/engine/defineJob.ts';

/** Secret values; none may appear in any view. */
export const SECRET = {
  bearer: 'live9f8e7d6c5b4a3',
  apiKey: 'ak-2233445566',
  cookie: 'sid9911aa',
  partnerSig: 'psig-778899',
  iban: 'DE89370400440532013000',
  /** The claims part of a JWT (see `jwt`). */
  jwtClaims: 'eyJzdWIiOiJwYXJ0bmVyIn0',
};

/** A JSON Web Token; masked wherever it appears, whatever the key. */
export const jwt = `eyJhbGciOiJIUzI1NiJ9.${SECRET.jwtClaims}.c2lnbmF0dXJlMTIz`;

/** A payload that uses every kind: secret header names, a custom secret header, a custom secret object. */
export const partnerPayload = () => ({
  url: 'https://partner.example/orders',
  headers: { authorization: `Bearer ${SECRET.bearer}`, 'x-api-key': SECRET.apiKey, 'x-partner-sig': SECRET.partnerSig, accept: 'application/json' },
  account: { iban: SECRET.iban, holder: 'ACME' },
});

export const received = (db: Db) => db.collection<{ jobId: string; payload: unknown; at: Date }>('partnerReceived');

export const partnerJob = defineJob({
  name: 'test.partner',
  payload: z.object({ url: z.string(), headers: z.record(z.string(), z.string()), account: z.object({ iban: z.string(), holder: z.string() }) }),
  // x-partner-sig and account are secrets no key rule knows: the job says so.
  secretFields: ['headers.x-partner-sig', 'account'],
  retry: { maxAttempts: 1 },
  async handler({ payload, jobId, db }) {
    const before = await received(db).countDocuments({ jobId });
    await received(db).insertOne({ jobId, payload, at: new Date() });
    if (before === 0) {
      throw new Error(`partner refused POST ${payload.url} (Authorization: ${payload.headers.authorization}; cookie: sid=${SECRET.cookie})`);
    }
  },
});

/** Fails the test if `text` holds any secret value. */
export function expectNoSecrets(text: string): void {
  for (const [name, value] of Object.entries(SECRET)) expect(text, `${name} leaked`).not.toContain(value);
}

/** Everything a front end can render of a reply: text, title, fields, table, and what --json prints. */
export function rendered(reply: Reply): string {
  return JSON.stringify({ text: reply.text, title: reply.title, fields: reply.fields, table: reply.table, data: reply.data });
}
