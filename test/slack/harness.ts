/** A Switchboard app with the Slack adapter on our HttpServer (port 0), talking to the fake Slack. */
import { ObjectId } from 'mongodb';
import { z } from 'zod';
import { HttpServer } from '../../src/http/server.ts';
import { startSlack, SLACK_EVENTS_PATH, type SlackAdapter, type StartSlackOptions } from '../../src/chat/adapters/slack/index.ts';
import { defineJob, type JobDefinition } from '../../src/engine/defineJob.ts';
import type { DeadLetterDoc } from '../../src/db/collections.ts';
import { startTestApp, type TestApp } from '../support/app.ts';
import { blockActionBody, signSlackRequest, slashCommandBody, startFakeSlack, type FakeSlack, type SlackResponse } from '../support/fakeSlack.ts';
import { onCleanup } from '../support/mongo.ts';

export const SECRET = 'secret-for-slack-tests-0123456789';
export const ADMIN = 'U_ADMIN';
export const CHANNEL = 'C_OPS';

/** A job that always fails on its only attempt (its dead letters can be retried). */
export const brokenJob = defineJob({ name: 'test.broken', payload: z.object({ n: z.number() }), retry: { maxAttempts: 1 }, async handler() { throw new Error('boom'); } });

export interface SlackHarness {
  app: TestApp;
  fake: FakeSlack;
  slack: SlackAdapter;
  url: string;
  /** POSTs a raw body to /slack/events, signed unless `headers` replaces the signature. */
  post(body: string, headers?: Record<string, string>): Promise<Response>;
  /** Runs `/ops <text>` as `userId` and returns what arrived at its response_url. */
  slash(text: string, userId?: string): Promise<SlackResponse>;
  /** Clicks the button labelled `label` in a response's blocks as `userId`; resolves with the HTTP status. */
  click(from: Pick<SlackResponse, 'body'>, label: string, userId: string, responseId: string, where?: { messageTs?: string; channelId?: string }): Promise<number>;
}

let responseSeq = 0;

/** Starts fake Slack, app and adapter; everything stops when the file ends. */
export async function startSlackHarness(opts: StartSlackOptions & { env?: Record<string, string>; work?: boolean; extraJobs?: JobDefinition[] } = {}): Promise<SlackHarness> {
  const fake = await startFakeSlack();
  const app = await startTestApp({
    work: opts.work ?? false,
    extraJobs: [brokenJob, ...(opts.extraJobs ?? [])],
    env: { SLACK_BOT_TOKEN: 'xoxb-test', SLACK_SIGNING_SECRET: SECRET, SLACK_API_URL: fake.apiUrl, SLACK_ALERT_CHANNEL: 'C_ALERTS', SLACK_ADMIN_USER_IDS: ADMIN, ...opts.env },
  });
  const http = new HttpServer(app.log);
  const slack = await startSlack(app.frontEnd, http, opts);
  const port = await http.listen(0, '127.0.0.1');
  await slack.connected; // Bolt starts in the background; commands are refused until then
  onCleanup(async () => {
    await slack.stop();
    await http.close();
    await fake.close();
  });
  const url = `http://127.0.0.1:${port}${SLACK_EVENTS_PATH}`;
  const post = (body: string, headers?: Record<string, string>) =>
    fetch(url, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', ...(headers ?? signSlackRequest(body, SECRET)) }, body });
  return {
    app,
    fake,
    slack,
    url,
    post,
    async slash(text, userId = ADMIN) {
      const id = `cmd-${++responseSeq}`;
      const res = await post(slashCommandBody({ command: '/ops', text, userId, channelId: CHANNEL, responseUrl: fake.responseUrl(id) }));
      if (res.status !== 200) throw new Error(`slash command answered ${res.status}`);
      return fake.waitForResponse((r) => r.id === id, 20_000);
    },
    async click(from, label, userId, responseId, where = {}) {
      const blocks = (from.body.blocks ?? []) as Array<Record<string, unknown>>;
      const button = findButton(blocks, label);
      const body = blockActionBody({ userId, actionId: String(button.action_id), value: String(button.value), responseUrl: fake.responseUrl(responseId), channelId: where.channelId ?? CHANNEL, messageTs: where.messageTs ?? '1700000000.000100', blocks, messageText: String(from.body.text ?? '') });
      return (await post(body)).status;
    },
  };
}

/** The button element labelled `label` in a blocks array. */
export function findButton(blocks: Array<Record<string, unknown>>, label: string): Record<string, unknown> {
  for (const b of blocks) {
    for (const el of (b.elements ?? []) as Array<Record<string, unknown>>) {
      if (el.type === 'button' && (el.text as { text: string }).text === label) return el;
    }
  }
  throw new Error(`no button "${label}" in ${JSON.stringify(blocks).slice(0, 500)}`);
}

/** All mrkdwn/plain text of a blocks array, joined (for assertions). */
export function blocksText(blocks: unknown): string {
  const out: string[] = [];
  const walk = (x: unknown): void => {
    if (Array.isArray(x)) x.forEach(walk);
    else if (x && typeof x === 'object') {
      const o = x as Record<string, unknown>;
      if (typeof o.text === 'string') out.push(o.text);
      for (const v of Object.values(o)) if (typeof v === 'object') walk(v);
    }
  };
  walk(blocks);
  return out.join('\n');
}

/** Inserts `n` pending dead letters of `job` directly; returns their ids. */
export async function insertDeadLetters(app: TestApp, n: number, job = brokenJob.name): Promise<string[]> {
  const now = Date.now();
  const docs: DeadLetterDoc[] = Array.from({ length: n }, (_, i) => ({
    _id: new ObjectId(),
    jobId: new ObjectId().toHexString(),
    generation: 0,
    jobName: job,
    payload: { n: i, note: 'x'.repeat(30) },
    error: { message: `upstream answered 502 Bad Gateway while posting item ${i} <&>`, class: 'HttpError' },
    attempts: 3,
    reason: 'retries_exhausted',
    firstFailedAt: new Date(now - 60_000 - i),
    lastFailedAt: new Date(now - i),
    status: 'pending',
    createdAt: new Date(now),
  }));
  for (let i = 0; i < docs.length; i += 100) await app.t.db.collection<DeadLetterDoc>('deadLetters').insertMany(docs.slice(i, i + 100));
  return docs.map((d) => String(d._id));
}
