/** Signed Slack requests whose bodies are not a command, interaction or event: 400, and the next good one is served. */
import { beforeAll, describe, expect, it } from 'vitest';
import { signSlackRequest } from '../support/fakeSlack.ts';
import { SECRET, startSlackHarness, type SlackHarness } from './harness.ts';

let h: SlackHarness;
beforeAll(async () => {
  h = await startSlackHarness();
});

const post = (body: string, contentType: string) => fetch(h.url, { method: 'POST', headers: { 'content-type': contentType, ...signSlackRequest(body, SECRET) }, body });

describe('malformed Slack bodies', () => {
  it.each([
    ['JSON null', 'null', 'application/json'],
    ['a JSON array', '[{"type":"block_actions"}]', 'application/json'],
    ['a JSON number', '42', 'application/json'],
    ['a JSON string', '"event_callback"', 'application/json'],
    ['a JSON object of no known kind', '{"hello":"world"}', 'application/json'],
    ['not JSON', '{"type":', 'application/json'],
    ['a form without payload or command', 'foo=bar&text=status', 'application/x-www-form-urlencoded'],
    ['a form whose payload is null', 'payload=null', 'application/x-www-form-urlencoded'],
    ['a form whose payload is not JSON', 'payload=%7Bnope', 'application/x-www-form-urlencoded'],
    ['an empty form', '', 'application/x-www-form-urlencoded'],
  ])('answers 400 with a sentence to %s', async (_what, body, contentType) => {
    const res = await post(body, contentType);
    expect(res.status).toBe(400);
    expect(await res.text()).toMatch(/^The body is not [^\n]+\.$/);
  });

  it('serves the next good command', async () => {
    const reply = await h.slash('status');
    expect(JSON.stringify(reply.body)).toContain('Kill switch');
  });
});
