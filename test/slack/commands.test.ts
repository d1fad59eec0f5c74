/** `/ops` over signed HTTP: every command family, signature checks, re-deliveries, roles. */
import { beforeAll, describe, expect, it } from 'vitest';
import { slackInvoker } from '../../src/chat/adapters/slack/invoker.ts';
import { signSlackRequest, slashCommandBody } from '../support/fakeSlack.ts';
import { ADMIN, CHANNEL, SECRET, blocksText, insertDeadLetters, startSlackHarness, type SlackHarness } from './harness.ts';

let h: SlackHarness;

beforeAll(async () => {
  h = await startSlackHarness();
});

const auditCount = (filter: Record<string, unknown> = {}) => h.app.t.db.collection('auditLog').countDocuments(filter);

describe('/ops commands', () => {
  it('shows the help for `/ops` alone and for `/ops help`, ephemeral', async () => {
    for (const text of ['', 'help']) {
      const r = await h.slash(text, 'U_VIEWER');
      expect(r.body.response_type).toBe('ephemeral');
      expect(r.body.text).toContain('Switchboard commands');
      expect(blocksText(r.body.blocks)).toContain('dlq list');
    }
  });

  it('answers status, jobs list, dlq list, killswitch status and audit through the response_url', async () => {
    await insertDeadLetters(h.app, 3);
    const status = await h.slash('status', 'U_VIEWER');
    expect(status.body.text).toMatch(/Switchboard status: Kill switch off; \d+ queued, \d+ running; DLQ 3 pending\./);
    expect(blocksText(status.body.blocks)).toContain('Kill switch');

    const jobs = await h.slash('jobs list --limit 5', 'U_VIEWER');
    expect(jobs.body.text).toMatch(/\d+ jobs?; showing \d+\./);

    const dlq = await h.slash('dlq list --status pending', 'U_VIEWER');
    expect(dlq.body.text).toContain('3 dead letters; page 1 of 1.');
    expect(blocksText(dlq.body.blocks)).toContain('test.broken');
    expect(blocksText(dlq.body.blocks)).toContain('&lt;&amp;&gt;');

    const ks = await h.slash('killswitch status', 'U_VIEWER');
    expect(ks.body.text).toContain('Kill switch is off');

    const audit = await h.slash('audit --limit 50', ADMIN);
    expect(audit.body.text).toMatch(/\d+ entries, newest first\./);
    expect(blocksText(audit.body.blocks)).toContain('killswitch_status');
  });

  it('posts an in-channel answer when the Reply is not ephemeral, and refuses what the role does not allow', async () => {
    const denied = await h.slash('killswitch on --reason "from a viewer"', 'U_VIEWER');
    expect(denied.body.response_type).toBe('ephemeral');
    expect(denied.body.text).toContain('You need the admin role');
    expect(h.app.ops.killSwitch().active).toBe(false);

    const on = await h.slash('killswitch on --reason "slack test"', ADMIN);
    expect(on.body.response_type).toBe('in_channel');
    expect(on.body.text).toContain('Kill switch ON');
    const off = await h.slash('killswitch off --reason "slack test done"', ADMIN);
    expect(off.body.text).toContain('Kill switch off');
  });

  it('answers a usage error with the usage text', async () => {
    const r = await h.slash('dlq list --limit nope', 'U_VIEWER');
    expect(r.body.text).toContain('--limit');
    expect(r.body.text).toContain('Usage: dlq list');
  });

  it('grants, lists and revokes roles by Slack mention (admin only)', async () => {
    const refused = await h.slash('roles grant <@U_ANA|ana> operator', 'U_VIEWER');
    expect(refused.body.text).toContain('You need the admin role');

    const granted = await h.slash('roles grant <@U_ANA|ana> operator', ADMIN);
    expect(granted.body.text).toContain('slack:U_ANA (ana) now has the operator role');
    const asAna = await h.slash('jobs pause test.broken --reason "ana pauses"', 'U_ANA');
    expect(asAna.body.text).toContain('test.broken paused.');
    await h.slash('jobs resume test.broken --reason "done"', 'U_ANA');

    const list = await h.slash('roles list', ADMIN);
    expect(blocksText(list.body.blocks)).toMatch(/slack:U_ANA\s+ana\s+operator/);
    const revoked = await h.slash('roles revoke slack:U_ANA', ADMIN);
    expect(revoked.body.text).toContain('no longer has the operator role');
    const again = await h.slash('jobs pause test.broken --reason "no longer"', 'U_ANA');
    expect(again.body.text).toContain('You need the operator role');
  });

  it('gives unknown users SLACK_DEFAULT_ROLE and bootstrap admins admin', async () => {
    const ids = h.app.ops.identities;
    expect((await slackInvoker({ SLACK_ADMIN_USER_IDS: ['U_BOSS'], SLACK_DEFAULT_ROLE: 'none' }, ids, { id: 'U_STRANGER' })).role).toBe('none');
    expect((await slackInvoker({ SLACK_ADMIN_USER_IDS: ['U_BOSS'], SLACK_DEFAULT_ROLE: 'none' }, ids, { id: 'U_BOSS' })).role).toBe('admin');
    expect((await slackInvoker(h.app.config, ids, { id: 'U_STRANGER' })).role).toBe('viewer');
  });
});

describe('request verification', () => {
  const body = (text: string, responseId: string) => slashCommandBody({ command: '/ops', text, userId: ADMIN, channelId: CHANNEL, responseUrl: h.fake.responseUrl(responseId) });

  it('answers 401 to a bad signature and runs nothing', async () => {
    const before = await auditCount();
    const raw = body('killswitch on --reason "forged"', 'forged');
    const res = await h.post(raw, signSlackRequest(raw, 'not-the-secret'));
    expect(res.status).toBe(401);
    const tampered = await h.post(raw.replace('forged', 'forget'), signSlackRequest(raw, SECRET));
    expect(tampered.status).toBe(401);
    const unsigned = await h.post(raw, {});
    expect(unsigned.status).toBe(401);
    expect(await auditCount()).toBe(before);
    expect(h.app.ops.killSwitch().active).toBe(false);
    await h.slack.idle();
    expect(h.fake.responses.filter((r) => r.id === 'forged')).toHaveLength(0);
  });

  it('answers 401 to a timestamp older than 5 minutes and runs nothing', async () => {
    const before = await auditCount();
    const raw = body('killswitch on --reason "replayed"', 'stale');
    const res = await h.post(raw, signSlackRequest(raw, SECRET, Math.floor(Date.now() / 1000) - 6 * 60));
    expect(res.status).toBe(401);
    await h.slack.idle();
    expect(await auditCount()).toBe(before);
    expect(h.fake.responses.filter((r) => r.id === 'stale')).toHaveLength(0);
  });

  it('runs a re-delivered slash command once (X-Slack-Retry-Num)', async () => {
    const raw = body('killswitch status', 'redelivered');
    const first = await h.post(raw);
    const retry = await h.post(raw, { ...signSlackRequest(raw, SECRET), 'x-slack-retry-num': '1', 'x-slack-retry-reason': 'http_timeout' });
    expect([first.status, retry.status]).toEqual([200, 200]);
    await h.fake.waitForResponse((r) => r.id === 'redelivered');
    await h.slack.idle();
    expect(h.fake.responses.filter((r) => r.id === 'redelivered')).toHaveLength(1);
    expect(await auditCount({ action: 'killswitch_status', 'actor.id': ADMIN })).toBe(1);
  });

  it('answers the url_verification challenge', async () => {
    const raw = JSON.stringify({ type: 'url_verification', challenge: 'abc123', token: 't' });
    const res = await fetch(h.url, { method: 'POST', headers: { 'content-type': 'application/json', ...signSlackRequest(raw, SECRET) }, body: raw });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ challenge: 'abc123' });
  });
});
