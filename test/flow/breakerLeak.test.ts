/**
 * A breaker must hold at once in the process that saw the failures. Ten jobs call a provider that
 * answers no call until all ten are waiting, then fails them all at once: every attempt was in
 * flight when the threshold (4) was reached, so the provider must see exactly ten calls; a retry
 * that got through is a leak (the shared count lagged, or lost increments that landed together).
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { z } from 'zod';
import { startTestApp, type TestApp } from '../support/app.ts';
import { eventually } from '../support/engine.ts';
import { defineJob } from '../../src/engine/defineJob.ts';

const calls: number[] = [];
let server: http.Server;
let providerUrl = '';

const flaky = defineJob({
  name: 'test.leaky',
  payload: z.object({ i: z.number() }),
  provider: 'leaky',
  concurrency: 10,
  retry: { maxAttempts: 10, backoffMs: 20, jitter: 0 },
  async handler() {
    calls.push(Date.now());
    const res = await fetch(providerUrl);
    if (!res.ok) throw new Error(`HTTP ${res.status}`);
  },
});

let app: TestApp;

beforeAll(async () => {
  // Holds each call until ten are waiting, then fails them all at once: the failures come back
  // together, as they do when a provider goes down under load. (A safety net frees them after
  // 10 s, which would fail the test through the call count.)
  const waiting: http.ServerResponse[] = [];
  const failAll = () => {
    for (const res of waiting.splice(0)) {
      res.writeHead(500);
      res.end('down');
    }
  };
  server = http.createServer((_req, res) => {
    waiting.push(res);
    if (waiting.length >= 10) failAll();
    else setTimeout(failAll, 10_000);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  providerUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  app = await startTestApp({ extraJobs: [flaky], env: { CB_FAILURE_THRESHOLD: '4', CB_COOLDOWN_MS: '600000', ENGINE_MAX_CONCURRENCY: '12' } });
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));

describe('breaker threshold within one process', () => {
  it('lets no retry through once the failures seen here reach the threshold', async () => {
    for (let i = 0; i < 10; i++) await app.ops.jobs.run('test.leaky', { i });
    await eventually(async () => (await app.flow.breakers.list()).find((b) => b.provider === 'leaky' && b.state === 'open'), 'breaker open');
    // Give the deferred retries every chance to slip through.
    await new Promise((r) => setTimeout(r, 2_000));
    const runs = await app.engine.cols.jobRuns.find({ jobName: 'test.leaky' }).toArray();
    expect(runs.filter((r) => r.outcome === 'failed')).toHaveLength(10);
    expect(calls).toHaveLength(10);
    expect(await app.engine.cols.deadLetters.countDocuments({ jobName: 'test.leaky' })).toBe(0);
  }, 60_000);
});
