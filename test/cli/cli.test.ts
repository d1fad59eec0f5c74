/** Every command end to end through the real CLI process, against the test database. */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { ObjectId } from 'mongodb';
import { startTestApp, type TestApp } from '../support/app.ts';
import { cliAgainst } from './spawn.ts';

let app: TestApp;
let server: http.Server;
let target: string;

const cli = cliAgainst(() => app);

async function seedDeadLetter(job = 'http.invoke', message = 'HTTP 500: "oops", retry later'): Promise<string> {
  const now = new Date();
  const res = await app.t.db.collection('deadLetters').insertOne({
    jobId: new ObjectId().toHexString(),
    generation: 0,
    jobName: job,
    payload: { url: `${target}/ok` },
    error: { message, class: 'HttpStatusError' },
    attempts: 5,
    reason: 'retries_exhausted',
    firstFailedAt: now,
    lastFailedAt: now,
    status: 'pending',
    createdAt: now,
  });
  return String(res.insertedId);
}

beforeAll(async () => {
  app = await startTestApp();
  server = http.createServer((req, res) => {
    res.writeHead(req.url === '/ok' ? 200 : 500);
    res.end(req.url === '/ok' ? 'fine' : 'broken');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  target = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));

// Each test spawns several CLI processes (Node start, type stripping, connect): minutes on a loaded machine.
describe('switchboard CLI', { timeout: 180_000 }, () => {
  it('status --json has the contract shape', async () => {
    const r = await cli(['--json', 'status']);
    expect(r.code).toBe(0);
    expect(Object.keys(r.json).sort()).toEqual(expect.arrayContaining(['breakers', 'dlq', 'jobs', 'killSwitch', 'pausedJobs']));
    expect(r.json.killSwitch).toEqual({ active: false, reason: null, by: null, at: null });
    expect(Date.now() - Date.parse(r.json.at)).toBeLessThan(60_000); // when the numbers were read
    expect(r.json.dlq).toEqual({ pending: 0, retry_scheduled: 0 });
    expect(r.json.jobs.find((j: { job: string }) => j.job === 'http.invoke')).toMatchObject({ queued: 0, running: 0, scheduled: 0, failedLastHour: 0 });
  });

  it('jobs run validates the payload (exit 2, naming the field) and runs with --wait', async () => {
    const bad = await cli(['jobs', 'run', 'http.invoke', '{"method":"GET"}']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('url');
    const ok = await cli(['--json', 'jobs', 'run', 'http.invoke', JSON.stringify({ url: `${target}/ok`, method: 'GET' }), '--wait']);
    expect(ok.code).toBe(0);
    expect(ok.json).toMatchObject({ job: 'http.invoke', outcome: 'success', counts: { requests: 1 }, error: null });
    expect(ok.json.id).toMatch(/^[0-9a-f]{24}$/);
    const listed = await cli(['--json', 'jobs', 'list', '--job', 'http.invoke', '--state', 'completed']);
    expect(listed.json.items.map((i: { id: string }) => i.id)).toContain(ok.json.id);
    expect(listed.json.items[0]).toEqual(expect.objectContaining({ job: 'http.invoke', state: 'completed', failCount: 0, lastError: null }));
    const shown = await cli(['--json', 'jobs', 'show', ok.json.id]);
    expect(shown.json).toMatchObject({ id: ok.json.id, state: 'completed', payload: { url: `${target}/ok` } });
  });

  it('killswitch needs a reason both ways and reports the state', async () => {
    const noReason = await cli(['killswitch', 'on']);
    expect(noReason.code).toBe(2);
    expect(noReason.stderr).toContain('--reason');
    const on = await cli(['--json', 'killswitch', 'on', '--reason', 'provider outage']);
    expect(on.json).toMatchObject({ active: true, reason: 'provider outage' });
    expect(on.json.by).toBeTruthy();
    const status = await cli(['--json', 'status']);
    expect(status.json.killSwitch.active).toBe(true);
    const off = await cli(['--json', 'killswitch', 'off', '--reason=recovered']);
    expect(off.json).toMatchObject({ active: false, reason: 'recovered' });
  });

  it('dlq list, show, retry, delete and export', async () => {
    const a = await seedDeadLetter();
    const b = await seedDeadLetter('http.invoke', 'line one\nline "two"');
    const list = await cli(['--json', 'dlq', 'list', '--job', 'http.invoke']);
    expect(list.code).toBe(0);
    expect(list.json.total).toBeGreaterThanOrEqual(2);
    expect(Object.keys(list.json.items[0])).toEqual(expect.arrayContaining(['id', 'job', 'status', 'attempts', 'error', 'firstFailedAt', 'lastFailedAt', 'payloadSummary']));
    const show = await cli(['--json', 'dlq', 'show', a]);
    expect(show.json).toMatchObject({ id: a, job: 'http.invoke', attempts: 5, payload: { url: `${target}/ok` } });
    const csv = await cli(['dlq', 'export', '--job', 'http.invoke']);
    expect(csv.stdout.split('\r\n')[0]).toBe('id,job,status,attempts,error_class,error,first_failed_at,last_failed_at,payload');
    expect(csv.stdout).toContain('"line one\nline ""two"""');
    expect(csv.stdout.trimEnd().split('\r\n').length).toBeGreaterThanOrEqual(1 + list.json.total);
    const asJson = await cli(['--json', 'dlq', 'export', '--job', 'http.invoke']);
    expect(asJson.json.rows).toBe(list.json.total);
    expect(asJson.json.csv).toBe(csv.stdout);
    const retry = await cli(['--json', 'dlq', 'retry', a]);
    expect(retry.json).toEqual({ retried: [a], skipped: [] });
    const again = await cli(['--json', 'dlq', 'retry', a]);
    expect(again.code).toBe(1); // nothing was retried
    expect(again.json).toEqual({ retried: [], skipped: [{ id: a, reason: expect.stringMatching(/^already (retry_scheduled|retried)$/) }], error: expect.stringContaining('Retried 0'), status: 'error' });
    const del = await cli(['--json', 'dlq', 'delete', b]);
    expect(del.json).toEqual({ deleted: [b], skipped: [] });
    const usage = await cli(['dlq', 'retry']);
    expect(usage.code).toBe(2);
  });

  it('jobs pause and resume a type; cancel removes a scheduled job', async () => {
    const paused = await cli(['--json', 'jobs', 'pause', 'http.invoke', '--reason', 'partner migration']);
    expect(paused.json).toMatchObject({ job: 'http.invoke', paused: true, changed: true });
    expect((await cli(['--json', 'status'])).json.pausedJobs).toEqual(['http.invoke']);
    const resumed = await cli(['--json', 'jobs', 'resume', 'http.invoke', '--reason', 'done']);
    expect(resumed.json).toMatchObject({ paused: false, changed: true });
    const later = await cli(['--json', 'jobs', 'run', 'http.invoke', JSON.stringify({ url: `${target}/ok` }), '--at', new Date(Date.now() + 3600_000).toISOString()]);
    expect(later.json.status).toBe('scheduled');
    const cancel = await cli(['--json', 'jobs', 'cancel', later.json.id]);
    expect(cancel.json).toEqual({ id: later.json.id, job: 'http.invoke' });
    const gone = await cli(['jobs', 'show', later.json.id]);
    expect(gone.code).toBe(1);
    expect(gone.stderr).toContain(`No job ${later.json.id}.`);
  });

  it('audit lists what the CLI did, as the local admin', async () => {
    const r = await cli(['--json', 'audit', '--action', 'killswitch_on', '--limit', '5']);
    expect(r.json.items[0]).toMatchObject({ action: 'killswitch_on', outcome: 'ok', reason: 'provider outage', actor: { platform: 'cli' } });
    const denied = await cli(['--json', 'audit', '--limit', '50']);
    expect(denied.json.items.some((i: { action: string; outcome: string }) => i.action === 'killswitch_on' && i.outcome === 'error')).toBe(true);
  });

  it('help, unknown commands and bad configuration', async () => {
    const help = await cli(['help']);
    expect(help.code).toBe(0);
    for (const c of ['status', 'jobs run', 'dlq retry', 'killswitch on', 'audit']) expect(help.stdout).toContain(c);
    const unknown = await cli(['frobnicate']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('Unknown command');
    const bad = await cli(['status'], { CB_FAILURE_THRESHOLD: 'many' });
    expect(bad.code).toBe(2);
    expect(bad.stderr.trim().split('\n')).toEqual(['Configuration error:', '  CB_FAILURE_THRESHOLD: expected a whole number (got "many")']);
  });
});
