/** The alert lifecycle with a controllable clock: fire → update → ack → resolve after the window → re-fire; snooze; manual resolve; fan-out. */
import { beforeAll, describe, expect, it } from 'vitest';
import type { Alerting } from '../../src/alerting/index.ts';
import type { Actor } from '../../src/db/collections.ts';
import { startTestApp, type TestApp } from '../support/app.ts';
import { breach, manualRule, minutes, recordingNotifier, type RecordingNotifier } from './helpers.ts';

const ana: Actor = { platform: 'slack', id: 'U_ANA', name: 'ana' };
const rule = manualRule('manual');
let app: TestApp;
let alerting: Alerting;
let rec: RecordingNotifier;
const t0 = new Date(Date.now() + 1000);
const at = (m: number) => new Date(t0.getTime() + minutes(m));

beforeAll(async () => {
  app = await startTestApp({ work: false, alerting: { rules: [rule] } });
  alerting = app.alerting;
  rec = recordingNotifier();
  alerting.service.addNotifier(rec);
  alerting.start();
});

/** Evaluates at minute `m` with these breaches; returns the events the notifier got for `key`. */
async function tick(m: number, breaches: ReturnType<typeof breach>[], key?: string) {
  rule.breaches = breaches;
  rec.clear();
  await alerting.evaluateOnce(at(m));
  return rec.events.filter((e) => !key || e.alert.key === key);
}

describe('alert lifecycle', () => {
  const key = 'manual:life.job';

  it('fires, updates on growth, stays quiet after an ack until the count doubles, resolves after a clear window, re-fires', async () => {
    let ev = await tick(0, [breach('life.job', 10)], key);
    expect(ev.map((e) => e.kind)).toEqual(['opened']);
    expect(ev[0].alert).toMatchObject({ key, rule: 'manual', subject: 'life.job', state: 'firing', count: 10 });
    expect(ev[0].alert.actions.map((a) => a.command)).toEqual([
      'dlq retry --all --job life.job',
      'jobs pause life.job --reason "paused from alert"',
      `alerts ack ${key}`,
      `alerts snooze ${key} 1h`,
    ]);

    expect(await tick(1, [breach('life.job', 11)], key)).toEqual([]);
    let doc = await alerting.store.get(key);
    expect(doc).toMatchObject({ state: 'firing', episode: 1, count: 11, seen: 2, lastSeenAt: at(1) });

    ev = await tick(2, [breach('life.job', 13)], key);
    expect(ev.map((e) => e.kind)).toEqual(['updated']);
    expect(ev[0].note).toContain('10 → 13');

    rec.clear();
    const acked = await alerting.ops.ack(key, ana);
    expect(acked).toMatchObject({ state: 'acknowledged', by: 'ana' });
    expect(rec.kinds(key)).toEqual(['acknowledged']);
    expect(rec.events[0].alert.actions.map((a) => a.label)).not.toContain('Acknowledge');
    await expect(alerting.ops.ack(key, ana)).rejects.toThrow(/already acknowledged by ana/);

    expect(await tick(3, [breach('life.job', 25)], key)).toEqual([]); // < 2 × 13: quiet, and the ack is not announced twice
    ev = await tick(4, [breach('life.job', 26)], key);
    expect(ev.map((e) => e.kind)).toEqual(['updated']);
    expect(ev[0].alert.state).toBe('acknowledged');

    // Hysteresis: clear for less than the 10 min window, breached again, clear again.
    expect(await tick(5, [], key)).toEqual([]);
    expect(await tick(7, [breach('life.job', 26)], key)).toEqual([]);
    expect(await tick(8, [], key)).toEqual([]);
    expect(await tick(17, [], key)).toEqual([]);
    doc = await alerting.store.get(key);
    expect(doc).toMatchObject({ state: 'firing', clearSince: at(8) });
    ev = await tick(18, [], key);
    expect(ev.map((e) => e.kind)).toEqual(['resolved']);
    expect(ev[0].alert.state).toBe('resolved');
    expect(ev[0].alert.actions).toEqual([]);
    expect(await tick(19, [], key)).toEqual([]);

    ev = await tick(20, [breach('life.job', 3)], key);
    expect(ev.map((e) => e.kind)).toEqual(['opened']);
    expect(ev[0].alert.state).toBe('firing');
    expect(await alerting.store.get(key)).toMatchObject({ episode: 2, count: 3, firstSeenAt: at(20) });
  });

  it('snoozed: no updates until the snooze ends, then a note that it still fires', async () => {
    const k = 'manual:snooze.job';
    await tick(30, [breach('snooze.job', 5)]);
    rec.clear();
    const v = await alerting.ops.snooze(k, minutes(60), ana);
    expect(v.state).toBe('snoozed');
    expect(v.snoozedUntil!.getTime()).toBeGreaterThan(Date.now() + minutes(59));
    expect(rec.kinds(k)).toEqual(['snoozed']);
    expect(await tick(40, [breach('snooze.job', 50)], k)).toEqual([]);
    const after = new Date(v.snoozedUntil!.getTime() + minutes(1));
    rule.breaches = [breach('snooze.job', 60)];
    rec.clear();
    await alerting.evaluateOnce(after);
    expect(rec.kinds(k)).toEqual(['updated', 'updated']);
    expect(rec.events.map((e) => e.note).join('\n')).toMatch(/Snooze ended; still firing/);
    expect(rec.events.every((e) => e.alert.state === 'firing')).toBe(true);
  });

  it('a manual resolve is announced once, recorded by the evaluator, and quiet for one window', async () => {
    const k = 'manual:hand.job';
    await tick(100, [breach('hand.job', 5)]);
    rec.clear();
    const v = await alerting.ops.resolve(k, 'fixed the token', ana);
    expect(v).toMatchObject({ state: 'resolved', by: 'ana' });
    expect(rec.kinds(k)).toEqual(['resolved']);
    expect(rec.events[0].note).toContain('fixed the token');
    const tickAt = async (ms: number) => {
      rule.breaches = [breach('hand.job', 5)];
      rec.clear();
      await alerting.evaluateOnce(at(100 + ms / 60_000));
      return rec.kinds(k);
    };
    expect(await tickAt(minutes(1))).toEqual([]);
    expect(await alerting.store.get(k)).toMatchObject({ state: 'resolved', resolvedBy: 'ana', resolveReason: 'fixed the token' });
    expect(await tickAt(minutes(5))).toEqual([]);
    expect(await tickAt(minutes(12))).toEqual(['opened']);
    await expect(alerting.ops.resolve('manual:nope', 'x', ana)).rejects.toThrow(/No alert/);
  });

  it('fans out to every notifier even when one fails, with the route attached', async () => {
    const failing = { name: 'broken', notify: async () => Promise.reject(new Error('channel down')) };
    const late = recordingNotifier('late');
    alerting.service.addNotifier(failing);
    alerting.service.addNotifier(late);
    try {
      await tick(130, [breach('fan.job', 4)]);
      expect(rec.kinds('manual:fan.job')).toEqual(['opened']);
      expect(late.kinds('manual:fan.job')).toEqual(['opened']);
      expect(late.events[0].route).toEqual({ telegram: true });
    } finally {
      alerting.service.removeNotifier('broken');
      alerting.service.removeNotifier('late');
    }
  });

  it('leaves alerts alone when their rule fails', async () => {
    await tick(140, [breach('err.job', 4)]);
    const original = rule.evaluate;
    (rule as { evaluate: typeof original }).evaluate = async () => {
      throw new Error('database hiccup');
    };
    try {
      rec.clear();
      const report = await alerting.evaluateOnce(at(141));
      expect(report.rules[0].error).toBeTruthy();
      expect(rec.events).toEqual([]);
      expect(await alerting.store.get('manual:err.job')).toMatchObject({ state: 'firing', clearSince: null });
    } finally {
      (rule as { evaluate: typeof original }).evaluate = original;
    }
  });
});
