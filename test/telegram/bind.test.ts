import { BIND_CODE_TTL_MS } from '../../src/auth/bindCodes.ts';
import { beforeAll, describe, expect, it } from 'vitest';
import { messageUpdate } from '../support/fakeTelegram.ts';
import { startHarness, type Harness } from './harness.ts';

const OWNER = 1001;
const NEXT_OWNER = 1002;
const STRANGER = 2002;

const code = async (h: Harness) => {
  const r = await h.app.dispatcher.run('telegram bind-code --json', { actor: { platform: 'cli', id: 'ops', name: 'ops' }, role: 'admin' });
  expect(r.status).toBe('ok');
  const data = r.reply.data as { code: string; expiresAt: Date };
  expect(data.code).toMatch(/^[A-Z0-9]{10}$/);
  expect(data.expiresAt.getTime() - h.clock.now().getTime()).toBeGreaterThan(9 * 60_000);
  expect(data.expiresAt.getTime() - h.clock.now().getTime()).toBeLessThanOrEqual(10 * 60_000);
  return data.code;
};

describe('Telegram /bind with codes (long polling)', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness();
  });

  it('explains how to bind while no owner is bound, and refuses commands to users without a role', async () => {
    expect((await h.say(OWNER, '/bind')).body.text).toContain('No owner is bound yet');
    const refused = await h.say(STRANGER, '/status');
    expect(refused.body.text).toContain('no role');
    const audit = await h.app.t.db.collection('auditLog').findOne({ action: 'telegram_command', 'actor.id': String(STRANGER) });
    expect(audit?.outcome).toBe('denied');
  });

  it('refuses a wrong code and an expired code', async () => {
    expect((await h.say(OWNER, '/bind ABCDEFGHJK')).body.text).toContain('not valid');
    const expiring = await code(h);
    h.clock.advance(BIND_CODE_TTL_MS + 1000);
    expect((await h.say(OWNER, `/bind ${expiring}`)).body.text).toContain('expired');
    expect(await h.app.ops.identities.roleOf('telegram', String(OWNER))).toBeUndefined();
    const denied = await h.app.t.db.collection('auditLog').countDocuments({ action: 'telegram_bind', outcome: 'denied' });
    expect(denied).toBe(2);
  });

  it('binds the owner with a valid code, once; the code cannot be reused', async () => {
    const c = await code(h);
    const bound = await h.say(OWNER, `/bind ${c}`, 'Olga');
    expect(bound.body.text).toContain('You are now the owner');
    expect(await h.app.ops.identities.roleOf('telegram', String(OWNER))).toBe('admin');
    const owner = await h.app.t.db.collection('settings').findOne({ _id: 'telegram:owner' as never });
    expect(owner?.value).toMatchObject({ userId: OWNER, chatId: OWNER, name: 'Olga', via: 'code' });
    const audit = await h.app.t.db.collection('auditLog').findOne({ action: 'telegram_bind', outcome: 'ok' });
    expect(audit?.actor).toMatchObject({ platform: 'telegram', id: String(OWNER) });
    expect(audit?.command).not.toContain(c);

    expect((await h.say(NEXT_OWNER, `/bind ${c}`)).body.text).toContain('already used');
    expect((await h.say(OWNER, '/bind')).body.text).toContain('You are the owner');
    expect((await h.say(STRANGER, '/bind')).body.text).toContain('already bound');
  });

  it('answers the owner: /status, /ops dlq list, /dlq@bot list; ignores another bot’s command', async () => {
    const status = await h.say(OWNER, '/status');
    expect(status.body.parse_mode).toBe('HTML');
    expect(status.body.text).toMatch(/<b>|Kill switch|kill switch/);
    const dlq = await h.say(OWNER, '/ops dlq list');
    expect(dlq.body.text).toContain('The DLQ is empty');
    const mention = await h.say(OWNER, '/dlq@switchboard_test_bot list --json');
    expect(mention.body.text).toMatch(/^<pre>\{/);
    expect(mention.body.text).toContain('"total": 0');

    const other = h.nextCall('sendMessage', (c) => Number(c.body.chat_id) === OWNER);
    h.fake.pushUpdate(messageUpdate({ fromId: OWNER, chatId: OWNER, text: '/status@some_other_bot' }));
    h.fake.pushUpdate(messageUpdate({ fromId: OWNER, chatId: OWNER, text: '/killswitch status' }));
    expect((await other.wait()).body.text).toContain('Kill switch is off');
  });

  it('answers a command no family knows, or typed in capitals, through the dispatcher; plain text gets a hint', async () => {
    expect((await h.say(OWNER, '/frobnicate')).body.text).toContain('Unknown command');
    expect((await h.say(OWNER, '/Status@switchboard_test_bot')).body.text).toMatch(/Kill switch|kill switch/);
    expect((await h.say(OWNER, 'hello')).body.text).toContain('Commands start with a slash');
  });

  it('runs the kill switch from Telegram with a reason, and audits it as the Telegram user', async () => {
    const on = await h.say(OWNER, '/ops killswitch on --reason "provider outage"');
    expect(on.body.text).toContain('Kill switch ON');
    const audit = await h.app.t.db.collection('auditLog').findOne({ action: 'killswitch_on' });
    expect(audit).toMatchObject({ outcome: 'ok', reason: 'provider outage', actor: { platform: 'telegram', id: String(OWNER) } });
    expect((await h.say(OWNER, '/killswitch off --reason recovered')).body.text).toContain('Kill switch off');
  });

  it('rebinds with a new code and tells the previous owner', async () => {
    const c = await code(h);
    const told = h.nextCall('sendMessage', (c2) => Number(c2.body.chat_id) === OWNER);
    const bound = await h.say(NEXT_OWNER, `/bind ${c}`, 'Nina');
    expect(bound.body.text).toContain('You are now the owner');
    expect((await told.wait()).body.text).toContain('moved to <b>Nina</b>');
    const owner = await h.app.t.db.collection('settings').findOne({ _id: 'telegram:owner' as never });
    expect(owner?.value).toMatchObject({ userId: NEXT_OWNER });
    expect(await h.app.t.db.collection('auditLog').countDocuments({ action: 'telegram_rebind', outcome: 'ok' })).toBe(1);
    expect((await h.say(OWNER, '/bind')).body.text).toContain('The owner is <b>Nina</b>');
  });
});

describe('Telegram /bind with TELEGRAM_OWNER_ID', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ env: { TELEGRAM_OWNER_ID: String(OWNER) } });
  });

  it('refuses a bare /bind, and even a valid code, from anyone else', async () => {
    expect((await h.say(STRANGER, '/bind')).body.text).toContain('Only the configured owner');
    expect((await h.say(STRANGER, `/bind ${await code(h)}`)).body.text).toContain('Only the configured owner');
    expect(await h.app.ops.identities.roleOf('telegram', String(STRANGER))).toBeUndefined();
    expect(await h.app.t.db.collection('settings').findOne({ _id: 'telegram:owner' as never })).toBeNull();
  });

  it('binds the configured owner with a bare /bind', async () => {
    expect((await h.say(OWNER, '/bind', 'Olga')).body.text).toContain('You are now the owner');
    const owner = await h.app.t.db.collection('settings').findOne({ _id: 'telegram:owner' as never });
    expect(owner?.value).toMatchObject({ userId: OWNER, via: 'owner-id' });
    expect(await h.app.ops.identities.roleOf('telegram', String(OWNER))).toBe('admin');
    expect((await h.say(OWNER, '/bind')).body.text).toContain('You are the owner');
  });
});
