/** The built-in `http.invoke` job through a real engine, against a local HTTP server. */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { ObjectId } from 'mongodb';
import { useTestDb, type TestDb } from '../support/mongo.ts';
import { startEngine, nextEvent } from '../support/engine.ts';
import { startHttpServer, sendJson, type FakeServer } from '../support/fakeHttp.ts';
import { httpInvokeJob } from '../../jobs/httpInvoke.ts';
import { configKey } from '../../src/engine/settings.ts';
import { PayloadError } from '../../src/engine/errors.ts';
import type { DeadLetterDoc, JobRunDoc } from '../../src/db/collections.ts';
import type { Engine } from '../../src/engine/engine.ts';

interface Hit {
  method: string;
  path: string;
  contentType?: string;
  body: string;
}

const LONG_ERROR = `upstream exploded: ${'the database connection pool is exhausted; '.repeat(10)}`;

let t: TestDb;
let engine: Engine;
let server: FakeServer;
const hits: Hit[] = [];

beforeAll(async () => {
  t = await useTestDb('http_invoke');
  server = await startHttpServer((req, res, raw) => {
    hits.push({ method: req.method ?? '', path: req.url ?? '', contentType: req.headers['content-type'], body: raw.toString('utf8') });
    if (req.url === '/ok') return sendJson(res, 200, { ok: true });
    res.writeHead(500, { 'content-type': 'text/plain' }).end(LONG_ERROR);
  });
  engine = await startEngine(t.db, { jobs: [httpInvokeJob({ allowedHosts: ['127.0.0.1'] })] });
});
// Registered while the file is collected: hooks registered in beforeAll do not run.
afterAll(async () => {
  await engine?.stop(500);
  await server?.close();
  await t?.db.dropDatabase().catch(() => {});
  await t?.client.close();
});

const runOf = (outcome: JobRunDoc['outcome']) => (r: JobRunDoc) => r.jobName === 'http.invoke' && r.outcome === outcome;
const runsOf = (jobId: string) => t.db.collection<JobRunDoc>('jobRuns').find({ jobId }).sort({ startedAt: 1 }).toArray();

describe('http.invoke', () => {
  it('succeeds on a 200, sending the JSON body, and records the status', async () => {
    const done = nextEvent<JobRunDoc>(engine, 'run', runOf('success'));
    const { id } = await engine.enqueue('http.invoke', { url: `${server.origin}/ok`, body: { hello: 'world' } });
    const run = await done;
    expect(run).toMatchObject({ jobId: id, attempt: 1, outcome: 'success', counts: { requests: 1 } });
    expect(run.telemetry).toHaveLength(1);
    expect(run.telemetry[0]).toMatchObject({ tool: 'http', data: { status: 200, host: '127.0.0.1', bytes: '{"ok":true}'.length } });
    expect(hits.filter((h) => h.path === '/ok')).toEqual([{ method: 'POST', path: '/ok', contentType: 'application/json', body: '{"hello":"world"}' }]);
  });

  it('fails on a 500, retries, then dead-letters with the status and the start of the body', async () => {
    await engine.settings.set(configKey('http.invoke.max_attempts'), 2);
    await engine.settings.set(configKey('http.invoke.backoff_ms'), 100);
    try {
      const dead = nextEvent<DeadLetterDoc>(engine, 'dead-letter', (d) => d.jobName === 'http.invoke');
      const { id } = await engine.enqueue('http.invoke', { url: `${server.origin}/boom`, method: 'PUT', body: { n: 1 } });
      const entry = await dead;
      expect(entry).toMatchObject({ jobId: id, attempts: 2, reason: 'retries_exhausted', status: 'pending' });
      expect(entry.error).toMatchObject({ class: 'HttpStatusError', code: 'http_status' });
      expect(entry.error.message).toMatch(/^HTTP 500: upstream exploded: the database connection pool is exhausted;/);
      // The start of the body (200 characters), not all of it.
      expect(entry.error.message.length).toBeLessThan(LONG_ERROR.length);
      expect(entry.error.message.length).toBeLessThanOrEqual('HTTP 500: '.length + 200);
      const runs = await runsOf(id);
      expect(runs.map((r) => [r.attempt, r.outcome])).toEqual([
        [1, 'failed'],
        [2, 'dead'],
      ]);
      expect(runs.map((r) => r.telemetry[0]?.data.status)).toEqual([500, 500]);
      expect(hits.filter((h) => h.path === '/boom').map((h) => h.method)).toEqual(['PUT', 'PUT']);
    } finally {
      await engine.settings.unset(configKey('http.invoke.max_attempts'));
      await engine.settings.unset(configKey('http.invoke.backoff_ms'));
    }
  });

  it('sends a host outside HTTP_INVOKE_ALLOWED_HOSTS to the DLQ as a payload error after one attempt', async () => {
    const dead = nextEvent<DeadLetterDoc>(engine, 'dead-letter', (d) => d.jobName === 'http.invoke');
    const port = new URL(server.origin).port;
    const { id } = await engine.enqueue('http.invoke', { url: `http://localhost:${port}/ok?from=elsewhere` });
    const entry = await dead;
    expect(entry).toMatchObject({ jobId: id, attempts: 1, reason: 'invalid_payload' });
    expect(entry.error).toMatchObject({ class: 'PayloadError', code: 'payload_invalid' });
    expect(entry.error.message).toBe('host localhost is not in HTTP_INVOKE_ALLOWED_HOSTS');
    expect((await runsOf(id)).map((r) => [r.attempt, r.outcome])).toEqual([[1, 'dead']]);
    expect(hits.filter((h) => h.path.includes('from=elsewhere'))).toEqual([]);
    const job = await t.db.collection('agendaJobs').findOne({ _id: new ObjectId(id) });
    expect(job?.nextRunAt).toBeNull();
  });

  it('refuses to enqueue a payload without a url, naming the field', async () => {
    const before = await t.db.collection('agendaJobs').countDocuments({});
    const refused = engine.enqueue('http.invoke', { method: 'GET' });
    await expect(refused).rejects.toBeInstanceOf(PayloadError);
    await expect(refused).rejects.toThrow(/^url: /);
    expect(await t.db.collection('agendaJobs').countDocuments({})).toBe(before);
  });
});
