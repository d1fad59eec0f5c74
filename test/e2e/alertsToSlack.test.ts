/**
 * End to end: dead letters pile up → `alerts.evaluate` fires dlq-growth → a Slack root in the
 * alert channel with actions, triage in its thread → the DLQ is cleared → the alert resolves by
 * itself after its window and the root says so.
 */
import { describe, it, expect, beforeAll } from 'vitest';
import { z } from 'zod';
import { startSlackHarness, type SlackHarness } from '../slack/harness.ts';
import { defineJob } from '../../src/engine/defineJob.ts';
import type { Alerting } from '../../src/alerting/index.ts';
import { eventually } from '../support/engine.ts';
import { localAdmin } from '../../src/chat/localAdmin.ts';

const unauthorized = defineJob({
  name: 'test.publish',
  payload: z.object({ n: z.number() }),
  retry: { maxAttempts: 1 },
  async handler() {
    throw Object.assign(new Error('HTTP 401: invalid api key'), { status: 401 });
  },
});

let h: SlackHarness;
let alerting: Alerting;

beforeAll(async () => {
  h = await startSlackHarness({ work: true, extraJobs: [unauthorized] });
  alerting = h.app.alerting;
  alerting.service.addNotifier(h.slack.notifier);
  alerting.start();
});

describe('alerts reach Slack as threads and resolve by themselves', () => {
  it('fires, posts the root with actions and triage, then resolves after the window', { timeout: 120_000 }, async () => {
    for (let n = 0; n < 3; n++) await h.app.ops.jobs.run('test.publish', { n });
    await eventually(async () => (await h.app.t.db.collection('deadLetters').countDocuments({ jobName: 'test.publish' })) === 3, '3 dead letters');

    const now = new Date();
    await alerting.evaluateOnce(now);
    const root = await h.fake.waitForCall('chat.postMessage', (c) => c.body.channel === 'C_ALERTS' && !c.body.thread_ts && JSON.stringify(c.body).includes('test.publish'), 30_000);
    const rootText = JSON.stringify(root.body.blocks);
    expect(rootText).toContain('Dead letters: test.publish');
    expect(rootText).toMatch(/Retry/);
    const triage = await h.fake.waitForCall('chat.postMessage', (c) => Boolean(c.body.thread_ts) && /auth/i.test(JSON.stringify(c.body)), 30_000);
    expect(JSON.stringify(triage.body)).toMatch(/3/);

    // The operator clears the DLQ; once clear for the rule's window the alert resolves.
    const ids = (await h.app.t.db.collection('deadLetters').find({ jobName: 'test.publish' }).toArray()).map((d) => String(d._id));
    const del = await h.app.dispatcher.run(`dlq delete ${ids.join(' ')}`, localAdmin('cli'));
    expect(del.status).toBe('ok');
    await alerting.evaluateOnce(new Date(now.getTime() + 60_000));
    await alerting.evaluateOnce(new Date(now.getTime() + 12 * 60_000));
    const resolved = await h.fake.waitForCall('chat.update', (c) => /resolved/i.test(JSON.stringify(c.body)), 30_000);
    expect(JSON.stringify(resolved.body)).not.toMatch(/"type":"button"/);
  });
});
