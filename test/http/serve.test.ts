/**
 * `serve` as main.ts wires it, in this process, with Slack's and Telegram's APIs down at
 * start-up: it serves at once, /readyz names both as reasons, and turns ready when they come up.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServing, type Serving } from '../../src/main.ts';
import { startFakeSlack, type FakeSlack } from '../support/fakeSlack.ts';
import { startFakeTelegram, type FakeTelegram } from '../support/fakeTelegram.ts';
import { onCleanup, useTestDb } from '../support/mongo.ts';
import { waitFor } from '../support/waitFor.ts';
import { lateServer, type LateServer } from './lateServer.ts';

let serving: Serving;
let fake: FakeSlack;
let late: LateServer;
let telegram: FakeTelegram;
let lateTelegram: LateServer;
let base: string;
const saved = { ...process.env };

beforeAll(async () => {
  const t = await useTestDb('serve');
  fake = await startFakeSlack();
  late = await lateServer();
  telegram = await startFakeTelegram();
  lateTelegram = await lateServer();
  onCleanup(() => fake.close());
  onCleanup(() => telegram.close());
  // startServing reads the environment, as `serve` does; vitest runs each file in a process of its own.
  Object.assign(process.env, {
    MONGODB_URL: `${t.url}${t.dbName}`,
    PORT: '0',
    HTTP_HOST: '127.0.0.1',
    LOG_LEVEL: process.env.TEST_LOG ? 'debug' : 'silent',
    ENGINE_PROCESS_EVERY_MS: '250',
    SLACK_BOT_TOKEN: 'xoxb-serve-test',
    SLACK_SIGNING_SECRET: 'serve-test-signing-secret',
    SLACK_API_URL: `http://127.0.0.1:${late.port}/api/`,
    TELEGRAM_BOT_TOKEN: telegram.token,
    TELEGRAM_API_ROOT: `http://127.0.0.1:${lateTelegram.port}`,
    HTTP_INVOKE_ALLOWED_HOSTS: '127.0.0.1',
  });
  serving = await startServing({ console: false });
  base = `http://127.0.0.1:${serving.port}`;
});
afterAll(async () => {
  await serving?.stop();
  process.env = saved;
});

const readyz = async () => {
  const res = await fetch(`${base}/readyz`);
  return { status: res.status, body: (await res.json()) as { ok: boolean; reasons: string[] } };
};

const adapter = (name: string) => serving.health.readiness.adapters().find((a) => a.name === name);

describe('serve with Slack and Telegram unreachable at start-up', () => {
  it('serves at once: live, not ready because of them, and ready once they answer', async () => {
    expect((await fetch(`${base}/healthz`)).status).toBe(200);
    expect(adapter('Slack')?.ready).toBe(false);
    expect(adapter('Telegram')?.ready).toBe(false);
    await waitFor(() => adapter('Telegram')?.phase === 'retrying' && adapter('Slack')?.phase === 'retrying', { what: 'both adapters retrying' });
    const down = await readyz();
    expect(down.status).toBe(503);
    expect(down.body.reasons).toEqual([
      expect.stringMatching(/^Slack is not connected after \d+ attempts? \(last error: .+ECONNREFUSED.+\); retrying\.$/),
      expect.stringMatching(/^Telegram is not connected after \d+ attempts? \(last error: .+ECONNREFUSED.+\); retrying\.$/),
    ]);
    expect(down.body.reasons.join(' ')).not.toContain(telegram.token);

    await late.forward(fake.apiUrl);
    await lateTelegram.forward(telegram.apiRoot);
    await waitFor(() => adapter('Slack')?.ready && adapter('Telegram')?.ready, { what: 'Slack and Telegram connected', timeoutMs: 20_000 });
    expect(await readyz()).toEqual({ status: 200, body: expect.objectContaining({ ok: true, reasons: [] }) });
    const metrics = await (await fetch(`${base}/metrics`)).text();
    expect(metrics).toContain('switchboard_adapter_connected{adapter="Slack"} 1');
    expect(metrics).toContain('switchboard_adapter_connected{adapter="Telegram"} 1');
  });
});
