/**
 * Alert notes are masked where events are published and where announced notes are kept: the
 * "Count a → b: summary" update and "Snooze ended; still firing: summary" notes quote a rule's
 * summary, and `alerts explain` lists the notes of an alert.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import type { Alerting } from '../../src/alerting/index.ts';
import { AlertService } from '../../src/alerting/service.ts';
import type { AlertEvent } from '../../src/alerting/types.ts';
import type { Actor } from '../../src/db/collections.ts';
import { silentLogger } from '../../src/log.ts';
import { breach, manualRule, minutes, recordingNotifier, type RecordingNotifier } from '../alerting/helpers.ts';
import { asUser, startTestApp, type TestApp } from '../support/app.ts';
import { expectNoSecrets, jwt, rendered, SECRET } from './partner.ts';

const ana: Actor = { platform: 'slack', id: 'U_ANA', name: 'ana' };
/** A summary as careless rules write it: quoting the latest error. */
const leakySummary = (n: number) => `${n} failures; latest: partner refused (Authorization: Bearer ${SECRET.bearer}; cookie: sid=${SECRET.cookie}) ${jwt}`;

const rule = manualRule('leaky-notes');
let app: TestApp;
let alerting: Alerting;
let rec: RecordingNotifier;
/** `m` minutes from now: the evaluator's clock. */
const inMinutes = (m: number) => new Date(Date.now() + minutes(m));

beforeAll(async () => {
  app = await startTestApp({ work: false, alerting: { rules: [rule] } });
  alerting = app.alerting;
  rec = recordingNotifier();
  alerting.service.addNotifier(rec);
  alerting.start();
});

async function tick(when: Date, job: string, count: number) {
  rule.breaches = [{ ...breach(job, count), summary: leakySummary(count) }];
  rec.clear();
  await alerting.evaluateOnce(when);
  return rec.events.filter((e) => e.alert.key === `leaky-notes:${job}`);
}

describe('alert notes mask secrets', () => {
  it('the update note ("Count a → b: summary") in the thread and in the latest events of alerts explain', async () => {
    expect((await tick(inMinutes(0), 'notes.job', 4)).map((e) => e.kind)).toEqual(['opened']);
    const [updated] = await tick(inMinutes(1), 'notes.job', 10);
    expect(updated.kind).toBe('updated');
    expect(updated.note).toMatch(/^Count 4 → 10: 10 failures; latest: partner refused \(Authorization: \[redacted\]/);
    expectNoSecrets(JSON.stringify(updated));

    const shown = await app.dispatcher.run('alerts explain leaky-notes:notes.job', asUser('viewer'));
    expect(shown.status).toBe('ok');
    expect(rendered(shown.reply)).toContain('Count 4 → 10');
    expectNoSecrets(rendered(shown.reply));
    const kept = await app.t.db.collection('alertNotices').find({ key: 'leaky-notes:notes.job' }).toArray();
    expectNoSecrets(JSON.stringify(kept));
  });

  it("an operator's resolve reason in the lifecycle of alerts explain", async () => {
    const key = 'leaky-notes:resolve.job';
    await tick(inMinutes(3), 'resolve.job', 5);
    await alerting.ops.resolve(key, `rotated the key Bearer ${SECRET.bearer}`, ana);
    await tick(inMinutes(4), 'resolve.job', 0);
    const shown = await app.dispatcher.run(`alerts explain ${key}`, asUser('viewer'));
    expect(shown.status).toBe('ok');
    expect(rendered(shown.reply)).toContain('rotated the key');
    expectNoSecrets(rendered(shown.reply));
  });

  it('the note that a snooze ended and the alert still fires', async () => {
    const key = 'leaky-notes:snooze.job';
    await tick(inMinutes(2), 'snooze.job', 5);
    const v = await alerting.ops.snooze(key, minutes(60), ana);
    const after = new Date(v.snoozedUntil!.getTime() + minutes(1));
    const events = await tick(after, 'snooze.job', 5);
    const ended = events.find((e) => e.note?.startsWith('Snooze ended'));
    expect(ended?.note).toContain('still firing: 5 failures; latest: partner refused (Authorization: [redacted]');
    expectNoSecrets(JSON.stringify(events));
  });

  it('AlertService.publish masks any event it fans out, for notifiers and live listeners alike', async () => {
    const service = new AlertService({ log: silentLogger() });
    const got = recordingNotifier();
    service.addNotifier(got);
    const heard: AlertEvent[] = [];
    service.on('event', (e: AlertEvent) => heard.push(e));
    const now = new Date();
    const event: AlertEvent = {
      kind: 'note',
      note: `Retried with x-api-key: ${SECRET.apiKey}`,
      alert: {
        key: 'dlq:test.partner',
        rule: 'dlq',
        subject: 'test.partner',
        state: 'firing',
        title: 'Dead letters: test.partner',
        summary: leakySummary(1),
        facts: [{ label: 'Latest payload', value: JSON.stringify({ headers: { authorization: `Bearer ${SECRET.bearer}` } }) }],
        count: 1,
        firstSeenAt: now,
        lastSeenAt: now,
        actions: [{ label: 'Show DLQ', command: 'dlq list --job test.partner' }],
      },
    };
    const result = await service.publish(event, { job: 'test.partner' });
    expect(result.delivered).toEqual(['recorder']);
    expectNoSecrets(JSON.stringify(got.events));
    expectNoSecrets(JSON.stringify(heard));
    expect(got.events[0].note).toBe('Retried with x-api-key: [redacted]');
    expect(got.events[0].alert.actions[0].command).toBe('dlq list --job test.partner');
    expect(got.events[0].alert.lastSeenAt).toEqual(now);
    // The caller's event is left as it was.
    expect(event.note).toContain(SECRET.apiKey);
  });
});
