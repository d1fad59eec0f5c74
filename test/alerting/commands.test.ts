/** `alerts` commands through the dispatcher: roles, audit, replies, buttons; acks made without notifiers are announced by the evaluator. */
import { beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../../src/app/index.ts';
import type { Alerting } from '../../src/alerting/index.ts';
import { asUser, startTestApp, type TestApp } from '../support/app.ts';
import { breach, manualRule, quietLog, recordingNotifier, type RecordingNotifier } from './helpers.ts';

const rule = manualRule('manual');
let app: TestApp;
let alerting: Alerting;
let rec: RecordingNotifier;
const key = 'manual:cmd.job';

beforeAll(async () => {
  app = await startTestApp({ work: false, alerting: { rules: [rule] } });
  alerting = app.alerting;
  rec = recordingNotifier();
  alerting.service.addNotifier(rec);
  alerting.start();
  rule.breaches = [breach('cmd.job', 7), breach('other.job', 3)];
  await alerting.evaluateOnce(new Date());
});

const audit = (action: string) => app.t.db.collection('auditLog').find({ action }).sort({ at: -1 }).limit(1).next();

describe('alerts commands', () => {
  it('lists alerts for a viewer, filtered by state', async () => {
    const r = await app.dispatcher.run('alerts list', asUser('viewer'));
    expect(r.status).toBe('ok');
    expect(r.reply.text).toBe('2 active alerts.');
    expect(r.reply.table?.rows.map((row) => row[0]).sort()).toEqual([key, 'manual:other.job']);
    const none = await app.dispatcher.run('alerts list --state resolved', asUser('viewer'));
    expect(none.reply.text).toBe('No resolved alerts.');
    const bad = await app.dispatcher.run('alerts list --state loud', asUser('viewer'));
    expect(bad.status).toBe('usage');
  });

  it('shows one alert with its buttons (tokens attached) and audits the target', async () => {
    const r = await app.dispatcher.run(`alerts show ${key}`, asUser('viewer', 'U_SHOW'));
    expect(r.status).toBe('ok');
    expect(r.reply.title).toBe('Trouble: cmd.job');
    expect(r.reply.fields).toContainEqual({ label: 'State', value: 'firing' });
    expect(r.reply.actions?.map((a) => a.command)).toContain(`alerts ack ${key}`);
    expect(r.reply.actions?.every((a) => a.token)).toBe(true);
    expect(await audit('alerts_show')).toMatchObject({ target: key, outcome: 'ok', actor: { id: 'U_SHOW' } });
    const missing = await app.dispatcher.run('alerts show manual:nope', asUser('viewer'));
    expect(missing).toMatchObject({ status: 'error', reply: { text: 'No alert "manual:nope". Try `alerts list`.' } });
  });

  it('refuses ack to a viewer, lets an operator ack once, and announces it', async () => {
    const denied = await app.dispatcher.run(`alerts ack ${key}`, asUser('viewer', 'U_V'));
    expect(denied.status).toBe('denied');
    expect(await audit('alerts_ack')).toMatchObject({ outcome: 'denied', actor: { id: 'U_V' } });
    rec.clear();
    const ok = await app.dispatcher.run(`alerts ack ${key}`, asUser('operator', 'U_OP'));
    expect(ok).toMatchObject({ status: 'ok', reply: { text: `Acknowledged ${key}.`, data: { state: 'acknowledged', by: 'operator-user' } } });
    expect(await audit('alerts_ack')).toMatchObject({ outcome: 'ok', target: key, actor: { id: 'U_OP' } });
    expect(rec.kinds(key)).toEqual(['acknowledged']);
    const again = await app.dispatcher.run(`alerts ack ${key}`, asUser('operator'));
    expect(again.status).toBe('error');
    expect(again.reply.text).toContain('already acknowledged by operator-user');
    const listed = await app.dispatcher.run('alerts list --state acknowledged', asUser('viewer'));
    expect(listed.reply.table?.rows.map((row) => row[0])).toEqual([key]);
  });

  it('snoozes with a duration, validating it', async () => {
    const bad = await app.dispatcher.run(`alerts snooze ${key} forever`, asUser('operator'));
    expect(bad.status).toBe('usage');
    expect(bad.reply.text).toContain('expected a duration');
    rec.clear();
    const ok = await app.dispatcher.run(`alerts snooze ${key} 2h`, asUser('operator'));
    expect(ok.status).toBe('ok');
    expect(ok.reply.text).toMatch(new RegExp(`^Snoozed ${key} for 2h, until `));
    expect(rec.kinds(key)).toEqual(['snoozed']);
    expect(await audit('alerts_snooze')).toMatchObject({ target: key, detail: { ms: 7_200_000 } });
  });

  it('explains the rule, the parameters in effect and the lifecycle', async () => {
    await app.engine.settings.set('config:alerts.manual.window', '30m');
    const r = await app.dispatcher.run(`alerts explain ${key}`, asUser('viewer'));
    expect(r.status).toBe('ok');
    expect(r.reply.text).toContain('Rule manual: Breaches set by the test');
    expect(r.reply.text).toContain('resolves once clear for 30m');
    expect(r.reply.text).toMatch(/Latest events:[\s\S]*snoozed[\s\S]*acknowledged[\s\S]*opened/);
    expect(r.reply.table?.rows).toContainEqual(['window', '30m', '10m', 'alerts.manual.window']);
  });

  it('resolves by hand with a required reason, audited', async () => {
    const noReason = await app.dispatcher.run(`alerts resolve ${key}`, asUser('operator'));
    expect(noReason.status).toBe('usage');
    expect(noReason.reply.text).toContain('a reason is required');
    rec.clear();
    const ok = await app.dispatcher.run(`alerts resolve ${key} --reason "token rotated"`, asUser('operator', 'U_RES'));
    expect(ok).toMatchObject({ status: 'ok', reply: { data: { state: 'resolved', by: 'operator-user' } } });
    expect(rec.kinds(key)).toEqual(['resolved']);
    expect(rec.events[0].note).toContain('token rotated');
    expect(await audit('alerts_resolve')).toMatchObject({ target: key, reason: 'token rotated', actor: { id: 'U_RES' } });
    const twice = await app.dispatcher.run(`alerts resolve ${key} --reason again`, asUser('operator'));
    expect(twice.reply.text).toContain('is resolved; there is nothing to resolve');
    const resolved = await app.dispatcher.run('alerts list --state resolved', asUser('viewer'));
    expect(resolved.reply.table?.rows.map((row) => row[0])).toEqual([key]);
  });

  it('an ack from a process without notifiers (the CLI) is announced by the next evaluation', async () => {
    const cli = createApp({ config: app.config, db: app.t.client.db(app.t.dbName), log: quietLog });
    await cli.engine.start({ work: false });
    try {
      rec.clear();
      const r = await cli.dispatcher.run('alerts ack manual:other.job', asUser('admin', 'cli-user', 'cli'));
      expect(r.status).toBe('ok');
      expect(rec.events).toEqual([]);
      await alerting.evaluateOnce(new Date());
      expect(rec.kinds('manual:other.job')).toEqual(['acknowledged']);
      await alerting.evaluateOnce(new Date());
      expect(rec.kinds('manual:other.job')).toEqual(['acknowledged']);
    } finally {
      await cli.engine.stop(0);
    }
  });
});
