/**
 * Malformed Telegram updates: the webhook refuses them with 400 and a sentence; one that arrives
 * anyway (long polling takes what Telegram sends) fails alone, logged with a reference, and the
 * process serves the next update.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { startHarness, WEBHOOK_SECRET, type Harness } from './harness.ts';

const OWNER = 4004;
const NOT_AN_UPDATE = 'The body is not a Telegram update (an object with a numeric update_id).';
const BAD_MESSAGE = 'The update has a message without a chat, a sender or text.';

describe('malformed Telegram webhook bodies', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ webhook: true });
    await h.bindOwner(OWNER);
  });
  const postRaw = async (body: string) => {
    const res = await fetch(`${h.base}/auth/telegram/webhook`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-telegram-bot-api-secret-token': WEBHOOK_SECRET }, body });
    return { status: res.status, body: (await res.json()) as { error?: string } };
  };

  it.each([
    ['not JSON', '{"update_id":', 'The body is not JSON.'],
    ['null', 'null', NOT_AN_UPDATE],
    ['an array', '[{"update_id":1}]', NOT_AN_UPDATE],
    ['a number', '7', NOT_AN_UPDATE],
    ['an object without update_id', '{"message":{"text":"/status"}}', NOT_AN_UPDATE],
    ['a string update_id', '{"update_id":"1"}', NOT_AN_UPDATE],
    ['a message without a chat', '{"update_id":1,"message":{"text":"/status"}}', BAD_MESSAGE],
    ['a message without a sender', `{"update_id":2,"message":{"message_id":1,"date":0,"chat":{"id":${OWNER},"type":"private"},"text":"/status"}}`, BAD_MESSAGE],
    ['a message whose text is not a string', `{"update_id":3,"message":{"message_id":1,"date":0,"chat":{"id":${OWNER},"type":"private"},"from":{"id":${OWNER},"is_bot":false,"first_name":"O"},"text":{"a":1}}}`, BAD_MESSAGE],
    ['a callback query without a sender', '{"update_id":4,"callback_query":{"id":"q1","data":"x"}}', 'The update has a callback query without an id or a sender.'],
  ])('answers 400 to %s, and serves the next update', async (_what, body, error) => {
    expect(await postRaw(body)).toEqual({ status: 400, body: { error } });
  });

  it('still serves a good update', async () => {
    const reply = await h.say(OWNER, '/status');
    expect(String(reply.body.text)).toContain('Kill switch');
  });
});

describe('a malformed update that arrives by long polling', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness();
    await h.bindOwner(OWNER);
  });

  it('fails alone (reporting the failure does not fail too) and the next update is served', async () => {
    h.fake.pushUpdate({ message: { text: '/status' } } as never);
    const reply = await h.say(OWNER, '/status');
    expect(String(reply.body.text)).toContain('Kill switch');
  });

  it('tells the chat of a broken update that it failed, with a reference', async () => {
    const told = h.nextCall('sendMessage', (c) => Number(c.body.chat_id) === OWNER);
    h.fake.pushUpdate({ message: { message_id: 1, date: 0, chat: { id: OWNER, type: 'private' }, text: '/status' } } as never);
    expect(String((await told.wait()).body.text)).toMatch(/^That failed on our side \(ref [0-9a-f]{6}\); the details are in the server log\.$/);
  });
});
