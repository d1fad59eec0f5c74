/** Slack down at start-up: the adapter starts anyway, says why it is not ready, and connects once Slack answers. */
import { describe, expect, it } from 'vitest';
import { startSlack, SLACK_EVENTS_PATH } from '../../src/chat/adapters/slack/index.ts';
import { registerHealthRoutes } from '../../src/http/health.ts';
import { HttpServer } from '../../src/http/server.ts';
import { startTestApp } from '../support/app.ts';
import { signSlackRequest, slashCommandBody, startFakeSlack } from '../support/fakeSlack.ts';
import { onCleanup } from '../support/mongo.ts';
import { waitFor } from '../support/waitFor.ts';
import { lateServer } from '../http/lateServer.ts';
import { ADMIN, CHANNEL, SECRET } from './harness.ts';

describe('Slack unreachable at start-up', () => {
  it('starts at once, reports the reason in /readyz, answers commands with a sentence, and connects when Slack comes up', async () => {
    const late = await lateServer();
    const fake = await startFakeSlack();
    onCleanup(() => fake.close());
    const app = await startTestApp({
      env: { SLACK_BOT_TOKEN: 'xoxb-test', SLACK_SIGNING_SECRET: SECRET, SLACK_API_URL: `http://127.0.0.1:${late.port}/api/`, SLACK_ADMIN_USER_IDS: ADMIN },
    });
    const http = new HttpServer(app.log);
    const health = registerHealthRoutes(app, http);
    const slack = await startSlack(app, http, { backoffMs: 100 });
    health.watch(slack.status);
    const port = await http.listen(0, '127.0.0.1');
    onCleanup(async () => {
      health.stop();
      await slack.stop();
      await http.close();
    });
    expect(slack.status.snapshot().ready).toBe(false); // startSlack did not wait for Slack

    await waitFor(() => slack.status.snapshot().failures >= 2, { what: 'two failed Slack start attempts' });
    const down = await fetch(`http://127.0.0.1:${port}/readyz`);
    expect(down.status).toBe(503);
    const report = (await down.json()) as { ok: boolean; reasons: string[] };
    expect(report.ok).toBe(false);
    expect(report.reasons).toHaveLength(1);
    expect(report.reasons[0]).toMatch(/^Slack is not connected after \d+ attempts \(last error: .*ECONNREFUSED.*\); retrying\.$/);

    const slash = (text: string, id: string) => {
      const body = slashCommandBody({ command: '/ops', text, userId: ADMIN, channelId: CHANNEL, responseUrl: fake.responseUrl(id) });
      return fetch(`http://127.0.0.1:${port}${SLACK_EVENTS_PATH}`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', ...signSlackRequest(body, SECRET) }, body });
    };
    const early = await slash('status', 'early');
    expect(early.status).toBe(200);
    expect(await early.json()).toEqual({ response_type: 'ephemeral', text: 'Switchboard is still connecting to Slack; try again in a minute.' });

    await late.forward(fake.apiUrl);
    await slack.connected;
    expect(slack.status.snapshot()).toMatchObject({ phase: 'connected', ready: true, failures: 0 });
    expect(fake.callsOf('auth.test').length).toBeGreaterThanOrEqual(1);
    const up = await fetch(`http://127.0.0.1:${port}/readyz`);
    expect(up.status).toBe(200);
    expect(await up.json()).toMatchObject({ ok: true, reasons: [] });
    expect((await slash('status', 'later')).status).toBe(200);
    const answered = await fake.waitForResponse((r) => r.id === 'later');
    expect(String(answered.body.text ?? JSON.stringify(answered.body.blocks))).not.toContain('still connecting');
  });
});
