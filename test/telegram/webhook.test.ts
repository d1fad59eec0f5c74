import { beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { ObjectId } from 'mongodb';
import { defineJob } from '../../src/engine/defineJob.ts';
import { tagsBalanced } from '../../src/chat/adapters/telegram/split.ts';
import { eventually } from '../support/engine.ts';
import { callbackUpdate, messageUpdate, type TelegramCall } from '../support/fakeTelegram.ts';
import { buttons, messageIdOf, startHarness, WEBHOOK_SECRET, type Harness } from './harness.ts';

const OWNER = 1001;
const VIEWER = 3003;
const STRANGER = 2002;
const broken = defineJob({ name: 'test.tg-broken', payload: z.object({ n: z.number() }), retry: { maxAttempts: 1 }, async handler() { throw new Error('boom'); } });

let h: Harness;
beforeAll(async () => {
  h = await startHarness({ webhook: true, work: true, extraJobs: [broken] });
  await h.bindOwner(OWNER);
  await h.app.ops.identities.grant('telegram', String(VIEWER), 'viewer', { platform: 'cli', id: 't', name: 't' });
});

const postUpdate = (update: object, secret?: string) =>
  h.post('/auth/telegram/webhook', update, secret === undefined ? {} : { 'x-telegram-bot-api-secret-token': secret });
const repliesTo = (chat: number, text: string) => h.fake.callsOf('sendMessage').filter((c) => Number(c.body.chat_id) === chat && String(c.body.text).includes(text));

describe('Telegram webhook', () => {
  it('registers the webhook with the secret token', async () => {
    const call = await h.fake.waitForCall('setWebhook');
    expect(call.body).toMatchObject({ url: `${h.base}/auth/telegram/webhook`, secret_token: WEBHOOK_SECRET });
    expect(h.tg?.mode).toBe('webhook');
  });

  it('answers 401 without or with a wrong secret, and runs nothing', async () => {
    const update = { update_id: 777_001, ...messageUpdate({ fromId: OWNER, chatId: OWNER, text: '/killswitch on --reason intruder' }) };
    expect((await postUpdate(update)).status).toBe(401);
    expect((await postUpdate(update, 'wrong-secret')).status).toBe(401);
    expect((await postUpdate(update, `${WEBHOOK_SECRET}x`)).status).toBe(401);
    await h.say(OWNER, '/killswitch status'); // a good request afterwards is served
    expect(await h.app.t.db.collection('telegramUpdates').countDocuments({ _id: { $regex: ':777001$' } } as never)).toBe(0);
    expect(h.app.ops.killSwitch().active).toBe(false);
    expect(repliesTo(OWNER, 'Kill switch ON')).toHaveLength(0);
  });

  it('runs a duplicated update once', async () => {
    const update = { update_id: 777_002, ...messageUpdate({ fromId: OWNER, chatId: OWNER, text: '/audit --limit 1' }) };
    const [a, b, c] = await Promise.all([postUpdate(update, WEBHOOK_SECRET), postUpdate(update, WEBHOOK_SECRET), postUpdate(update, WEBHOOK_SECRET)]);
    expect([a.status, b.status, c.status]).toEqual([200, 200, 200]);
    await h.fake.waitForCall('sendMessage', (m) => String(m.body.text).includes('newest first'));
    await h.tg?.idle();
    expect(repliesTo(OWNER, 'newest first')).toHaveLength(1);
    expect(await h.app.t.db.collection('auditLog').countDocuments({ action: 'audit', command: 'audit --limit 1' })).toBe(1);
  });

  it('splits a long answer into messages of at most 4096 characters with balanced tags; buttons on the last', async () => {
    const now = new Date();
    await h.app.t.db.collection('deadLetters').insertMany(
      Array.from({ length: 40 }, (_, i) => ({
        _id: new ObjectId(), jobId: `bulk-${i}`, generation: 0, jobName: 'test.bulk', payload: { i, note: 'x'.repeat(50) },
        error: { message: `upstream <500> & failure number ${i} `.padEnd(80, '.'), class: 'Error' }, attempts: 3, reason: 'retries_exhausted',
        firstFailedAt: now, lastFailedAt: now, status: 'pending', createdAt: now,
      })),
    );
    const last = h.nextCall('sendMessage', (c) => Number(c.body.chat_id) === OWNER && Boolean(c.body.reply_markup));
    const from = h.fake.calls.length;
    await h.deliver(messageUpdate({ fromId: OWNER, chatId: OWNER, text: '/dlq list --job test.bulk --limit 40' }));
    const final = await last.wait();
    const parts = h.fake.calls.slice(from).filter((c): c is TelegramCall => c.method === 'sendMessage' && Number(c.body.chat_id) === OWNER);
    const total = parts.reduce((n, p) => n + String(p.body.text).length, 0);
    expect(total).toBeGreaterThan(5000);
    expect(parts.length).toBeGreaterThanOrEqual(2);
    expect(parts[parts.length - 1]).toBe(final);
    for (const p of parts) {
      expect(String(p.body.text).length).toBeLessThanOrEqual(4096);
      expect(tagsBalanced(String(p.body.text))).toBe(true);
      expect(p.body.parse_mode).toBe('HTML');
    }
    expect(String(parts[1].body.text).startsWith('<pre>')).toBe(true);
    expect(parts.slice(0, -1).every((p) => p.body.reply_markup === undefined)).toBe(true);
    expect(Object.keys(buttons(final))).toContain('Retry all test.bulk');
  });

  it('clicks: refused without the role (message unchanged), run once as the owner, then edited with the outcome', async () => {
    const { id: jobId } = await h.app.ops.jobs.run('test.tg-broken', { n: 1 });
    const dl = await eventually(async () => (await h.app.t.db.collection('deadLetters').findOne({ jobId })) ?? undefined, 'dead letter');
    const shown = await h.say(OWNER, `/dlq show ${dl._id}`);
    const { Retry, Delete } = buttons(shown);
    expect(Retry.length).toBeLessThanOrEqual(64);
    const messageId = messageIdOf(h, shown);
    const textBefore = h.fake.messages(OWNER).find((m) => m.message_id === messageId)?.text;

    for (const [user, expected] of [[VIEWER, 'You need the admin role'], [STRANGER, 'You need the admin role']] as const) {
      const refused = h.nextCall('answerCallbackQuery');
      await h.click(user, messageId, Delete, OWNER);
      const answer = await refused.wait();
      expect(answer.body.text).toContain(expected);
      expect(answer.body.show_alert).toBe(true);
    }
    await h.tg?.idle();
    expect(h.fake.callsOf('editMessageText').filter((c) => Number(c.body.message_id) === messageId)).toHaveLength(0);
    expect(h.fake.messages(OWNER).find((m) => m.message_id === messageId)?.text).toBe(textBefore);
    expect((await h.app.ops.deadLetters.show(String(dl._id))).status).toBe('pending');

    const edited = h.nextCall('editMessageText', (c) => Number(c.body.message_id) === messageId);
    await Promise.all([0, 1].map(() => h.deliver(callbackUpdate({ fromId: OWNER, chatId: OWNER, data: Retry, messageId }))));
    const edit = await edited.wait();
    await h.tg?.idle();
    expect(edit.body.text).toMatch(/\n\n✓ Retried 1 dead letter\. — by User 1001 at \d{4}-/);
    expect(edit.body.reply_markup).toBeUndefined();
    expect(h.fake.callsOf('editMessageText').filter((c) => Number(c.body.message_id) === messageId)).toHaveLength(1);
    const firstAnswer = h.fake.callsOf('answerCallbackQuery').at(-1) as TelegramCall;
    expect(h.fake.calls.indexOf(firstAnswer)).toBeLessThan(h.fake.calls.indexOf(edit));
    expect(await h.app.t.db.collection('auditLog').countDocuments({ action: 'dlq_retry', target: String(dl._id) })).toBe(1);

    const again = h.nextCall('answerCallbackQuery');
    await h.click(OWNER, messageId, Retry);
    expect((await again.wait()).body.text).toMatch(/^Already done by User 1001 at /);
  });
  it('a destructive button asks first: Cancel puts it back, Yes runs it once', async () => {
    const { id: jobId } = await h.app.ops.jobs.run('test.tg-broken', { n: 2 });
    const dl = await eventually(async () => (await h.app.t.db.collection('deadLetters').findOne({ jobId })) ?? undefined, 'dead letter');
    const shown = await h.say(OWNER, `/dlq show ${dl._id}`);
    const messageId = messageIdOf(h, shown);
    const current = () => h.fake.messages(OWNER).find((m) => m.message_id === messageId)!;
    const press = (data: string) => h.deliver(callbackUpdate({ fromId: OWNER, chatId: OWNER, data, messageId, replyMarkup: current().reply_markup }));
    const { Delete } = buttons(shown);
    expect(Delete.startsWith('?')).toBe(true);

    const asked = h.nextCall('editMessageReplyMarkup', (c) => Number(c.body.message_id) === messageId);
    await press(Delete);
    await asked.wait();
    const pair = Object.fromEntries((current().reply_markup?.inline_keyboard ?? []).flat().map((b) => [b.text, (b as { callback_data: string }).callback_data]));
    expect(pair['✓ Yes, Delete']).toBe(Delete.slice(1));
    expect(pair.Cancel).toBe(`!${Delete.slice(1)}`);
    expect((await h.app.ops.deadLetters.show(String(dl._id))).status).toBe('pending');

    const restored = h.nextCall('editMessageReplyMarkup', (c) => Number(c.body.message_id) === messageId);
    await press(pair.Cancel);
    await restored.wait();
    expect(Object.values(Object.fromEntries((current().reply_markup?.inline_keyboard ?? []).flat().map((b) => [b.text, (b as { callback_data: string }).callback_data])))).toContain(Delete);
    expect((await h.app.ops.deadLetters.show(String(dl._id))).status).toBe('pending');

    await press(Delete);
    await eventually(async () => (current().reply_markup?.inline_keyboard ?? []).flat().some((b) => b.text === '✓ Yes, Delete'), 'the question again');
    const edited = h.nextCall('editMessageText', (c) => Number(c.body.message_id) === messageId);
    await press(Delete.slice(1));
    expect((await edited.wait()).body.text).toMatch(/✓ Deleted 1 dead letter\./);
    expect((await h.app.ops.deadLetters.show(String(dl._id))).status).toBe('deleted');
  });
});
