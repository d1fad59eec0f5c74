/** The deterministic classifier over real-looking errors, and the redaction of what leaves the process. */
import { describe, expect, it } from 'vitest';
import { classifyError, runbookStep, statusOf, CAUSE_CLASSES, type CauseClass, type ErrorLike } from '../../src/alerting/classifier.ts';
import { redactSecrets } from '../../src/alerting/redact.ts';
import { groupErrors, deterministicNote } from '../../src/alerting/triage.ts';
import { describeError, PayloadError, TimeoutError } from '../../src/engine/errors.ts';

const sysErr = (code: string, message: string): ErrorLike => ({ class: 'Error', code, message });

const TABLE: Array<[string, ErrorLike, CauseClass]> = [
  ['HTTP 401 from a provider', { class: 'HttpStatusError', message: 'POST https://graph.facebook.com/v19.0/me/feed returned 401 Unauthorized' }, 'auth'],
  ['HTTP 403 status field', { class: 'HTTPError', message: 'Forbidden', status: 403 }, 'auth'],
  ['Slack invalid_auth', { class: 'Error', message: 'An API error occurred: invalid_auth' }, 'auth'],
  ['OpenAI 401', { class: 'AuthenticationError', message: '401 Incorrect API key provided: sk-abc***' }, 'auth'],
  ['HTTP 429', { class: 'HttpStatusError', message: 'Request failed with status code 429' }, 'rate_limit'],
  ['429 in code', { class: 'Error', code: 429, message: 'Too Many Requests' }, 'rate_limit'],
  ['Telegram flood', { class: 'GrammyError', message: "Call to 'sendMessage' failed! (429: Too Many Requests: retry after 35)" }, 'rate_limit'],
  ['HTTP 500', { class: 'HttpStatusError', message: 'HTTP 500 Internal Server Error' }, 'provider_outage'],
  ['HTTP 503', { class: 'Error', message: 'upstream responded with 503 Service Unavailable' }, 'provider_outage'],
  ['HTTP 502 bare', { class: 'Error', message: '502 Bad Gateway' }, 'provider_outage'],
  ['ECONNRESET', sysErr('ECONNRESET', 'read ECONNRESET'), 'provider_outage'],
  ['ECONNREFUSED via fetch', { class: 'TypeError', message: 'fetch failed' }, 'provider_outage'],
  ['socket hang up', { class: 'Error', message: 'socket hang up' }, 'provider_outage'],
  ['ETIMEDOUT', sysErr('ETIMEDOUT', 'connect ETIMEDOUT 10.0.0.5:443'), 'timeout'],
  ['our TimeoutError', describeError(new TimeoutError(30_000)), 'timeout'],
  ['timed out after', { class: 'Error', message: 'Operation timed out after 30000 ms' }, 'timeout'],
  ['HTTP 504', { class: 'HttpStatusError', message: 'status 504 Gateway Timeout' }, 'timeout'],
  ['PayloadError', describeError(new PayloadError('invalid payload: url: Invalid URL')), 'payload'],
  ['ZodError', { class: 'ZodError', message: '[{"code":"invalid_type","expected":"string","received":"undefined","path":["feedId"]}]' }, 'payload'],
  ['invalid payload text', { class: 'Error', message: 'invalid payload: missing field "userId"' }, 'payload'],
  ['HTTP 422', { class: 'HttpStatusError', message: 'HTTP 422 Unprocessable Entity' }, 'payload'],
  ['TypeError undefined', { class: 'TypeError', message: "Cannot read properties of undefined (reading 'id')" }, 'code_bug'],
  ['not a function', { class: 'TypeError', message: 'client.post is not a function' }, 'code_bug'],
  ['ReferenceError', { class: 'ReferenceError', message: 'feed is not defined' }, 'code_bug'],
  ['RangeError bare', { class: 'RangeError', message: 'Invalid array length' }, 'code_bug'],
  ['nothing to go on', { class: 'Error', message: 'something went wrong' }, 'unknown'],
  ['empty', {}, 'unknown'],
];

describe('classifyError', () => {
  it.each(TABLE)('%s → %s', (_name, error, expected) => {
    expect(classifyError(error).cls).toBe(expected);
  });

  it('finds the status code in the usual places, not in other numbers', () => {
    expect(statusOf({ message: 'GET /v1/items returned 503' })).toBe(503);
    expect(statusOf({ code: '401' })).toBe(401);
    expect(statusOf({ message: 'timed out after 500 ms' })).toBeUndefined();
    expect(statusOf({ message: 'processed 404 items' })).toBeUndefined();
  });

  it('has a runbook step for every class, naming the job', () => {
    for (const cls of CAUSE_CLASSES) expect(runbookStep(cls, 'feeds.sync')).toMatch(/\S.*feeds\.sync/);
  });

  it('groups failures by class with counts, largest first, and a deterministic note', () => {
    const errors = [
      ...Array.from({ length: 5 }, () => ({ class: 'HttpStatusError', message: 'HTTP 401 Unauthorized' })),
      ...Array.from({ length: 2 }, () => ({ class: 'Error', code: 'ETIMEDOUT', message: 'connect ETIMEDOUT' })),
    ];
    const t = groupErrors('feeds.sync', errors);
    expect(t.groups.map((g) => [g.cls, g.count])).toEqual([['auth', 5], ['timeout', 2]]);
    expect(t.top).toMatchObject({ cls: 'auth', count: 5 });
    const note = deterministicNote(t);
    expect(note).toContain('Triage of 7 recent failures of feeds.sync');
    expect(note).toContain('auth — 5 failures');
    expect(note).toContain('timeout — 2 failures');
    expect(note).toContain('Credentials were rejected');
  });
});

describe('redactSecrets', () => {
  it.each([
    ['Authorization: Bearer abcdef123456.token-value', 'abcdef123456'],
    ['slack said invalid_auth for xoxb-1234-5678-abcdefghijkl', 'xoxb-1234'],
    ['openai key sk-proj-AbCdEf1234567890xyz rejected', 'AbCdEf1234567890'],
    ['POST https://api.telegram.org/bot123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw/sendMessage', 'AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw'],
    ['token 123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw is revoked', 'AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw'],
    ['user ana.lopez+ops@example.com not found', 'ana.lopez'],
    ['GET https://api.example.com/v1/feed?access_token=s3cr3t&page=2 failed', 's3cr3t'],
    ['mongodb://admin:hunter2@db.internal:27017/app refused', 'hunter2'],
  ])('%s', (text, secret) => {
    const out = redactSecrets(text);
    expect(out).not.toContain(secret);
    expect(out.length).toBeGreaterThan(10);
  });

  it('keeps what is not a secret', () => {
    expect(redactSecrets('HTTP 500 from https://api.example.com/v1/feed')).toBe('HTTP 500 from https://api.example.com/v1/feed');
  });
});
