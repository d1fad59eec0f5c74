/** What the AI triage sends out (redactSecrets): the shared secret rules, plus emails and URL query values. */
import { describe, expect, it } from 'vitest';
import { redactSecrets } from '../../src/alerting/redact.ts';
import { MASK, maskText } from '../../src/util/secrets.ts';
import { jwt, SECRET } from './partner.ts';

describe('redactSecrets', () => {
  it('masks whatever the shared rules mask, the same way', () => {
    for (const text of [
      `partner refused (Authorization: Bearer ${SECRET.bearer}; cookie: sid=${SECRET.cookie})`,
      `HTTP 400: {"error":"bad","client_secret":"${SECRET.apiKey}"}`,
      `session expired: ${jwt}`,
      'aws said no to AKIAIOSFODNN7EXAMPLE',
      'connect mongodb://admin:hunter2@db.internal:27017/app refused',
    ]) {
      expect(redactSecrets(text)).toBe(maskText(text));
      expect(redactSecrets(text)).toContain(MASK);
    }
  });

  it('masks email addresses', () => {
    expect(redactSecrets('no account for ana.lopez+ops@example.com (bo@mail.example.org cc)')).toBe('no account for [email] ([email] cc)');
  });

  it('masks every URL query value, keeping the names, the path and the fragment', () => {
    expect(redactSecrets('GET https://api.example.com/v1/feed?page=2&user=ana&access_token=s3cr3t failed')).toBe(
      `GET https://api.example.com/v1/feed?page=${MASK}&user=${MASK}&access_token=${MASK} failed`,
    );
    expect(redactSecrets('see https://docs.example.com/search?q=ana#results')).toBe(`see https://docs.example.com/search?q=${MASK}#results`);
    expect(redactSecrets('wss://stream.example.com/socket?flag&sig=abc')).toBe(`wss://stream.example.com/socket?flag&sig=${MASK}`);
  });

  it('keeps text with nothing to hide', () => {
    for (const text of ['HTTP 500 from https://api.example.com/v1/feed', 'connect ETIMEDOUT 10.0.0.5:443', 'basic validation failed']) {
      expect(redactSecrets(text)).toBe(text);
    }
  });
});
