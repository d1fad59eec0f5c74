/**
 * Commands that go through the operations service's own doors: `status` and `jobs list` agree on
 * job states (one definition), `roles` changes who may do what, `config` and `breakers` answer
 * from ops.config and ops.breakers.
 */
import { describe, it, expect, beforeAll } from 'vitest';
import { ObjectId } from 'mongodb';
import { startTestApp, asUser, type TestApp } from '../support/app.ts';
import type { StatusData } from '../../src/ops/status.ts';

let app: TestApp;
const admin = asUser('admin');

beforeAll(async () => {
  app = await startTestApp({ work: false });
});

describe('job states', () => {
  it('a running recurring job whose next run is already set counts as running, not scheduled, in status and jobs list', async () => {
    const name = 'states.probe';
    const now = Date.now();
    await app.t.db.collection('agendaJobs').insertMany([
      // Running: locked, and its next run already computed (Agenda does so when a recurring job starts).
      { _id: new ObjectId(), name, data: {}, nextRunAt: new Date(now + 3600_000), lockedAt: new Date(now), failCount: 0, repeatInterval: '1 hour' },
      { _id: new ObjectId(), name, data: {}, nextRunAt: new Date(now + 3600_000), lockedAt: null, failCount: 0 },
    ]);
    const status = (await app.dispatcher.run('status', asUser('viewer'))).reply.data as StatusData;
    expect(status.jobs.find((j) => j.job === name)).toMatchObject({ running: 1, scheduled: 1, queued: 0 });
    const list = async (state: string) => (await app.dispatcher.run(`jobs list --job ${name} --state ${state}`, asUser('viewer'))).reply.data as { total: number };
    expect((await list('scheduled')).total).toBe(1);
    expect((await list('running')).total).toBe(1);
  });
});

describe('roles', () => {
  it('grant, list and revoke change the stored role', async () => {
    const granted = await app.dispatcher.run('roles grant telegram:4242 operator', admin);
    expect(granted.status, granted.reply.text).toBe('ok');
    expect(await app.ops.identities.roleOf('telegram', '4242')).toBe('operator');
    const listed = (await app.dispatcher.run('roles list', admin)).reply.data as { items: Array<{ userId: string; role: string; grantedBy: string | null }> };
    expect(listed.items.find((i) => i.userId === '4242')).toMatchObject({ role: 'operator', grantedBy: admin.actor.name });
    const revoked = await app.dispatcher.run('roles revoke telegram:4242', admin);
    expect(revoked.reply.data).toMatchObject({ before: 'operator' });
    expect(await app.ops.identities.roleOf('telegram', '4242')).toBeUndefined();
  });
});

describe('config and breakers', () => {
  it('config set is what config get then shows; an unknown key is one sentence', async () => {
    const set = await app.dispatcher.run('config set http.invoke.rpm 42', admin);
    expect(set.status, set.reply.text).toBe('ok');
    expect(set.reply.data).toMatchObject({ key: 'http.invoke.rpm', value: 42 });
    await app.engine.settings.refresh();
    const got = (await app.dispatcher.run('config get http.invoke.rpm', asUser('viewer'))).reply.data as { items: Array<{ key: string; value: unknown }> };
    expect(got.items.find((i) => i.key === 'http.invoke.rpm')?.value).toBe(42);
    const bad = await app.dispatcher.run('config set no.such.key 1', admin);
    expect(bad.status).toBe('usage');
    expect(bad.reply.text).not.toMatch(/\n\s+at /);
  });

  it('breakers reset of a provider no job names is refused with a pointer to the list', async () => {
    const r = await app.dispatcher.run('breakers reset nobody-calls-this', asUser('operator'));
    expect(r.status).toBe('error');
    expect(r.reply.text).toContain('`breakers` lists them');
  });
});
