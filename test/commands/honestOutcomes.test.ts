/**
 * Honest answers through the dispatcher: a command that acted on none of the targets it was given
 * fails (status error, audit `error`); `--all` with nothing to do is fine; unknown job names,
 * unknown subcommands and unreadable times are usage errors; echoed input is capped and escaped;
 * unknown command words are audited as `unknown`; duration keys read and show as 10m.
 */
import { describe, it, expect, beforeAll } from 'vitest';
import { startTestApp, asUser, type TestApp } from '../support/app.ts';

let app: TestApp;
beforeAll(async () => {
  app = await startTestApp({ work: false });
});

const admin = asUser('admin', 'U_HONEST');
const run = (text: string, who = admin) => app.dispatcher.run(text, who);
const lastAudit = (action: string) => app.t.db.collection('auditLog').find({ action, 'actor.id': admin.actor.id }).sort({ _id: -1 }).limit(1).next();

describe('acting on named targets', () => {
  it('none acted on is an error with the reason per target, audited as error', async () => {
    const r = await run('dlq retry 000000000000000000000000 nope');
    expect(r.status).toBe('error');
    expect(r.reply.text).toBe('Retried 0 dead letters; skipped 2 (000000000000000000000000: not found, nope: not a dead-letter id (24 hex characters)).');
    expect(r.reply.data).toMatchObject({ retried: [], skipped: [{ id: '000000000000000000000000', reason: 'not found' }, { id: 'nope' }] });
    expect((await lastAudit('dlq_retry'))?.outcome).toBe('error');
    const del = await run('dlq delete 000000000000000000000000');
    expect(del.status).toBe('error');
    expect(del.reply.text).toContain('Deleted 0 dead letters; skipped 1');
  });

  it('--all with nothing to do is fine and says so', async () => {
    const r = await run('dlq retry --all --job http.invoke');
    expect(r.status).toBe('ok');
    expect(r.reply.text).toBe('Nothing to retry of http.invoke.');
    expect((await lastAudit('dlq_retry'))?.outcome).toBe('ok');
    const failed = await run('jobs retry-failed');
    expect(failed.status).toBe('ok');
    expect(failed.reply.text).toBe('Nothing to retry.');
  });

  it('an unknown job name is a usage error with suggestions', async () => {
    const dlq = await run('dlq retry --all --job http.invok');
    expect(dlq.status).toBe('usage');
    expect(dlq.reply.text).toContain('Unknown job `http.invok`. Did you mean: `http.invoke`?');
    const failed = await run('jobs retry-failed --job no.such.job');
    expect(failed.status).toBe('usage');
    expect(failed.reply.text).toContain('Unknown job `no.such.job`.');
  });

  it('roles revoke of a user without a role fails; with one it works', async () => {
    const nobody = await run('roles revoke slack:UNOBODY');
    expect(nobody.status).toBe('error');
    expect(nobody.reply.text).toBe('Revoked 0 roles; skipped 1 (slack:UNOBODY: has no role to revoke).');
    expect((await lastAudit('roles_revoke'))?.outcome).toBe('error');
    await run('roles grant slack:USOMEONE viewer');
    const ok = await run('roles revoke slack:USOMEONE');
    expect(ok.status).toBe('ok');
    expect(ok.reply.text).toContain('no longer has the viewer role');
  });

  it('jobs cancel, alerts ack/resolve, signup approve and backfill cancel of nothing fail', async () => {
    for (const text of ['jobs cancel 000000000000000000000000', 'alerts ack nope:nothing', 'alerts resolve nope:nothing --reason x', 'signup approve nope', 'backfill cancel nope']) {
      expect((await run(text)).status, text).toBe('error');
    }
  });
});

describe('checked arguments', () => {
  it('a time that does not parse is a usage error with the accepted forms', async () => {
    for (const at of ['tomorrowish', '2999-13-45T99:99']) {
      const r = await run(`jobs run maintenance.cleanup --at ${at}`);
      expect(r.status, at).toBe('usage');
      expect(r.reply.text).toContain('--at: expected an ISO date like 2025-06-01T09:30Z');
    }
    const later = await run('jobs run maintenance.cleanup --at "in 2 hours"');
    expect(later.status).toBe('ok');
    expect(later.reply.data).toMatchObject({ status: 'scheduled' });
  });

  it('an unknown subcommand names the family’s subcommands', async () => {
    const r = await run('jobs explode');
    expect(r.status).toBe('usage');
    expect(r.reply.text).toContain('Unknown command `jobs explode`.');
    expect(r.reply.text).toContain('`jobs` has: cancel, list, pause, resume, retry-failed, run, show.');
    const typo = await run('dlq retyr');
    expect(typo.reply.text).toContain('Did you mean: `dlq retry`?');
    const family = await run('breakers explode');
    expect(family.status).toBe('usage');
    expect(family.reply.text).toContain('`breakers` has: list, reset.');
  });

  it('echoes at most ~80 characters of a huge id, control characters escaped', async () => {
    const r = await run(`jobs show ${'\u001b\u0007'}${'a'.repeat(100_000)}`);
    expect(r.status).toBe('error');
    expect(r.reply.text.length).toBeLessThan(200);
    expect(r.reply.text).toContain('\\x1b\\x07aaa');
    expect(r.reply.text).not.toMatch(/[\u0000-\u001f]/);
  });

  it('an unknown command word is audited as `unknown`, its text capped', async () => {
    const word = 'x'.repeat(10_000);
    const r = await run(word);
    expect(r.status).toBe('usage');
    expect(r.reply.text.length).toBeLessThan(300);
    const entry = await lastAudit('unknown');
    expect(entry?.command.length).toBeLessThanOrEqual(1000);
    expect(await app.t.db.collection('auditLog').countDocuments({ action: word })).toBe(0);
  });

  it('help of an unknown command is a usage error with suggestions and an error in data', async () => {
    const r = await run('help dlqq');
    expect(r.status).toBe('usage');
    expect(r.reply.text).toContain('Did you mean: `dlq`');
    expect(r.reply.data).toEqual({ error: r.reply.text });
  });
});

describe('human durations', () => {
  it('duration keys show 10m, keep milliseconds in data, and take 90s/10m/1h/2d or milliseconds', async () => {
    const r = await run('config get alerts.backlog.max_age');
    expect(r.reply.table?.rows[0]).toEqual(['alerts.backlog.max_age', '10m', '10m', expect.any(String)]);
    expect(r.reply.data).toMatchObject({ items: [{ key: 'alerts.backlog.max_age', value: 600_000, duration: true }] });
    for (const [text, ms] of [['90s', 90_000], ['1h', 3_600_000], ['2d', 172_800_000], ['600000', 600_000]] as const) {
      const set = await run(`config set alerts.backlog.max_age ${text}`);
      expect(set.status, text).toBe('ok');
      expect(set.reply.data).toMatchObject({ value: ms });
    }
    const cooldown = await run('config set http.invoke.backoff_ms 90s');
    expect(cooldown.reply.text).toBe('http.invoke.backoff_ms: 5s → 1m 30s.');
    const bad = await run('config set http.invoke.backoff_ms soon');
    expect(bad.status).toBe('usage');
    expect(bad.reply.text).toContain('expected a duration like 90s, 10m, 1h or 2d, or a number of milliseconds');
  });
});
