import { beforeAll, describe, expect, it } from 'vitest';
import type { AlertEvent, AlertView } from '../../src/alerting/types.ts';
import type { Api } from 'grammy';
import { createApi } from '../../src/chat/adapters/telegram/api.ts';
import { TelegramAlertNotifier } from '../../src/chat/adapters/telegram/index.ts';
import { TelegramSender } from '../../src/chat/adapters/telegram/sender.ts';
import { buttons, startHarness, type Harness } from './harness.ts';

const OWNER = 1001;
let h: Harness;
let now = Date.parse('2025-03-01T10:00:00Z');

const view = (key: string, over: Partial<AlertView> = {}): AlertView => ({
  key,
  rule: 'dlq-growth',
  subject: 'http.invoke',
  state: 'firing',
  title: `DLQ growing: ${key}`,
  summary: '17 jobs of http.invoke dead-lettered in 10 min',
  facts: [{ label: 'Job', value: 'http.invoke' }],
  count: 17,
  firstSeenAt: new Date('2025-03-01T09:50:00Z'),
  lastSeenAt: new Date('2025-03-01T10:00:00Z'),
  hint: 'Check the provider status page, then retry.',
  actions: [{ label: 'Retry dead letters', command: 'dlq retry --all --job http.invoke', style: 'primary' }],
  ...over,
});
const ev = (kind: AlertEvent['kind'], alert: AlertView): AlertEvent => ({ kind, alert });

/** A notifier on the harness's app with its own clock and edit interval. */
const notifier = (intervalMs = 60_000) =>
  new TelegramAlertNotifier(
    {
      db: h.app.db,
      sender: new TelegramSender(createApi(h.app.config, h.app.log, { chatGapMs: 10 }) as Api, h.app.db, h.app.tokens),
      owner: h.app.ops.owner,
      tokens: h.app.tokens,
      log: h.app.log,
    },
    { minEditIntervalMs: intervalMs, now: () => now },
  );
const ref = async (key: string) => (await h.app.t.db.collection('telegramAlertMessages').findOne({ _id: key as never })) as unknown as { chatId: number; messageId: number; lastEditAt: Date };
const editsOf = (messageId: number) => h.fake.callsOf('editMessageText').filter((c) => Number(c.body.message_id) === messageId);

beforeAll(async () => {
  h = await startHarness();
});

describe('TelegramAlertNotifier', () => {
  it('sends nothing while no owner is bound', async () => {
    const n = notifier();
    await n.notify(ev('opened', view('none')));
    await n.idle();
    expect(h.fake.callsOf('sendMessage')).toHaveLength(0);
    await h.bindOwner(OWNER);
  });

  it('one message per alert, count edits at most once a minute, edited again on resolve without buttons', async () => {
    const n = notifier();
    const sent = h.nextCall('sendMessage', (c) => String(c.body.text).includes('DLQ growing: a1'));
    await n.notify(ev('opened', view('a1')));
    const msg = await sent.wait();
    expect(msg.body.chat_id).toBe(OWNER);
    expect(msg.body.text).toContain('🔴 <b>DLQ growing: a1</b>');
    expect(msg.body.text).toContain('<b>Count:</b> 17');
    expect(Object.keys(buttons(msg))).toEqual(['Retry dead letters']);
    await n.idle();
    const r = await ref('a1');
    expect(r).toMatchObject({ chatId: OWNER, messageId: expect.any(Number), lastEditAt: expect.any(Date) });

    await n.notify(ev('updated', view('a1', { count: 20 }))); // within the minute: held back
    await n.idle();
    expect(editsOf(r.messageId)).toHaveLength(0);
    now += 61_000;
    await n.notify(ev('updated', view('a1', { count: 25 })));
    await n.idle();
    expect(editsOf(r.messageId)).toHaveLength(1);
    expect(editsOf(r.messageId)[0].body.text).toContain('<b>Count:</b> 25');
    expect(buttons(editsOf(r.messageId)[0])).toEqual(buttons(msg));

    await n.notify(ev('resolved', view('a1', { count: 25, state: 'resolved', by: 'Ana' })));
    await n.idle();
    const edits = editsOf(r.messageId);
    expect(edits).toHaveLength(2);
    expect(edits[1].body.text).toContain('✅ <b>DLQ growing: a1</b>');
    expect(edits[1].body.text).toContain('Resolved by Ana');
    expect(edits[1].body.reply_markup).toBeUndefined();
    expect(h.fake.callsOf('sendMessage').filter((c) => String(c.body.text).includes('DLQ growing: a1'))).toHaveLength(1);
    await n.stop();
  });

  it('sends a held-back count edit once the interval has passed (latest count wins)', async () => {
    const n = notifier(300);
    await n.notify(ev('opened', view('a2')));
    await n.idle();
    const r = await ref('a2');
    await n.notify(ev('updated', view('a2', { count: 30 })));
    await n.notify(ev('updated', view('a2', { count: 31 })));
    const edit = await h.fake.waitForCall('editMessageText', (c) => Number(c.body.message_id) === r.messageId);
    expect(edit.body.text).toContain('<b>Count:</b> 31');
    await n.stop();
    expect(editsOf(r.messageId)).toHaveLength(1);
  });

  it('never blocks the caller, waits out 429 retry_after, and treats "message is not modified" as done', async () => {
    const n = notifier();
    h.fake.failNext('sendMessage', { status: 429, retryAfter: 1 });
    const sent = h.nextCall('sendMessage', (c) => c.status === 200 && String(c.body.text).includes('DLQ growing: a3'));
    await n.notify(ev('opened', view('a3')));
    expect(h.fake.callsOf('sendMessage').filter((c) => c.status === 200 && String(c.body.text).includes('a3'))).toHaveLength(0);
    await sent.wait();
    const limited = h.fake.callsOf('sendMessage').filter((c) => String(c.body.text).includes('DLQ growing: a3'));
    expect(limited.map((c) => c.status)).toEqual([429, 200]);

    await n.idle();
    const r = await ref('a3');
    await n.notify(ev('acknowledged', view('a3', { state: 'acknowledged', by: 'Ana' })));
    await n.notify(ev('acknowledged', view('a3', { state: 'acknowledged', by: 'Ana' }))); // same content again
    await n.notify(ev('note', view('a3', { state: 'acknowledged' }))); // no note text: nothing
    await n.notify({ kind: 'note', alert: view('a3'), note: 'Retried by Ana' });
    const note = await h.fake.waitForCall('sendMessage', (c) => c.body.text === 'Retried by Ana');
    expect(note.body.reply_parameters).toMatchObject({ message_id: r.messageId });
    const edits = editsOf(r.messageId);
    expect(edits.map((c) => c.status)).toEqual([200, 400]);
    expect(edits[0].body.text).toContain('Acknowledged by Ana');
    await n.stop();
  });
});
