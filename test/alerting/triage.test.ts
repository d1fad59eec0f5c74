/**
 * Triage notes of failure alerts: deterministic always; the AI path against the local OpenAI fake,
 * with fallbacks and redaction; alert views, notes and the prompt with secrets masked.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Alerting } from '../../src/alerting/index.ts';
import type { ErrorInfo } from '../../src/db/collections.ts';
import { asUser, startTestApp, type TestApp } from '../support/app.ts';
import { startFakeOpenAI, type FakeOpenAI } from '../support/fakeOpenAI.ts';
import { breach, manualRule, recordingNotifier, seedRuns, type RecordingNotifier } from './helpers.ts';
import { expectNoSecrets, jwt, rendered, SECRET } from '../secrets/partner.ts';

const SECRETS = ['SECRETQ1', 'SECRETBEARER123', 'SECRETSLACK', 'ana@example.com', 'AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw', 'sk-SECRETOPENAI123'];
const authError = (i: number) => ({
  class: 'HttpStatusError',
  message: [
    'POST https://api.partner.io/v1/post?access_token=SECRETQ1 returned 401 Unauthorized (Authorization: Bearer SECRETBEARER123)',
    'Slack rejected xoxb-1111-2222-SECRETSLACK for ana@example.com: invalid_auth',
    'telegram bot 123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw got 403 Forbidden; openai key sk-SECRETOPENAI123 unauthorized',
  ][i % 3],
});

let fake: FakeOpenAI;
let app: TestApp;
let alerting: Alerting;
let rec: RecordingNotifier;
/** An app's environment for the AI path: the local fake. */
const aiEnv = () => ({ OPENAI_API_KEY: 'sk-test-key-for-the-fake', OPENAI_BASE_URL: fake.baseURL, OPENAI_MODEL: 'gpt-test-mini' });

beforeAll(async () => {
  fake = await startFakeOpenAI();
  app = await startTestApp({ work: false, env: aiEnv(), alerting: { aiTimeoutMs: 2000 } });
  alerting = app.alerting;
  rec = recordingNotifier();
  alerting.service.addNotifier(rec);
  alerting.start();
});
afterAll(() => fake.close());
beforeEach(() => fake.reset());

/** Seeds 12 auth failures of `job` (failure-count fires above 10), evaluates, returns the alert's events. */
async function failAndEvaluate(job: string) {
  const now = new Date();
  await seedRuns(app.t.db, job, 12, 'failed', new Date(now.getTime() - 60_000), { error: authError, spreadMs: 1000 });
  rec.clear();
  await alerting.evaluateOnce(now);
  return rec.events.filter((e) => e.alert.key === `failure-count:${job}`);
}

describe('triage', () => {
  it('opens the alert with the likely cause, then posts an AI-written note built from redacted samples', async () => {
    fake.respondWith(JSON.stringify({ summary: 'Every call is rejected as unauthenticated.', action: 'Rotate the partner token.' }));
    const ev = await failAndEvaluate('ai.ok');
    expect(ev.map((e) => e.kind)).toEqual(['opened', 'note']);
    expect(ev[0].alert.facts).toContainEqual({ label: 'Likely cause', value: 'auth (12 of 12 recent failures)' });
    expect(ev[0].alert.hint).toContain('Credentials were rejected');
    const note = ev[1].note!;
    expect(note).toContain('auth — 12 failures');
    expect(note).toMatch(/AI-written summary.*Every call is rejected/);
    expect(note).toMatch(/Suggested action \(AI-written\): Rotate the partner token\./);
    for (const s of SECRETS) expect(note).not.toContain(s);

    expect(fake.requests).toHaveLength(1);
    const sent = JSON.stringify(fake.requests[0].body);
    expect(fake.requests[0].body.model).toBe('gpt-test-mini');
    expect(sent).toContain('ai.ok');
    expect(sent).toContain('[redacted]');
    for (const s of SECRETS) expect(sent).not.toContain(s);
  });

  it('falls back to the deterministic note on a timeout', async () => {
    fake.respondAfter(20_000);
    fake.respondWith(JSON.stringify({ summary: 'late', action: 'late' }));
    const ev = await failAndEvaluate('ai.slow');
    expect(ev.map((e) => e.kind)).toEqual(['opened', 'note']);
    expect(ev[1].note).toContain('Next: Credentials were rejected');
    expect(ev[1].note).not.toContain('AI-written');
    expect(fake.requests).toHaveLength(1);
  });

  it('falls back on HTTP 500 without retrying', async () => {
    fake.respondWithStatus(500);
    const ev = await failAndEvaluate('ai.error');
    expect(ev[1].note).toContain('auth — 12 failures');
    expect(ev[1].note).not.toContain('AI-written');
    expect(fake.requests).toHaveLength(1);
  });

  it.each([
    ['invalid JSON', (f: FakeOpenAI) => f.respondMalformed('invalid-json')],
    ['no choices', (f: FakeOpenAI) => f.respondMalformed('no-choices')],
    ['prose instead of JSON', (f: FakeOpenAI) => f.respondWith('I think it is auth.')],
    ['JSON without an action', (f: FakeOpenAI) => f.respondWith(JSON.stringify({ summary: 'auth' }))],
  ])('falls back on a malformed answer: %s', async (name, plan) => {
    plan(fake);
    const ev = await failAndEvaluate(`ai.bad-${name.replace(/\W+/g, '-')}`);
    expect(ev.map((e) => e.kind)).toEqual(['opened', 'note']);
    expect(ev[1].note).toContain('Triage of 12 recent failures');
    expect(ev[1].note).not.toContain('AI-written');
  });

  it('triages several new alerts of one tick, each with its own failures', async () => {
    const now = new Date();
    await seedRuns(app.t.db, 'multi.auth', 12, 'failed', new Date(now.getTime() - 60_000), { error: authError });
    await seedRuns(app.t.db, 'multi.slow', 11, 'dead', new Date(now.getTime() - 60_000), { error: { class: 'Error', code: 'ETIMEDOUT', message: 'connect ETIMEDOUT 10.0.0.5:443' } });
    rec.clear();
    await alerting.evaluateOnce(now);
    const note = (job: string) => rec.events.find((e) => e.kind === 'note' && e.alert.key === `failure-count:${job}`)?.note;
    expect(note('multi.auth')).toContain('Triage of 12 recent failures of multi.auth:\n• auth — 12 failures');
    expect(note('multi.slow')).toContain('Triage of 11 recent failures of multi.slow:\n• timeout — 11 failures');
  });

  it('posts the note once per episode, not again on later ticks', async () => {
    const job = 'ai.once';
    fake.respondWith(JSON.stringify({ summary: 's', action: 'a' }));
    await failAndEvaluate(job);
    rec.clear();
    await alerting.evaluateOnce(new Date());
    expect(rec.kinds(`failure-count:${job}`)).toEqual([]);
  });
});

describe('triage without an OpenAI key', () => {
  it('never calls out and posts the deterministic note', async () => {
    const plain = await startTestApp({ work: false });
    const a = plain.alerting;
    const r = recordingNotifier();
    a.service.addNotifier(r);
    a.start();
    await seedRuns(plain.t.db, 'plain.job', 11, 'dead', new Date(Date.now() - 60_000), { error: { class: 'TypeError', message: "Cannot read properties of undefined (reading 'id')" } });
    await a.evaluateOnce(new Date());
    expect(r.kinds('failure-count:plain.job')).toEqual(['opened', 'note']);
    expect(r.events[1].note).toContain('code_bug — 11 failures');
    expect(fake.requests).toHaveLength(0);
  });
});

// Only secrets that every view knows by their key or their form: a job's own secretFields are
// masked where its payload is read (ops), not in free text a rule writes.
const payload = { url: 'https://partner.example/orders', headers: { authorization: `Bearer ${SECRET.bearer}`, 'x-api-key': SECRET.apiKey } };

/** Failures as careless providers and handlers word them. */
const leakyError = (i: number): ErrorInfo => ({
  class: 'HttpStatusError',
  message: [
    `HTTP 401: {"error":"invalid credentials","api_key":"${SECRET.apiKey}"}`,
    `partner refused (Authorization: Bearer ${SECRET.bearer}; cookie: sid=${SECRET.cookie})`,
    `session expired: ${jwt}`,
  ][i % 3],
});

describe('secrets in alerts', () => {
  // A rule of its own that quotes errors and payloads, in an app of its own (one alerting per database).
  const rule = manualRule('leaky', { triage: true });
  let leaky: TestApp;
  let leakyAlerting: Alerting;
  let leakyRec: RecordingNotifier;
  beforeAll(async () => {
    leaky = await startTestApp({ work: false, env: aiEnv(), alerting: { rules: [rule], aiTimeoutMs: 5000 } });
    leakyAlerting = leaky.alerting;
    leakyRec = recordingNotifier();
    leakyAlerting.service.addNotifier(leakyRec);
    leakyAlerting.start();
  });

  it('the alert thread (view and triage note), alerts show, and the prompt sent to OpenAI', async () => {
    const job = 'leaky.job';
    const now = new Date();
    await seedRuns(leaky.t.db, job, 9, 'failed', new Date(now.getTime() - 60_000), { error: leakyError, spreadMs: 1000 });
    // A rule quoting the latest error and payload in its summary and facts, as the DLQ alert does.
    rule.breaches = [
      {
        ...breach(job, 9),
        summary: `9 failures of ${job}; latest: ${leakyError(1).message}`,
        facts: [
          { label: 'Latest error', value: leakyError(0).message },
          { label: 'Latest payload', value: JSON.stringify(payload) },
        ],
      },
    ];
    fake.respondWith(JSON.stringify({ summary: 'The partner rejects our credentials.', action: 'Rotate the partner key.' }));
    await leakyAlerting.evaluateOnce(now);

    const events = leakyRec.events.filter((e) => e.alert.key === `leaky:${job}`);
    expect(events.map((e) => e.kind)).toEqual(['opened', 'note']);
    const [opened, note] = events;
    expectNoSecrets(JSON.stringify(opened.alert));
    expect(opened.alert.summary).toContain('Authorization: [redacted]');
    expect(opened.alert.facts.find((f) => f.label === 'Latest payload')?.value).toContain('"authorization":"[redacted]"');
    expectNoSecrets(note.note!);
    expect(note.note).toContain('AI-written summary');

    const shown = await leaky.dispatcher.run(`alerts show leaky:${job}`, asUser('viewer'));
    expect(shown.status).toBe('ok');
    expectNoSecrets(rendered(shown.reply));

    expect(fake.requests).toHaveLength(1);
    const prompt = JSON.stringify(fake.requests[0].body);
    expectNoSecrets(prompt);
    expect(prompt).toContain('cookie: [redacted]');
  });
});
