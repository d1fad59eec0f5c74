/** The masking rules themselves: secret keys at any depth, token formats in text, custom paths, no mutation. */
import { describe, expect, it } from 'vitest';
import { isSecretKey, MASK, maskSecrets, maskText } from '../../src/util/secrets.ts';

describe('isSecretKey', () => {
  it.each(['authorization', 'Proxy-Authorization', 'cookie', 'Set-Cookie', 'token', 'access_token', 'refreshToken', 'secret', 'client_secret', 'password', 'passwd', 'api_key', 'apiKey', 'X-API-Key', 'apikey', 'private_key', 'signature', 'x-hub-signature-256', 'SLACK_BOT_TOKEN', 'credentials'])(
    '%s names a secret',
    (key) => expect(isSecretKey(key)).toBe(true),
  );

  it.each(['url', 'method', 'headers', 'key', 'dedupeKey', 'tokens', 'maxTokens', 'tokenCount', 'author', 'content-type'])('%s does not', (key) => expect(isSecretKey(key)).toBe(false));
});

describe('maskSecrets', () => {
  it('masks values under secret keys at any depth and inside arrays, keeping the rest', () => {
    const input = {
      url: 'https://partner.example/hook',
      method: 'POST',
      headers: { Authorization: 'Bearer live-abc-123', 'X-Api-Key': 'key-777', accept: 'application/json' },
      body: { users: [{ name: 'ana', password: 'hunter2' }, { name: 'bo', credentials: { user: 'bo', pin: 1234 } }], count: 2 },
    };
    expect(maskSecrets(input)).toEqual({
      url: 'https://partner.example/hook',
      method: 'POST',
      headers: { Authorization: MASK, 'X-Api-Key': MASK, accept: 'application/json' },
      body: { users: [{ name: 'ana', password: MASK }, { name: 'bo', credentials: MASK }], count: 2 },
    });
  });

  it('masks token-looking strings under any key, arrays of strings included', () => {
    const out = maskSecrets({ note: 'call with Bearer abcdef1234567890', list: ['xoxb-1111-2222-abcdefgh', 'plain'], jwt: 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTYifQ.c2lnbmF0dXJl' });
    expect(out.note).toBe(`call with Bearer ${MASK}`);
    expect(out.list).toEqual([`xox-${MASK}`, 'plain']);
    expect(out.jwt).toBe(MASK);
  });

  it('masks the fields a job declares, by dotted path, case-insensitively and through arrays', () => {
    const payload = { headers: { 'X-Partner-Sig': 'sig-value', accept: '*/*' }, account: { number: 'DE00 1234' }, items: [{ pin: '0000', sku: 'a' }] };
    const out = maskSecrets(payload, { secretPaths: ['headers.x-partner-sig', 'account', 'items.pin'] });
    expect(out).toEqual({ headers: { 'X-Partner-Sig': MASK, accept: '*/*' }, account: MASK, items: [{ pin: MASK, sku: 'a' }] });
    // Without the declaration these are ordinary fields.
    expect(maskSecrets(payload)).toEqual(payload);
  });

  it('does not change its input', () => {
    const input = { headers: { authorization: 'Bearer abc123456789' }, list: [{ token: 't-1' }], at: new Date(0) };
    const before = structuredClone(input);
    const out = maskSecrets(input);
    expect(input).toEqual(before);
    expect(out.at).toBe(input.at);
  });

  it('keeps null and booleans under secret keys, dates and class instances as they are, and survives cycles', () => {
    const cyclic: Record<string, unknown> = { name: 'loop' };
    cyclic.self = cyclic;
    const at = new Date(0);
    const out = maskSecrets({ secret: null, hasToken: true, at, cyclic });
    expect(out).toEqual({ secret: null, hasToken: true, at, cyclic: { name: 'loop', self: '[circular]' } });
  });
});

describe('maskText', () => {
  it.each([
    ['Authorization: Bearer abcdef123456.token-value', 'abcdef123456'],
    ['basic auth: Basic dXNlcjpwYXNzd29yZDEyMw==', 'dXNlcjpwYXNzd29yZDEyMw'],
    ['GET https://api.example.com/feed?page=2&access_token=s3cr3t-q failed', 's3cr3t-q'],
    ['HTTP 400: {"error":"bad","client_secret":"cs-9f8e7d","user":"ana"}', 'cs-9f8e7d'],
    ["x-api-key: 'k-123-abc' rejected", 'k-123-abc'],
    ['cookie: sid=abc123def; Path=/', 'abc123def'],
    ['slack said invalid_auth for xoxb-1234-5678-abcdefghijkl', 'abcdefghijkl'],
    ['openai key sk-proj-AbCdEf1234567890xyz rejected', 'AbCdEf1234567890'],
    ['jwt eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTYifQ.c2lnbmF0dXJl expired', 'eyJzdWIiOiIxMjM0NTYifQ'],
    ['POST https://api.telegram.org/bot123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw/sendMessage', 'AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw'],
    ['connect mongodb://admin:hunter2@db.internal:27017/app refused', 'hunter2'],
    ['at login (https://svc:pa55word@git.example/x.js:1:2)', 'pa55word'],
    ['github token ghp_abcdefghijklmnopqrstuvwxyz0123 revoked', 'ghp_abcdefghijklmnop'],
  ])('%s', (text, secret) => {
    const out = maskText(text);
    expect(out).not.toContain(secret);
    expect(out).toContain(MASK);
  });

  it('keeps text that holds no secret', () => {
    for (const text of [
      'HTTP 500 from https://api.example.com/v1/feed?page=2',
      'basic validation failed; token refreshed successfully',
      'TypeError: Cannot read properties of undefined (reading \'token\')\n    at handler (file:///app/jobs/x.ts:12:5)',
      'timed out after 30000 ms at 12:30:00',
    ]) {
      expect(maskText(text)).toBe(text);
    }
  });
});
