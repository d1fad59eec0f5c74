/** With several serving processes, a kill-switch change is announced to the notifiers once. */
import { describe, it, expect, beforeAll } from 'vitest';
import { startTestApp, asUser, type TestApp } from '../support/app.ts';
import { eventually } from '../support/engine.ts';
import { startFirstSources } from '../../src/alerting/firstSources.ts';
import type { AlertEvent, Notifier } from '../../src/alerting/types.ts';

const events: Array<{ process: string; event: AlertEvent }> = [];
const recorder = (process: string): Notifier => ({ name: `recorder-${process}`, notify: async (event) => void events.push({ process, event }) });

let a: TestApp;
let b: TestApp;
beforeAll(async () => {
  a = await startTestApp({ work: false });
  b = await startTestApp({ work: false, db: a.t });
  startFirstSources(a.ops, [recorder('a')], a.log, { deadLetters: false });
  startFirstSources(b.ops, [recorder('b')], b.log, { deadLetters: false });
});

describe('first sources across processes', () => {
  it('announces the kill switch once, whichever process sees it first', async () => {
    await a.dispatcher.run('killswitch on --reason "one announcement"', asUser('admin'));
    await b.engine.settings.refresh();
    await eventually(async () => events.length >= 1, 'an announcement');
    // Both processes have seen the change now; give the slower one its chance to (wrongly) announce.
    await b.engine.settings.refresh();
    await a.engine.settings.refresh();
    await new Promise((r) => setImmediate(r));
    const opened = events.filter((e) => e.event.alert.key === 'killswitch' && e.event.kind === 'opened');
    expect(opened).toHaveLength(1);
    expect(opened[0].event.alert.title).toBe('Kill switch ON');
  });
});
