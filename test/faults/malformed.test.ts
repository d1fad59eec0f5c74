/**
 * Malformed bodies against a real `serve` with the Telegram webhook and Slack in HTTP mode (both
 * faked): each gets a 4xx (not a 5xx, not a hang), the process lives, and the next good request
 * (`/healthz`, a signed Slack `/ops status`, a Telegram `/start`) is served.
 */
import { describe, it, expect, beforeAll, afterAll, onTestFailed } from 'vitest';
import { startFakeSlack, signSlackRequest, slashCommandBody, type FakeSlack } from '../support/fakeSlack.ts';
import { messageUpdate, startFakeTelegram, type FakeTelegram } from '../support/fakeTelegram.ts';
import { useTestDb } from '../support/mongo.ts';
import { deathNote, pollUntil, probe, startServe, type ServeProcess } from './cluster.ts';

const SIGNING_SECRET = 'fault-suite-slack-signing-secret';
const WEBHOOK_SECRET = 'fault-suite-webhook-secret';
const ADMIN = 'U_FAULT_ADMIN';

let mongoUrl: string;
let slack: FakeSlack;
let telegram: FakeTelegram;
let serving: ServeProcess | undefined;
const dead: ServeProcess[] = [];
let incarnation = 0;
let updateId = 1000;
let commandSeq = 0;

beforeAll(async () => {
  const t = await useTestDb('faults_bodies');
  mongoUrl = `${t.url}${t.dbName}`;
  slack = await startFakeSlack();
  telegram = await startFakeTelegram();
});

afterAll(async () => {
  await serving?.stop(2000);
  await slack?.close();
  await telegram?.close();
});

/** The serve process, started again if a previous case killed it (so each case is judged alone). */
async function serve(): Promise<ServeProcess> {
  if (serving?.alive()) return serving;
  if (serving) dead.push(serving);
  serving = await startServe({
    name: `bodies-${incarnation++}`,
    mongoUrl,
    env: {
      SLACK_BOT_TOKEN: 'xoxb-fault-suite',
      SLACK_SIGNING_SECRET: SIGNING_SECRET,
      SLACK_API_URL: slack.apiUrl,
      SLACK_ADMIN_USER_IDS: ADMIN,
      TELEGRAM_BOT_TOKEN: telegram.token,
      TELEGRAM_API_ROOT: telegram.apiRoot,
      TELEGRAM_WEBHOOK_URL: 'http://127.0.0.1:9/auth/telegram/webhook',
      TELEGRAM_WEBHOOK_SECRET: WEBHOOK_SECRET,
    },
  });
  const s = serving;
  // Ready: database, engine, Slack started and the webhook registered.
  const ready = await pollUntil(() => probe(`${s.origin}/readyz`, 1000), (r) => r.status === 200, 30_000, 200);
  expect(ready.status, `serve never became ready: ${ready.body}`).toBe(200);
  return s;
}

/** POSTs with a 5 s client timeout; status 0 means no answer. */
async function post(s: ServeProcess, path: string, body: string, headers: Record<string, string>): Promise<{ status: number; text: string }> {
  try {
    const res = await fetch(`${s.origin}${path}`, { method: 'POST', headers, body, signal: AbortSignal.timeout(5000) });
    return { status: res.status, text: await res.text() };
  } catch (err) {
    return { status: 0, text: `no answer: ${(err as Error).message}` };
  }
}

/** The next good requests are served: /healthz, a signed `/ops status`, a Telegram `/start`. */
async function expectServing(s: ServeProcess): Promise<void> {
  const health = await probe(`${s.origin}/healthz`, 1000);
  expect(health.status, `/healthz after a malformed body: ${health.body}`).toBe(200);

  const id = `fault-${++commandSeq}`;
  const body = slashCommandBody({ command: '/ops', text: 'status', userId: ADMIN, channelId: 'C_FAULTS', responseUrl: slack.responseUrl(id) });
  const ack = await post(s, '/slack/events', body, { 'content-type': 'application/x-www-form-urlencoded', ...signSlackRequest(body, SIGNING_SECRET) });
  expect(ack.status, `a good /ops status: ${ack.text}`).toBe(200);
  await slack.waitForResponse((r) => r.id === id, 20_000);

  const chatId = 4242 + commandSeq;
  const update = { ...messageUpdate({ fromId: chatId, chatId, text: '/start' }), update_id: ++updateId };
  const hook = await post(s, '/auth/telegram/webhook', JSON.stringify(update), { 'content-type': 'application/json', 'x-telegram-bot-api-secret-token': WEBHOOK_SECRET });
  expect(hook.status, `a good Telegram update: ${hook.text}`).toBe(200);
  await telegram.waitForCall('sendMessage', (c) => Number(c.body.chat_id) === chatId, 20_000);
  // Handling both good requests outlasts the handling of the bad one: it is still alive after it.
  expect(s.alive(), `serve died after a malformed body: ${deathNote(s)}`).toBe(true);
}

interface Case {
  name: string;
  path: string;
  body: string;
  headers: (body: string) => Record<string, string>;
}

const json = { 'content-type': 'application/json' };
const telegramHeaders = () => ({ ...json, 'x-telegram-bot-api-secret-token': WEBHOOK_SECRET });
const slackJson = (body: string) => ({ ...json, ...signSlackRequest(body, SIGNING_SECRET) });

const cases: Case[] = [
  { name: 'Telegram update with a message but no chat', path: '/auth/telegram/webhook', body: '{"update_id":1,"message":{"text":"/status"}}', headers: telegramHeaders },
  { name: 'Telegram webhook body that is not JSON', path: '/auth/telegram/webhook', body: 'update_id=2&message=hi', headers: telegramHeaders },
  { name: 'Telegram webhook body null', path: '/auth/telegram/webhook', body: 'null', headers: telegramHeaders },
  { name: 'signed Slack request whose JSON body is null', path: '/slack/events', body: 'null', headers: slackJson },
  { name: 'signed Slack request whose JSON body is an array', path: '/slack/events', body: '[1,2]', headers: slackJson },
  ...(['start', 'verify'] as const).flatMap((step): Case[] => [
    { name: `signup ${step} with null`, path: `/auth/signup/${step}`, body: 'null', headers: () => json },
    { name: `signup ${step} with an array`, path: `/auth/signup/${step}`, body: '[{"name":"a","contact":"b"}]', headers: () => json },
    { name: `signup ${step} with garbage`, path: `/auth/signup/${step}`, body: '{"name": "a", "contact', headers: () => json },
    { name: `signup ${step} with a form body`, path: `/auth/signup/${step}`, body: 'name=a&contact=b&signup_id=x&pin=123456', headers: () => ({ 'content-type': 'application/x-www-form-urlencoded' }) },
    { name: `signup ${step} with text/plain`, path: `/auth/signup/${step}`, body: 'hello', headers: () => ({ 'content-type': 'text/plain' }) },
  ]),
];

describe('malformed bodies against serve', { timeout: 120_000 }, () => {
  it.each(cases)('$name: 4xx, the process lives, the next good request is served', async (c) => {
    const s = await serve();
    onTestFailed(() => console.error(s.output().slice(-6000)));
    const res = await post(s, c.path, c.body, c.headers(c.body));
    // Soft: a wrong status still goes on to check that the process lives and serves.
    expect.soft(res.status, `answer to ${c.name}: ${res.text}`).toBeGreaterThanOrEqual(400);
    expect.soft(res.status, `answer to ${c.name}: ${res.text}`).toBeLessThan(500);
    await expectServing(s);
  });

  it('served every case without dying', () => {
    expect(dead.map((p) => `${p.name}: ${deathNote(p)}`)).toEqual([]);
  });
});
