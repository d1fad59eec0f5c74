/**
 * The kill switch and pauses are alerts of the one pipeline: with several serving processes, a
 * change is announced to the notifiers at once (no evaluation tick), once, with who and why;
 * turning it off resolves the same alert; the alerts of the job concerned hear of it.
 */
import { describe, it, expect, beforeAll } from 'vitest';
import { startTestApp, asUser, type TestApp } from '../support/app.ts';
import { eventually } from '../support/engine.ts';
import type { AlertEvent, Notifier } from '../../src/alerting/types.ts';
import { breach, manualRule } from './helpers.ts';

const events: Array<{ process: string; event: AlertEvent }> = [];
const recorder = (process: string): Notifier => ({ name: `recorder-${process}`, notify: async (event) => void events.push({ process, event }) });
const of = (key: string, kind: AlertEvent['kind']) => events.filter((e) => e.event.alert.key === key && e.event.kind === kind);
const rule = manualRule('manual');

let a: TestApp;
let b: TestApp;
beforeAll(async () => {
  a = await startTestApp({ work: false, alerting: { rules: [rule] } });
  b = await startTestApp({ work: false, db: a.t, alerting: { rules: [rule] } });
  for (const [name, app] of [['a', a], ['b', b]] as const) {
    app.alerting.service.addNotifier(recorder(name));
    app.alerting.start();
  }
});

/** Both processes have seen every change; the slower one had its chance to (wrongly) announce. */
async function bothSeen(): Promise<void> {
  await b.engine.settings.refresh();
  await a.engine.settings.refresh();
  await new Promise((r) => setImmediate(r));
  // An evaluation runs after the setting work queued before it in each process.
  await Promise.all([a.alerting.evaluateOnce(new Date()), b.alerting.evaluateOnce(new Date())]);
}

describe('switch alerts across processes', () => {
  it('announces the kill switch once, whichever process sees it first, with who and why', async () => {
    await a.dispatcher.run('killswitch on --reason "one announcement"', asUser('admin'));
    await b.engine.settings.refresh();
    await eventually(async () => events.length >= 1, 'an announcement');
    await bothSeen();
    const opened = of('killswitch', 'opened');
    expect(opened).toHaveLength(1);
    expect(opened[0].event.alert.title).toBe('Kill switch ON');
    expect(opened[0].event.alert.facts).toEqual([
      { label: 'By', value: 'admin-user' },
      { label: 'Reason', value: 'one announcement' },
    ]);
    expect(opened[0].event.alert.actions.map((x) => x.label)).toContain('Turn off');
    expect((await a.ops.alerts.show('killswitch')).view.state).toBe('firing');
  });

  it('resolves it once when the switch is turned off, saying by whom', async () => {
    await b.dispatcher.run('killswitch off --reason "all clear"', asUser('admin'));
    await eventually(async () => of('killswitch', 'resolved').length >= 1, 'the resolve');
    await bothSeen();
    const resolved = of('killswitch', 'resolved');
    expect(resolved).toHaveLength(1);
    expect(resolved[0].event.note).toBe('Kill switch off by admin-user: all clear');
    expect(resolved[0].event.alert).toMatchObject({ state: 'resolved', by: 'admin-user: all clear' });
  });

  it('opens a pause alert with its Resume button and notes the pause in the job\'s firing alerts', async () => {
    rule.breaches = [breach('http.invoke', 5)];
    await a.alerting.evaluateOnce(new Date());
    await a.dispatcher.run('jobs pause http.invoke --reason "deploy"', asUser('admin'));
    await eventually(async () => of('pause:http.invoke', 'opened').length >= 1, 'the pause alert');
    await bothSeen();
    const opened = of('pause:http.invoke', 'opened');
    expect(opened).toHaveLength(1);
    expect(opened[0].event.alert.title).toBe('Job type paused: http.invoke');
    expect(opened[0].event.alert.actions[0]).toMatchObject({ label: 'Resume', command: 'jobs resume http.invoke --reason "resumed from alert"' });
    const notes = of('manual:http.invoke', 'note');
    expect(notes.map((e) => e.event.note)).toEqual(['http.invoke paused by admin-user: deploy']);
  });
});
