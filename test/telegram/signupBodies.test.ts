/** The signup endpoints refuse bodies that are not what they expect: 400 with one sentence, never 500. */
import { beforeAll, describe, expect, it } from 'vitest';
import { startHarness, type Harness } from './harness.ts';

let h: Harness;
beforeAll(async () => {
  h = await startHarness({ noBot: true });
});

const postRaw = async (path: string, body: string) => {
  const res = await fetch(`${h.base}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
  return { status: res.status, body: (await res.json()) as { error: string; code: string } };
};
const oneSentence = /^[A-Z][^\n]*\.$/;

describe('signup request bodies', () => {
  it.each([
    ['null', 'null'],
    ['an array', '[{"name":"Ana","contact":"telegram:1"}]'],
    ['a string', '"Ana"'],
    ['a number', '12'],
    ['garbage', '{name: Ana'],
    ['no name', '{"contact":"telegram:123"}'],
    ['a name that is an object', '{"name":{"$gt":""},"contact":"telegram:123"}'],
    ['a contact that is an array', '{"name":"Ana","contact":["telegram:123"]}'],
    ['an empty body', ''],
  ])('start: 400 for %s', async (_what, body) => {
    const r = await postRaw('/auth/signup/start', body);
    expect(r.status).toBe(400);
    expect(r.body.code).toBe('invalid');
    expect(r.body.error).toMatch(oneSentence);
  });

  it.each([
    ['null', 'null'],
    ['an array', '[]'],
    ['garbage', 'pin=123456'],
    ['a numeric signup_id', '{"signup_id":5,"pin":"123456"}'],
    ['a pin that is an object', '{"signup_id":"abc","pin":{"$ne":""}}'],
  ])('verify: 400 for %s', async (_what, body) => {
    const r = await postRaw('/auth/signup/verify', body);
    expect(r.status).toBe(400);
    expect(r.body).toEqual({ error: 'The body must be a JSON object with signup_id (a string) and pin.', code: 'invalid' });
  });

  it.each([
    ['text/plain', { 'content-type': 'text/plain' }],
    ['a form', { 'content-type': 'application/x-www-form-urlencoded' }],
    ['no content type', {} as Record<string, string>],
  ])('start: 415 for %s, even with a JSON body', async (_what, headers) => {
    const res = await fetch(`${h.base}/auth/signup/start`, { method: 'POST', headers, body: new TextEncoder().encode('{"name":"Ana","contact":"telegram:123"}') });
    expect(res.status).toBe(415);
    const body = (await res.json()) as { error: string; code: string };
    expect(body).toEqual({ error: 'Send the body as JSON (Content-Type: application/json).', code: 'unsupported_media_type' });
  });

  it('start: a refused start (bad input) does not use up the contact’s hourly limit', async () => {
    for (const body of ['{"name":"","contact":"telegram:3007"}', '{"name":"Ana","contact":"telegram:30x7"}', '{"name":"Ana","contact":["telegram:3007"]}', '{"name":{"$gt":""},"contact":"telegram:3007"}']) {
      expect((await postRaw('/auth/signup/start', body)).status).toBe(400);
    }
    expect(await h.app.t.db.collection('signups').countDocuments({ kind: 'rate' })).toBe(0);
  });

  it('still answers a well-formed request', async () => {
    const r = await postRaw('/auth/signup/verify', '{"signup_id":"nope","pin":"123456"}');
    expect(r.status).toBe(404);
    expect(r.body.error).toMatch(oneSentence);
  });
});
