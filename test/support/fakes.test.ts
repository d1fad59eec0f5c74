/** Proves the local fakes work with the REAL SDK clients over real HTTP (no module mocking, no sleeps). */
import { createHmac } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { App, HTTPReceiver, LogLevel, verifySlackRequest } from '@slack/bolt';
import { WebClient, WebClientEvent } from '@slack/web-api';
import { Api, Bot, GrammyError, InlineKeyboard } from 'grammy';
import OpenAI, { APIConnectionTimeoutError, InternalServerError } from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeOpenAI, type FakeOpenAI } from './fakeOpenAI.ts';
import { blockActionBody, signSlackRequest, slashCommandBody, startFakeSlack, type FakeSlack } from './fakeSlack.ts';
import { callbackUpdate, messageUpdate, startFakeTelegram, type FakeTelegram } from './fakeTelegram.ts';
import { waitFor } from './waitFor.ts';

describe('signSlackRequest', () => {
  it('matches an independently computed v0 HMAC and Slack’s documented vector', () => {
    const body = 'token=abc&team_id=T1&text=hello+world';
    const secret = 'shhh-signing-secret';
    const expected = `v0=${createHmac('sha256', secret).update(`v0:1700000000:${body}`).digest('hex')}`;
    expect(signSlackRequest(body, secret, 1_700_000_000)).toEqual({
      'x-slack-request-timestamp': '1700000000',
      'x-slack-signature': expected,
    });
    // https://api.slack.com/authentication/verifying-requests-from-slack
    const docBody =
      'token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c';
    expect(signSlackRequest(docBody, '8f742231b10e8888abcd99yyyzzz85a5', 1531420618)['x-slack-signature']).toBe(
      'v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503',
    );
  });

  it('is accepted by Bolt’s own verifier', () => {
    const body = slashCommandBody({ command: '/sb', text: 'x', userId: 'U1', channelId: 'C1', responseUrl: 'http://x/' });
    const h = signSlackRequest(body, 'secret');
    expect(() =>
      verifySlackRequest({
        signingSecret: 'secret',
        body,
        headers: { 'x-slack-signature': h['x-slack-signature'], 'x-slack-request-timestamp': Number(h['x-slack-request-timestamp']) },
      }),
    ).not.toThrow();
  });
});

describe('fake Slack with the real WebClient', () => {
  let slack: FakeSlack;
  let client: WebClient;
  beforeAll(async () => {
    slack = await startFakeSlack();
    client = new WebClient('xoxb-test', {
      slackApiUrl: slack.apiUrl,
      logLevel: LogLevel.ERROR,
      retryConfig: { retries: 1, minTimeout: 0, maxTimeout: 1 },
    });
  });
  afterAll(() => slack.close());

  it('records a form-encoded chat.postMessage and decodes its blocks', async () => {
    slack.reset();
    const blocks = [{ type: 'section', text: { type: 'mrkdwn', text: '*hello*' } }];
    const result = await client.chat.postMessage({ channel: 'C1', text: 'hello', blocks });
    expect(result).toMatchObject({ ok: true, channel: 'C1', ts: expect.stringMatching(/^\d{10}\.\d{6}$/) });
    const call = await slack.waitForCall('chat.postMessage');
    expect(call.body).toMatchObject({ channel: 'C1', text: 'hello', blocks });
    expect(call.headers['content-type']).toBe('application/x-www-form-urlencoded');
    expect(call.headers.authorization).toBe('Bearer xoxb-test');
    const second = await client.chat.postMessage({ channel: 'C1', text: 'again' });
    expect(Number(second.ts)).toBeGreaterThan(Number(result.ts));
    expect((await client.auth.test()).user_id).toBe('UBOT');
    expect((await client.users.info({ user: 'U42' })).user?.name).toBe('u42');
  });

  it('answers 429 with Retry-After and the client retries', async () => {
    slack.reset();
    const rateLimited: number[] = [];
    client.on(WebClientEvent.RATE_LIMITED, (sec: number) => rateLimited.push(sec));
    slack.failNext('chat.postMessage', { status: 429, retryAfterSec: 1 });
    const result = await client.chat.postMessage({ channel: 'C1', text: 'after limit' });
    expect(result.ok).toBe(true);
    expect(rateLimited).toEqual([1]);
    expect(slack.callsOf('chat.postMessage').map((c) => c.status)).toEqual([429, 200]);
  });

  it('answers { ok: false, error } on demand', async () => {
    slack.failNext('chat.update', { error: 'message_not_found' });
    await expect(client.chat.update({ channel: 'C1', ts: '1.2', text: 'x' })).rejects.toMatchObject({
      code: 'slack_webapi_platform_error',
      data: { ok: false, error: 'message_not_found' },
    });
    await expect(client.chat.update({ channel: 'C1', ts: '1.2', text: 'x' })).resolves.toMatchObject({ ok: true });
  });
});

describe('fake Slack with a real Bolt app over signed HTTP', () => {
  const secret = 'bolt-signing-secret';
  let slack: FakeSlack;
  let server: Server;
  let appUrl: string;
  beforeAll(async () => {
    slack = await startFakeSlack();
    const receiver = new HTTPReceiver({ signingSecret: secret, processBeforeResponse: true, logLevel: LogLevel.ERROR });
    const app = new App({ token: 'xoxb-bolt', receiver, clientOptions: { slackApiUrl: slack.apiUrl }, logLevel: LogLevel.ERROR });
    app.command('/sb', async ({ ack, respond, command }) => {
      await ack();
      await respond({ response_type: 'ephemeral', text: `ran ${command.text} for ${command.user_name}` });
    });
    app.action('approve', async ({ ack, respond, body, client }) => {
      await ack();
      if (body.type !== 'block_actions' || body.actions[0].type !== 'button') throw new Error('expected a button click');
      const ts = String(body.container.message_ts);
      await client.chat.update({ channel: body.channel?.id ?? '', ts, text: `approved ${body.actions[0].value}` });
      await respond({ replace_original: false, text: 'done' });
    });
    server = createServer(receiver.requestListener);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    appUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/slack/events`;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
    await slack.close();
  });

  const post = (body: string, signWith = secret): Promise<Response> =>
    fetch(appUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', ...signSlackRequest(body, signWith) },
      body,
    });

  it('delivers a slash command and records respond()', async () => {
    const responseUrl = slack.responseUrl('cmd-1');
    const res = await post(slashCommandBody({ command: '/sb', text: 'status', userId: 'U7', channelId: 'C9', responseUrl }));
    expect(res.status).toBe(200);
    const response = await slack.waitForResponse((r) => r.id === 'cmd-1');
    expect(response.body).toEqual({ response_type: 'ephemeral', text: 'ran status for u7' });
    expect((await post('x=1', 'wrong-secret')).status).toBe(401);
  });

  it('delivers a block action with message context', async () => {
    const blocks = [{ type: 'actions', block_id: 'job-42', elements: [{ type: 'button', action_id: 'approve', value: 'job-42', text: { type: 'plain_text', text: 'Approve' } }] }];
    const responseUrl = slack.responseUrl();
    const body = blockActionBody({ userId: 'U7', actionId: 'approve', value: 'job-42', responseUrl, channelId: 'C9', messageTs: '1700000000.000100', blocks });
    expect((await post(body)).status).toBe(200);
    const update = await slack.waitForCall('chat.update');
    expect(update.body).toMatchObject({ channel: 'C9', ts: '1700000000.000100', text: 'approved job-42' });
    expect(update.headers.authorization).toBe('Bearer xoxb-bolt');
    const response = await slack.waitForResponse((r) => r.body.text === 'done');
    expect(responseUrl.endsWith(`/response/${response.id}`)).toBe(true);
  });
});

describe('waitFor', () => {
  it('rejects with a message naming what it waited for', async () => {
    await expect(waitFor(() => false, { timeoutMs: 30, what: 'the thing' })).rejects.toThrow(/the thing/);
  });
});

describe('fake Telegram with the real grammY client', () => {
  let tg: FakeTelegram;
  let api: Api;
  beforeAll(async () => {
    tg = await startFakeTelegram();
    api = new Api(tg.token, { apiRoot: tg.apiRoot });
  });
  afterAll(() => tg.close());

  it('sends, edits and reports "message is not modified" like Telegram', async () => {
    const keyboard = new InlineKeyboard().text('Retry', 'retry:1');
    const sent = await api.sendMessage(42, 'Job queued', { reply_markup: keyboard });
    expect(sent).toMatchObject({ chat: { id: 42, type: 'private' }, text: 'Job queued', reply_markup: { inline_keyboard: [[{ text: 'Retry', callback_data: 'retry:1' }]] } });
    const call = await tg.waitForCall('sendMessage');
    expect(call.headers['content-type']).toBe('application/json');
    expect(call.body).toMatchObject({ chat_id: 42, text: 'Job queued' });
    const same = api.editMessageText(42, sent.message_id, 'Job queued', { reply_markup: keyboard });
    await expect(same).rejects.toBeInstanceOf(GrammyError);
    await expect(same).rejects.toMatchObject({ error_code: 400, description: expect.stringContaining('message is not modified') });
    await api.editMessageText(42, sent.message_id, 'Job done');
    expect(tg.messages(42)).toEqual([expect.objectContaining({ message_id: sent.message_id, text: 'Job done', edit_date: expect.any(Number) })]);
    expect(tg.messages(42)[0].reply_markup).toBeUndefined();
  });

  it('fails Telegram-style on demand', async () => {
    tg.failNext('sendMessage', { status: 429, retryAfter: 7 });
    await expect(api.sendMessage(42, 'x')).rejects.toMatchObject({ error_code: 429, parameters: { retry_after: 7 } });
    await expect(new Api('1:wrong', { apiRoot: tg.apiRoot }).getMe()).rejects.toMatchObject({ error_code: 401 });
  });

  it('feeds pushed updates to a long-polling Bot and confirms them on stop', async () => {
    const bot = new Bot(tg.token, { client: { apiRoot: tg.apiRoot } });
    bot.command('status', (ctx) => ctx.reply(`status for ${ctx.from?.first_name}`));
    bot.callbackQuery(/^retry:/, (ctx) => ctx.answerCallbackQuery({ text: `retrying ${ctx.callbackQuery.data}` }));
    const running = bot.start({ drop_pending_updates: false });
    await tg.waitForCall('getUpdates', (c) => Number(c.body.timeout) > 0);
    tg.pushUpdate(messageUpdate({ fromId: 7, chatId: 7, text: '/status now', firstName: 'Ada' }));
    const reply = await tg.waitForCall('sendMessage', (c) => c.body.chat_id === 7);
    expect(reply.body.text).toBe('status for Ada');
    tg.pushUpdate(callbackUpdate({ fromId: 7, chatId: 7, data: 'retry:9', messageId: 3 }));
    const answered = await tg.waitForCall('answerCallbackQuery');
    expect(answered.body.text).toBe('retrying retry:9');
    await bot.stop();
    await running;
    expect(tg.pendingUpdates()).toEqual([]);
  });

  it('releases a held long poll immediately on close()', async () => {
    const other = await startFakeTelegram();
    const poll = new Api(other.token, { apiRoot: other.apiRoot }).getUpdates({ timeout: 30 });
    await other.waitForCall('getUpdates');
    await other.close();
    await expect(poll).resolves.toEqual([]);
  });
});

describe('fake OpenAI with the real openai client', () => {
  let ai: FakeOpenAI;
  let client: OpenAI;
  const ask = (c: OpenAI = client) => c.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'Summarise' }] });
  beforeAll(async () => {
    ai = await startFakeOpenAI();
    client = new OpenAI({ baseURL: ai.baseURL, apiKey: 'test', maxRetries: 0 });
  });
  afterAll(() => ai.close());

  it('answers chat completions in OpenAI’s format', async () => {
    ai.respondWith('All jobs healthy.');
    const completion = await ask();
    expect(completion).toMatchObject({ object: 'chat.completion', model: 'gpt-4o-mini', choices: [{ index: 0, message: { role: 'assistant', content: 'All jobs healthy.' }, finish_reason: 'stop' }] });
    expect(completion.usage?.total_tokens).toBeGreaterThan(0);
    const request = await ai.waitForRequest();
    expect(request.body).toMatchObject({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'Summarise' }] });
    expect(request.headers.authorization).toBe('Bearer test');
  });

  it('returns errors, malformed bodies and honours retry-after-ms', async () => {
    ai.respondWithStatus(500);
    await expect(ask()).rejects.toBeInstanceOf(InternalServerError);
    ai.respondMalformed();
    await expect(ask()).rejects.toThrow();
    ai.respondMalformed('no-choices');
    expect((await ask()).choices).toBeUndefined();
    ai.respondWithStatus(429, undefined, { 'retry-after-ms': '0' });
    ai.respondWith('second try');
    const retrying = new OpenAI({ baseURL: ai.baseURL, apiKey: 'test', maxRetries: 1 });
    expect((await ask(retrying)).choices[0].message.content).toBe('second try');
  });

  it('times out a slow answer without keeping the server busy', async () => {
    ai.respondAfter(2000);
    const impatient = new OpenAI({ baseURL: ai.baseURL, apiKey: 'test', timeout: 200, maxRetries: 0 });
    await expect(ask(impatient)).rejects.toBeInstanceOf(APIConnectionTimeoutError);
    ai.respondWith('fast again');
    expect((await ask()).choices[0].message.content).toBe('fast again');
  });

  it('streams when asked to', async () => {
    ai.respondWith('streamed text');
    const stream = await client.chat.completions.create({ model: 'm', stream: true, messages: [{ role: 'user', content: 'hi' }] });
    let text = '';
    for await (const chunk of stream) text += chunk.choices[0]?.delta?.content ?? '';
    expect(text).toBe('streamed text');
  });
});
