import { beforeAll, describe, expect, it } from 'vitest';
import { startTelegram } from '../../src/chat/adapters/telegram/index.ts';
import { HttpServer } from '../../src/http/server.ts';
import { nextEvent, testLogger } from '../support/engine.ts';
import { messageUpdate } from '../support/fakeTelegram.ts';
import { startHarness, type Harness } from './harness.ts';

const OWNER = 1001;
const fast = { chatGapMs: 10, backoffMs: 50, maxBackoffMs: 200, renewMs: 100, leaseMs: 1500, pollTimeoutSec: 1 };

let h: Harness;
beforeAll(async () => {
  h = await startHarness({ telegram: fast });
  await h.bindOwner(OWNER);
});

describe('Telegram long polling', () => {
  it('runs an update delivered twice (same update_id) once', async () => {
    const update = messageUpdate({ fromId: OWNER, chatId: OWNER, text: '/audit --limit 1' });
    h.fake.pushUpdate({ ...update, update_id: 50_000 });
    h.fake.pushUpdate({ ...update, update_id: 50_000 });
    await h.fake.waitForCall('sendMessage', (c) => String(c.body.text).includes('newest first'));
    await h.say(OWNER, '/killswitch status');
    await h.tg?.idle();
    expect(h.fake.callsOf('sendMessage').filter((c) => String(c.body.text).includes('newest first'))).toHaveLength(1);
  });

  it('keeps polling through errors with backoff, and reports persistent ones as a telegram-error event', async () => {
    const trouble = nextEvent<{ failures: number; error: string; mode: string }>(h.app.ops, 'telegram-error', undefined, 20_000);
    const recovered = nextEvent(h.app.ops, 'telegram-recovered', undefined, 20_000);
    h.fake.failNext('getUpdates', { status: 401, description: 'Unauthorized' });
    h.fake.failNext('getUpdates', { status: 409 });
    h.fake.failNext('getUpdates', { status: 502, description: 'Bad Gateway' });
    expect(await trouble).toMatchObject({ failures: 3, mode: 'polling', error: expect.stringContaining('Bad Gateway') });
    await recovered;
    expect((await h.say(OWNER, '/killswitch status')).body.text).toContain('Kill switch is off');
  });

  it('lets one process poll; another takes over when it stops', async () => {
    const http = new HttpServer(testLogger());
    const second = await startTelegram(h.app.frontEnd, http, fast);
    try {
      const holder = async () => (await h.app.t.db.collection('leases').find({ name: 'telegram-poller' }).sort({ gen: -1 }).limit(1).next())?.holder;
      const first = await holder();
      expect(first).toBeTruthy();
      const before = h.fake.callsOf('getUpdates').filter((c) => c.status === 409).length;
      await h.say(OWNER, '/killswitch status');
      await h.tg?.stop();
      const takeover = h.nextCall('getUpdates', (c) => c.status === 200);
      await takeover.wait();
      expect(await holder()).not.toBe(first);
      expect((await h.say(OWNER, '/killswitch status')).body.text).toContain('Kill switch is off');
      expect(h.fake.callsOf('getUpdates').filter((c) => c.status === 409).length).toBe(before);
    } finally {
      await second.stop();
    }
  });
});
