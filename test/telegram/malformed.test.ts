/** Malformed Telegram webhook bodies: 400 (or a logged failure for a broken update), the process lives, the next update is served. */
import { beforeAll, describe, expect, it } from 'vitest';
import { startHarness, WEBHOOK_SECRET, type Harness } from './harness.ts';

const OWNER = 4004;
let h: Harness;
beforeAll(async () => {
  h = await startHarness({ webhook: true });
  await h.bindOwner(OWNER);
});

const postRaw = async (body: string) => {
  const res = await fetch(`${h.base}/auth/telegram/webhook`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-telegram-bot-api-secret-token': WEBHOOK_SECRET }, body });
  return { status: res.status, body: (await res.json()) as { error?: string } };
};

describe('malformed Telegram webhook bodies', () => {
  it.each([
    ['not JSON', '{"update_id":', 'The body is not JSON.'],
    ['null', 'null', 'The body is not a Telegram update (an object with a numeric update_id).'],
    ['an array', '[{"update_id":1}]', 'The body is not a Telegram update (an object with a numeric update_id).'],
    ['a number', '7', 'The body is not a Telegram update (an object with a numeric update_id).'],
    ['an object without update_id', '{"message":{"text":"/status"}}', 'The body is not a Telegram update (an object with a numeric update_id).'],
    ['a string update_id', '{"update_id":"1"}', 'The body is not a Telegram update (an object with a numeric update_id).'],
  ])('answers 400 to %s', async (_what, body, error) => {
    expect(await postRaw(body)).toEqual({ status: 400, body: { error } });
  });

  it('survives a message without a chat (the failure is logged) and serves the next update', async () => {
    expect((await postRaw('{"update_id":1,"message":{"text":"/status"}}')).status).toBe(200);
    await h.tg?.idle(); // the handler failed; reporting that failure must not fail too
    const reply = await h.say(OWNER, '/status');
    expect(String(reply.body.text)).toContain('Kill switch');
  });

  it('tells the chat of a broken update that it failed, with a reference', async () => {
    const told = h.nextCall('sendMessage', (c) => Number(c.body.chat_id) === OWNER);
    const broken = { update_id: 2, message: { message_id: 1, date: 0, chat: { id: OWNER, type: 'private' }, text: { not: 'a string' } } };
    expect((await postRaw(JSON.stringify(broken))).status).toBe(200);
    expect(String((await told.wait()).body.text)).toMatch(/^That failed on our side \(ref [0-9a-f]{6}\); the details are in the server log\.$/);
  });
});
