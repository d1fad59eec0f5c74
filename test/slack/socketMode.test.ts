/**
 * The Slack adapter in Socket Mode (SLACK_APP_TOKEN set): Bolt's real SocketModeClient against the
 * fake Socket Mode server. The same cases as HTTP mode: a command answered, a click run once, a
 * re-delivered envelope run once, and a dropped connection reconnected with a fresh
 * apps.connections.open, after which commands work again. Socket Mode's own failure modes too:
 * /readyz is not ready while the client reconnects, and stop() returns while Slack refuses to
 * open a connection.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { startSlack, type SlackAdapter } from '../../src/chat/adapters/slack/index.ts';
import { HttpServer } from '../../src/http/server.ts';
import { startTestApp, type TestApp } from '../support/app.ts';
import { blockActionBody, slashCommandBody, type SlackResponse } from '../support/fakeSlack.ts';
import { startFakeSlackSocket, type EnvelopeOptions, type FakeSlackSocket } from '../support/fakeSlackSocket.ts';
import { onCleanup } from '../support/mongo.ts';
import { waitFor } from '../support/waitFor.ts';
import { ADMIN, CHANNEL, blocksText, brokenJob, findButton, insertDeadLetters } from './harness.ts';

const APP_TOKEN = 'xapp-1-A1-socket-test';

let fake: FakeSlackSocket;
let app: TestApp;
let slack: SlackAdapter;

/** An app (engine not working) with the Slack adapter in Socket Mode, talking to `to`; Bolt starts in the background. */
async function startSocketModeApp(to: FakeSlackSocket): Promise<{ app: TestApp; slack: SlackAdapter }> {
  const app = await startTestApp({
    work: false,
    extraJobs: [brokenJob],
    env: { SLACK_BOT_TOKEN: 'xoxb-test', SLACK_APP_TOKEN: APP_TOKEN, SLACK_API_URL: to.slack.apiUrl, SLACK_ADMIN_USER_IDS: ADMIN },
  });
  // Socket Mode mounts no route; the HttpServer is only what startSlack's signature asks for.
  return { app, slack: await startSlack(app, new HttpServer(app.log)) };
}

beforeAll(async () => {
  fake = await startFakeSlackSocket();
  ({ app, slack } = await startSocketModeApp(fake));
  onCleanup(async () => {
    await slack.stop();
    await fake.close();
  });
  await slack.connected;
});

let responseSeq = 0;
const audits = (filter: Record<string, unknown>) => app.t.db.collection('auditLog').countDocuments(filter);
const responsesTo = (id: string) => fake.slack.responses.filter((r) => r.id === id);

/** A slash command's Socket Mode payload: the fields Slack would have form-posted, as JSON. */
function slashPayload(text: string, responseId: string, userId = ADMIN): Record<string, unknown> {
  return Object.fromEntries(new URLSearchParams(slashCommandBody({ command: '/ops', text, userId, channelId: CHANNEL, responseUrl: fake.slack.responseUrl(responseId) })));
}

/** A click on the button labelled `label` of an answer, as the `interactive` envelope's payload. */
function clickPayload(from: SlackResponse, label: string, userId: string, responseId: string): Record<string, unknown> {
  const blocks = (from.body.blocks ?? []) as Array<Record<string, unknown>>;
  const button = findButton(blocks, label);
  const form = blockActionBody({ userId, actionId: String(button.action_id), value: String(button.value), responseUrl: fake.slack.responseUrl(responseId), channelId: CHANNEL, messageTs: '1700000000.000100', blocks, messageText: String(from.body.text ?? '') });
  return JSON.parse(new URLSearchParams(form).get('payload')!) as Record<string, unknown>;
}

/** Delivers `/ops <text>` as a slash_commands envelope; resolves with its ack and what arrived at its response_url. */
async function slash(text: string, userId = ADMIN, opts: EnvelopeOptions = {}) {
  const id = `socket-cmd-${++responseSeq}`;
  const envelopeId = fake.deliver('slash_commands', slashPayload(text, id, userId), opts);
  const ack = await fake.waitForAck(envelopeId);
  const answer = await fake.slack.waitForResponse((r) => r.id === id, 20_000);
  return { ack, answer };
}

describe('Socket Mode', () => {
  it('opens the connection with the app-level token and answers a slash command through its response_url', async () => {
    const opens = fake.slack.callsOf('apps.connections.open');
    expect(opens).toHaveLength(1);
    expect(opens[0].headers.authorization).toBe(`Bearer ${APP_TOKEN}`);
    expect(fake.slack.callsOf('auth.test')[0].headers.authorization).toBe('Bearer xoxb-test');
    expect(fake.connections).toHaveLength(1);

    const { ack, answer } = await slash('killswitch status', 'U_VIEWER');
    expect(ack.connection).toBe(1);
    expect(ack.payload ?? {}).toEqual({});
    expect(answer.body.response_type).toBe('ephemeral');
    expect(answer.body.text).toContain('Kill switch is off');
    await slack.idle();
    expect(await audits({ action: 'killswitch_status', 'actor.id': 'U_VIEWER' })).toBe(1);
  });

  it('runs a button click once, and its re-delivery (retry_attempt 1) not again', async () => {
    const [id] = await insertDeadLetters(app, 1);
    const { answer: shown } = await slash(`dlq show ${id}`);
    const click = clickPayload(shown, 'Retry', ADMIN, 'socket-retry');
    const first = fake.deliver('interactive', click);
    const again = fake.deliver('interactive', click, { retryAttempt: 1, retryReason: 'timeout' });
    await Promise.all([fake.waitForAck(first), fake.waitForAck(again)]);
    await fake.slack.waitForResponse((r) => r.id === 'socket-retry');
    await slack.idle();

    expect(responsesTo('socket-retry')).toHaveLength(1);
    const [edited] = responsesTo('socket-retry');
    expect(edited.body.replace_original).toBe(true);
    expect(blocksText(edited.body.blocks)).toMatch(/Retried 1 dead letter — by <@U_ADMIN> at/);
    expect((await app.ops.deadLetters.show(id)).status).toBe('retry_scheduled');
    expect(await audits({ action: 'dlq_retry', target: id })).toBe(1);
  });

  it('runs a re-delivered slash command envelope (same payload, retry_attempt 1) once, acking both', async () => {
    const payload = slashPayload('killswitch status', 'socket-redelivered', 'U_REDELIVER');
    const first = fake.deliver('slash_commands', payload);
    const retry = fake.deliver('slash_commands', payload, { retryAttempt: 1, retryReason: 'timeout' });
    expect(first).not.toBe(retry);
    await Promise.all([fake.waitForAck(first), fake.waitForAck(retry)]);
    await fake.slack.waitForResponse((r) => r.id === 'socket-redelivered');
    await slack.idle();
    expect(responsesTo('socket-redelivered')).toHaveLength(1);
    expect(await audits({ action: 'killswitch_status', 'actor.id': 'U_REDELIVER' })).toBe(1);
  });

  it('acks an events_api envelope it has no listener for, so Slack stops re-delivering it', async () => {
    const payload = { type: 'event_callback', team_id: 'T1', api_app_id: 'A1', event_id: 'Ev1', event_time: 1_700_000_000, event: { type: 'app_mention', user: 'U_ANA', text: '<@UBOT> hi', channel: CHANNEL, ts: '1700000000.000200' } };
    const envelopeId = fake.deliver('events_api', payload, { retryAttempt: 0, retryReason: '' });
    const ack = await fake.waitForAck(envelopeId);
    expect(ack.payload ?? {}).toEqual({});
  });

  it('reconnects when the connection drops: a new apps.connections.open, and the next command works', async () => {
    const before = fake.slack.callsOf('apps.connections.open').length;
    const current = fake.connections.length;
    fake.dropConnection();
    // The client waits 5 s before reconnecting: /readyz says Slack is not connected meanwhile.
    await waitFor(() => !slack.status.snapshot().ready, { what: 'Slack not ready after the drop', timeoutMs: 3000 });
    expect(slack.status.reason()).toBe('Slack is not connected after 1 attempt (last error: the Socket Mode connection closed; reconnecting); retrying.');
    const next = await fake.waitForConnection(current + 1, 20_000);
    await waitFor(() => slack.status.snapshot().ready, { what: 'Slack ready again after the reconnect' });
    expect(fake.connections[current - 1]).toMatchObject({ closed: true, closeCode: 1006 });
    expect(fake.slack.callsOf('apps.connections.open')).toHaveLength(before + 1);
    expect(fake.refused()).toBe(0);

    const { ack, answer } = await slash('killswitch status', 'U_AFTER_DROP');
    expect(ack.connection).toBe(next.number);
    expect(answer.body.text).toContain('Kill switch is off');
  });

  it('reconnects when Slack sends a disconnect message: the client closes, reopens, and the next command works', async () => {
    const before = fake.slack.callsOf('apps.connections.open').length;
    const current = fake.connections.length;
    fake.requestDisconnect('refresh_requested');
    const next = await fake.waitForConnection(current + 1, 20_000);
    expect(fake.connections[current - 1]).toMatchObject({ closed: true, closeCode: 1000 });
    expect(fake.slack.callsOf('apps.connections.open')).toHaveLength(before + 1);

    const { ack, answer } = await slash('killswitch status', 'U_AFTER_REFRESH');
    expect(ack.connection).toBe(next.number);
    expect(answer.body.text).toContain('Kill switch is off');
    await slack.idle();
    expect(await audits({ action: 'killswitch_status', 'actor.id': 'U_AFTER_REFRESH' })).toBe(1);
  });
});

describe('Socket Mode while Slack refuses connections', () => {
  it('stops at once while apps.connections.open keeps failing, and the client stops asking', async () => {
    const down = await startFakeSlackSocket();
    onCleanup(() => down.close());
    for (let i = 0; i < 5; i++) down.slack.failNext('apps.connections.open', { error: 'internal_error' });
    const { slack: adapter } = await startSocketModeApp(down);
    // auth.test answered, so Bolt's start is under way: the client retries the failed call in 5 s.
    await down.slack.waitForCall('apps.connections.open');
    const stopped = await Promise.race([adapter.stop().then(() => 'stopped'), new Promise((resolve) => setTimeout(resolve, 3000, 'still stopping after 3 s'))]);
    expect(stopped).toBe('stopped');
    expect(adapter.status.snapshot().phase).toBe('stopped');
    await new Promise((resolve) => setTimeout(resolve, 5500));
    expect(down.slack.callsOf('apps.connections.open')).toHaveLength(1);
    expect(down.connections).toHaveLength(0);
  });

  it('closes a connection that Slack grants only after stop()', async () => {
    const slow = await startFakeSlackSocket();
    onCleanup(() => slow.close());
    const release = slow.holdOpens();
    const { slack: adapter } = await startSocketModeApp(slow);
    await slow.slack.waitForCall('apps.connections.open');
    await adapter.stop();
    release();
    await slow.waitForConnection(1);
    await waitFor(() => slow.connections[0].closed, { what: 'the late connection closed by the stopped client', timeoutMs: 5000 });
    expect(slow.connections).toHaveLength(1);
  });
});
