/**
 * `serve` as main.ts wires it, in this process, with Slack's API down at start-up: it serves at
 * once, /readyz names Slack as the reason, and turns ready when Slack comes up.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServing, type Serving } from '../../src/main.ts';
import { startFakeSlack, type FakeSlack } from '../support/fakeSlack.ts';
import { onCleanup, useTestDb } from '../support/mongo.ts';
import { waitFor } from '../support/waitFor.ts';
import { lateServer, type LateServer } from './lateServer.ts';

let serving: Serving;
let fake: FakeSlack;
let late: LateServer;
let base: string;
const saved = { ...process.env };

beforeAll(async () => {
  const t = await useTestDb('serve');
  fake = await startFakeSlack();
  late = await lateServer();
  onCleanup(() => fake.close());
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

describe('serve with Slack unreachable at start-up', () => {
  it('serves at once: live, not ready because of Slack, and ready once Slack answers', async () => {
    expect((await fetch(`${base}/healthz`)).status).toBe(200);
    const slack = serving.health.readiness.adapters().find((a) => a.name === 'Slack');
    expect(slack?.ready).toBe(false);
    const down = await readyz();
    expect(down.status).toBe(503);
    expect(down.body.reasons).toEqual([expect.stringMatching(/^Slack is (still connecting|not connected after \d+ attempts? \(last error: .+\); retrying)\.$/)]);

    await late.forward(fake.apiUrl);
    await waitFor(() => serving.health.readiness.adapters().find((a) => a.name === 'Slack')?.ready, { what: 'Slack connected', timeoutMs: 20_000 });
    expect(await readyz()).toEqual({ status: 200, body: expect.objectContaining({ ok: true, reasons: [] }) });
    const metrics = await (await fetch(`${base}/metrics`)).text();
    expect(metrics).toContain('switchboard_adapter_connected{adapter="Slack"} 1');
  });
});
