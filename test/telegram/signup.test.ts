import { PIN_TTL_MS } from '../../src/auth/signup.ts';
import { beforeAll, describe, expect, it } from 'vitest';
import { buttons, messageIdOf, startHarness, type Harness } from './harness.ts';
import type { TelegramCall } from '../support/fakeTelegram.ts';

const OWNER = 1001;
const pinOf = (call: TelegramCall) => /<b>PIN:<\/b> (\d{6})/.exec(String(call.body.text))?.[1] as string;
const wrongPin = (pin: string) => String((Number(pin) + 1) % 1_000_000).padStart(6, '0');

describe('signup without a bot token', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ noToken: true });
  });

  it('reports the state and answers start with a clear error', async () => {
    expect(await h.get('/auth/signup/status')).toEqual({ status: 200, body: { has_telegram_token: false, owner_bound: false } });
    const r = await h.post('/auth/signup/start', { name: 'Ana', contact: 'telegram:3003' });
    expect(r.status).toBe(503);
    expect(r.body).toMatchObject({ code: 'no_token', error: expect.stringContaining('TELEGRAM_BOT_TOKEN') });
  });
});

describe('signup with a PIN sent to the Telegram owner', () => {
  let h: Harness;
  /** Starts a signup over HTTP and returns its id and the owner's PIN message. */
  const startHttp = async (contact: string, name = 'Ana') => {
    const msg = h.nextCall('sendMessage', (c) => Number(c.body.chat_id) === OWNER && String(c.body.text).includes('Signup request'));
    const r = await h.post('/auth/signup/start', { name, contact });
    expect(r.status).toBe(201);
    return { id: r.body.signup_id as string, expiresAt: r.body.expires_at as string, msg: await msg.wait() };
  };
  const verify = (id: string, pin: string) => h.post('/auth/signup/verify', { signup_id: id, pin });

  beforeAll(async () => {
    h = await startHarness();
  });

  it('needs a bound owner', async () => {
    expect((await h.get('/auth/signup/status')).body).toEqual({ has_telegram_token: true, owner_bound: false });
    const r = await h.post('/auth/signup/start', { name: 'Ana', contact: 'telegram:3003' });
    expect(r.status).toBe(503);
    expect(r.body.code).toBe('no_owner');
    expect(r.body.error).toContain('owner');
    await h.bindOwner(OWNER);
    expect((await h.get('/auth/signup/status')).body).toEqual({ has_telegram_token: true, owner_bound: true });
  });

  it('rejects a contact that names no chat user', async () => {
    const r = await h.post('/auth/signup/start', { name: 'Ana', contact: 'ana@example.com' });
    expect(r.status).toBe(400);
    expect(r.body.error).toContain('telegram:');
  });

  it('by HTTP: the owner gets the PIN, who asks and Approve/Deny; the right PIN grants the default role', async () => {
    const { id, expiresAt, msg } = await startHttp('telegram:3003');
    expect(new Date(expiresAt).getTime() - Date.now()).toBeGreaterThan(9 * 60_000);
    expect(msg.body.text).toContain('Ana');
    expect(msg.body.text).toContain('telegram:3003');
    expect(Object.keys(buttons(msg))).toEqual(['Approve', 'Deny']);
    const pin = pinOf(msg);
    expect(pin).toMatch(/^\d{6}$/);
    const stored = await h.app.t.db.collection('signups').findOne({ _id: `signup:${id}` as never });
    expect(JSON.stringify(stored)).not.toContain(pin);

    const wrong = await verify(id, wrongPin(pin));
    expect(wrong).toMatchObject({ status: 401, body: { code: 'wrong_pin', attempts_left: 4 } });
    expect(await verify(id, pin)).toEqual({ status: 200, body: { ok: true, role: 'viewer' } });
    expect(await h.app.ops.identities.roleOf('telegram', '3003')).toBe('viewer');
    expect((await verify(id, pin)).status).toBe(409);
    const actions = await h.app.t.db.collection('auditLog').find({ target: id }).toArray();
    expect(actions.map((a) => `${a.action}:${a.outcome}`).sort()).toEqual(['signup_start:ok', 'signup_verify:denied', 'signup_verify:denied', 'signup_verify:ok']);
  });

  it('locks after five wrong PINs, even for the right one', async () => {
    const { id, msg } = await startHttp('telegram:3004');
    const pin = pinOf(msg);
    for (let i = 1; i <= 4; i++) expect((await verify(id, wrongPin(pin))).body).toMatchObject({ code: 'wrong_pin', attempts_left: 5 - i });
    const fifth = await verify(id, wrongPin(pin));
    expect(fifth).toMatchObject({ status: 423, body: { code: 'locked' } });
    const after = await verify(id, pin);
    expect(after).toMatchObject({ status: 423, body: { code: 'locked', error: expect.stringContaining('locked') } });
    expect(await h.app.ops.identities.roleOf('telegram', '3004')).toBeUndefined();
  });

  it('refuses an expired PIN', async () => {
    const { id, msg } = await startHttp('telegram:3005');
    h.clock.advance(PIN_TTL_MS + 1000);
    const r = await verify(id, pinOf(msg));
    expect(r).toMatchObject({ status: 410, body: { code: 'expired', error: expect.stringContaining('expired') } });
    expect(await h.app.ops.identities.roleOf('telegram', '3005')).toBeUndefined();
  });

  it('lets a contact start at most 3 signups an hour', async () => {
    for (let i = 0; i < 3; i++) await startHttp('telegram:3006');
    const fourth = await h.post('/auth/signup/start', { name: 'Ana', contact: 'telegram:3006' });
    expect(fourth).toMatchObject({ status: 429, body: { code: 'rate_limited' } });
  });

  it('by Telegram: /signup, a wrong /verify, then the right one; only then may the user run commands', async () => {
    const USER = 4004;
    expect((await h.say(USER, '/status')).body.text).toContain('no role');
    const ownerMsg = h.nextCall('sendMessage', (c) => Number(c.body.chat_id) === OWNER && String(c.body.text).includes('Signup request'));
    expect((await h.say(USER, '/signup Bob Builder')).body.text).toContain('I asked the owner');
    const pin = pinOf(await ownerMsg.wait());
    expect((await h.say(USER, `/verify ${wrongPin(pin)}`)).body.text).toContain('Wrong PIN; 4 attempts left');
    expect((await h.say(USER, `/verify ${pin}`)).body.text).toContain('viewer');
    expect((await h.say(USER, '/status')).body.text).not.toContain('no role');
    expect((await h.say(USER, '/killswitch on --reason x')).body.text).toContain('You need the admin role');
  });

  it('Deny by the owner ends the signup; a user without the role cannot press it', async () => {
    const USER = 5005;
    const ownerMsg = h.nextCall('sendMessage', (c) => Number(c.body.chat_id) === OWNER && String(c.body.text).includes('Signup request'));
    await h.say(USER, '/signup');
    const msg = await ownerMsg.wait();
    const pin = pinOf(msg);
    const messageId = messageIdOf(h, msg);

    const refused = h.nextCall('answerCallbackQuery');
    await h.click(USER, messageId, buttons(msg).Deny, OWNER);
    expect((await refused.wait()).body.text).toContain('You need the admin role');

    const answered = h.nextCall('answerCallbackQuery');
    const edited = h.nextCall('editMessageText', (c) => Number(c.body.message_id) === messageId);
    const told = h.nextCall('sendMessage', (c) => Number(c.body.chat_id) === USER);
    await h.click(OWNER, messageId, buttons(msg).Deny);
    expect((await answered.wait()).body.text).toBeUndefined();
    const edit = await edited.wait();
    expect(edit.body.text).toMatch(/✓ Denied the signup of User 5005 \(telegram:5005\)\. — by User 1001 at /);
    expect(edit.body.reply_markup).toBeUndefined();
    expect(h.fake.calls.indexOf(await answered.wait())).toBeLessThan(h.fake.calls.indexOf(edit));
    expect((await told.wait()).body.text).toContain('denied');
    expect((await h.say(USER, `/verify ${pin}`)).body.text).toContain('denied');
    expect(await h.app.ops.identities.roleOf('telegram', String(USER))).toBeUndefined();
    expect(await h.app.t.db.collection('auditLog').countDocuments({ action: 'signup_deny', outcome: 'ok' })).toBe(1);
  });

  it('Approve grants the role without the PIN and tells the requester', async () => {
    const { id, msg } = await startHttp('telegram:6006', 'Cleo');
    const told = h.nextCall('sendMessage', (c) => Number(c.body.chat_id) === 6006);
    const edited = h.nextCall('editMessageText');
    await h.click(OWNER, messageIdOf(h, msg), buttons(msg).Approve);
    expect((await edited.wait()).body.text).toContain('✓ Approved Cleo (telegram:6006): viewer role granted.');
    expect((await told.wait()).body.text).toContain('approved');
    expect(await h.app.ops.identities.roleOf('telegram', '6006')).toBe('viewer');
    expect((await verify(id, pinOf(msg))).status).toBe(409);
  });
});
