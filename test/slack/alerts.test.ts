/**
 * Alert threads: a DLQ storm, resolve, restart, kill switch and pause notes, clicks on a root. The
 * storm is a firing alert of the store (`dlq:<job>`) whose arrivals reach the notifier as events;
 * pauses reach its thread through the app's alerting (the switch alerts).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { webApi } from '@slack/bolt';
import type { DeadLetterDoc } from '../../src/db/collections.ts';
import { SlackAlertNotifier } from '../../src/chat/adapters/slack/alertThreads.ts';
import { slackClientOptions } from '../../src/chat/adapters/slack/index.ts';
import { boltLogger } from '../../src/chat/adapters/slack/boltLogger.ts';
import type { AlertView } from '../../src/alerting/types.ts';
import { quoteArg } from '../../src/chat/grammar.ts';
import type { SlackCall } from '../support/fakeSlack.ts';
import { z } from 'zod';
import { defineJob } from '../../src/engine/defineJob.ts';
import { ADMIN, blocksText, findButton, insertDeadLetters, startSlackHarness, type SlackHarness } from './harness.ts';

let h: SlackHarness;
const flakyJob = defineJob({ name: 'test.flaky', payload: z.object({}).passthrough(), async handler() {} });

beforeAll(async () => {
  h = await startSlackHarness({ extraJobs: [flakyJob], alerts: { minUpdateIntervalMs: 1000, threadReplyIntervalMs: 2000 } });
  h.app.alerting.service.addNotifier(h.slack.notifier);
  h.app.alerting.start();
  afterAll(() => h.app.alerting.stop());
});

const isRoot = (c: SlackCall) => c.body.channel === 'C_ALERTS' && c.body.thread_ts === undefined;
const roots = (title: string) => h.fake.callsOf('chat.postMessage').filter((c) => isRoot(c) && String(c.body.text).includes(title));
const threadOf = (ts: string) => h.fake.callsOf('chat.postMessage').filter((c) => c.body.thread_ts === ts);
const updatesOf = (ts: string) => h.fake.callsOf('chat.update').filter((c) => c.body.ts === ts);

/** The view of a DLQ alert of `job` after `count` arrivals, the latest being `d`. */
function dlqView(d: DeadLetterDoc, count: number, firstSeenAt: Date): AlertView {
  const job = d.jobName;
  const q = quoteArg(job);
  return {
    key: `dlq:${job}`,
    rule: 'dlq',
    subject: job,
    state: 'firing',
    title: `Dead letters: ${job}`,
    summary: `${count} job${count === 1 ? '' : 's'} of ${job} entered the DLQ; latest: ${d.error.message}`,
    facts: [{ label: 'Job', value: job }],
    count,
    firstSeenAt,
    lastSeenAt: new Date(),
    actions: [
      { label: 'Retry all in DLQ', command: `dlq retry --all --job ${q}`, style: 'primary' },
      { label: 'Show DLQ', command: `dlq list --job ${q}` },
      { label: 'Pause this job type', command: `jobs pause ${q} --reason "paused from alert"` },
      { label: 'Kill switch', command: 'killswitch on --reason "from alert"', style: 'danger', confirm: { title: 'Turn the kill switch on?', text: 'No new attempt of any job starts anywhere until it is turned off.', confirm: 'Kill switch on' } },
    ],
  };
}

/** n DLQ arrivals of `job`: a firing alert in the store, its events to the notifier, yielding between chunks. */
async function storm(job: string, n: number): Promise<void> {
  await insertDeadLetters(h.app, n, job);
  const docs = await h.app.t.db.collection<DeadLetterDoc>('deadLetters').find({ jobName: job, status: 'pending' }).limit(n).toArray();
  const first = new Date();
  const { key, rule, subject, title, summary, facts } = dlqView(docs[0], 1, first);
  const stamp = { count: 1, peak: 1, seen: 1, notifiedCount: 1, firstSeenAt: first, lastSeenAt: first, clearSince: null, updatedAt: first };
  await h.app.alerting.store.save(key, { rule, subject, job, state: 'firing', episode: 1, title, summary, facts, ...stamp });
  // The first arrival opens the thread; the rest come while it exists, so they must coalesce.
  await h.slack.notifier.notify({ kind: 'opened', alert: dlqView(docs[0], 1, first) });
  await h.fake.waitForCall('chat.postMessage', (c) => isRoot(c) && String(c.body.text).includes(`Dead letters: ${job}`));
  for (let i = 1; i < docs.length; i++) {
    await h.slack.notifier.notify({ kind: 'updated', alert: dlqView(docs[i], i + 1, first) });
    if (i % 25 === 24) await new Promise((r) => setImmediate(r));
  }
}

/** A thread's ref, as the notifier keeps it. */
const threadRef = (key: string) => h.app.t.db.collection('slackAlertThreads').findOne({ _id: key as never });

describe('Slack alert threads', () => {
  let rootTs = '';

  it('turns a storm of 500 DLQ arrivals into one root message and a handful of updates', async () => {
    await storm('test.broken', 500);
    await h.slack.notifier.idle();
    const posted = roots('Dead letters: test.broken');
    expect(posted).toHaveLength(1);
    rootTs = (await threadRef('dlq:test.broken'))?.ts;
    expect(posted[0].body).toMatchObject({ channel: 'C_ALERTS' });
    expect(rootTs).toBeTruthy();
    expect(String(posted[0].body.text)).toContain('1 job of test.broken');
    const updates = updatesOf(rootTs);
    expect(updates.length).toBeGreaterThanOrEqual(1);
    expect(updates.length).toBeLessThanOrEqual(5);
    const latest = updates.at(-1)!;
    expect(blocksText(latest.body.blocks)).toMatch(/\*Count\*\n500/);
    for (const label of ['Retry all in DLQ', 'Show DLQ', 'Pause this job type', 'Kill switch']) findButton(latest.body.blocks as Array<Record<string, unknown>>, label);
    expect(findButton(latest.body.blocks as Array<Record<string, unknown>>, 'Kill switch')).toMatchObject({ style: 'danger', confirm: { style: 'danger' } });
    const summaries = threadOf(rootTs);
    expect(summaries.length).toBeLessThanOrEqual(2);
    expect(summaries.reduce((n, c) => n + Number(/^(\d+) more since/.exec(String(c.body.text))?.[1]), 0)).toBe(499);
    expect(String(summaries.at(-1)?.body.text)).toContain('(500 in all');
    expect(h.fake.callsOf('chat.postMessage').filter(isRoot)).toHaveLength(1);
  });

  it('posts an action clicked on the root into its thread, and pauses are noted there', async () => {
    const latest = updatesOf(rootTs).at(-1) ?? roots('Dead letters: test.broken')[0];
    expect(await h.click(latest, 'Pause this job type', ADMIN, 'root-pause', { messageTs: rootTs, channelId: 'C_ALERTS' })).toBe(200);
    await h.fake.waitForCall('chat.postMessage', (c) => c.body.thread_ts === rootTs && /test\.broken paused — by <@U_ADMIN>/.test(String(c.body.text)));
    await h.fake.waitForCall('chat.postMessage', (c) => c.body.thread_ts === rootTs && String(c.body.text).includes('test.broken paused by u_admin: paused from alert'));
    const pauseRoot = await h.fake.waitForCall('chat.postMessage', (c) => isRoot(c) && String(c.body.text).includes('Job type paused: test.broken'));
    findButton(pauseRoot.body.blocks as Array<Record<string, unknown>>, 'Resume');
  });

  it('edits the root to say resolved and removes its buttons once the DLQ of the job is empty', async () => {
    await storm('test.flaky', 3);
    await h.slack.notifier.idle();
    const [root] = roots('Dead letters: test.flaky');
    const ts = (await threadRef('dlq:test.flaky'))?.ts as string;
    expect(root).toBeTruthy();
    const retried = await h.app.dispatcher.run('dlq retry --all --job test.flaky', { actor: { platform: 'slack', id: ADMIN, name: 'ana' }, role: 'admin' });
    expect(retried.reply.text).toContain('Retried 3');
    // The DLQ of the job is empty now: its alert resolves.
    const [latest] = await h.app.t.db.collection<DeadLetterDoc>('deadLetters').find({ jobName: 'test.flaky' }).limit(1).toArray();
    await h.slack.notifier.notify({ kind: 'resolved', alert: { ...dlqView(latest, 3, new Date()), state: 'resolved', by: 'Switchboard (no pending dead letters left)' } });
    const resolved = await h.fake.waitForCall('chat.update', (c) => c.body.ts === ts && String(c.body.text).includes('Resolved'), 15_000);
    expect(blocksText(resolved.body.blocks)).toContain('Resolved by Switchboard (no pending dead letters left)');
    expect(JSON.stringify(resolved.body.blocks)).not.toContain('"type":"actions"');
    await h.slack.notifier.idle();
    expect(await threadRef('dlq:test.flaky')).toMatchObject({ channel: 'C_ALERTS', ts, resolved: true });
    await h.fake.waitForCall('chat.postMessage', (c) => c.body.thread_ts === ts && String(c.body.text).startsWith('Resolved by Switchboard'));
  });

  it('keeps updating the same thread after a restart (a new notifier over the same db)', async () => {
    await storm('test.other', 1);
    await h.slack.notifier.idle();
    const first = roots('Dead letters: test.other');
    expect(first).toHaveLength(1);
    const ts = (await threadRef('dlq:test.other'))?.ts as string;

    const client = new webApi.WebClient('xoxb-test', { ...slackClientOptions(h.app.config), logger: boltLogger(h.app.log) });
    const restarted = new SlackAlertNotifier({ client, db: h.app.t.db, channel: 'C_ALERTS', tokens: h.app.tokens, log: h.app.log, minUpdateIntervalMs: 0, threadReplyIntervalMs: 0 });
    h.fake.failNext('chat.update', { status: 429, retryAfterSec: 1 });
    const now = new Date();
    const view = { key: 'dlq:test.other', rule: 'dlq', subject: 'test.other', state: 'firing' as const, title: 'Dead letters: test.other', summary: '7 jobs of test.other entered the DLQ', facts: [], count: 7, firstSeenAt: now, lastSeenAt: now, actions: [{ label: 'Show DLQ', command: 'dlq list --job test.other' }] };
    await restarted.notify({ kind: 'opened', alert: view });
    expect(h.fake.callsOf('chat.update').filter((c) => c.body.ts === ts && c.status === 200)).toHaveLength(0);
    await restarted.notify({ kind: 'note', alert: view, note: 'Retried by ana' });
    await restarted.idle();
    const updates = updatesOf(ts);
    expect(updates.map((c) => c.status)).toEqual([429, 200]);
    expect(blocksText(updates[1].body.blocks)).toMatch(/\*Count\*\n7/);
    await h.fake.waitForCall('chat.postMessage', (c) => c.body.thread_ts === ts && c.body.text === 'Retried by ana');
    expect(roots('Dead letters: test.other')).toHaveLength(1);
    await restarted.stop();
  });

  it('posts the root to the channel the alert route names', async () => {
    const now = new Date();
    const alert = { key: 'backlog:test.routed', rule: 'backlog', subject: 'test.routed', state: 'firing' as const, title: 'Backlog: test.routed', summary: '40 jobs waiting', facts: [], count: 1, firstSeenAt: now, lastSeenAt: now, actions: [] };
    await h.slack.notifier.notify({ kind: 'opened', alert, route: { slackChannel: 'C_ROUTED', telegram: false } });
    const root = await h.fake.waitForCall('chat.postMessage', (c) => c.body.channel === 'C_ROUTED');
    expect(String(root.body.text)).toContain('Backlog: test.routed');
    await h.slack.notifier.idle();
    const ts = (await threadRef('backlog:test.routed'))?.ts;
    await h.slack.notifier.notify({ kind: 'resolved', alert: { ...alert, state: 'resolved', by: 'the backlog rule' } });
    const resolved = await h.fake.waitForCall('chat.update', (c) => c.body.channel === 'C_ROUTED' && c.body.ts === ts && String(c.body.text).includes('Resolved'));
    expect(blocksText(resolved.body.blocks)).toContain('Resolved by the backlog rule');
  });
});
