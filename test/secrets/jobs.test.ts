/** `jobs show`, `jobs list` and `jobs run --wait` show payloads, errors and runs masked, in chat text and --json alike. */
import { execFile } from 'node:child_process';
import { beforeAll, describe, expect, it } from 'vitest';
import { asUser, startTestApp, type TestApp } from '../support/app.ts';
import { eventually } from '../support/engine.ts';
import { expectNoSecrets, partnerJob, partnerPayload, rendered, SECRET } from './partner.ts';

let app: TestApp;
let failedId: string;

beforeAll(async () => {
  app = await startTestApp({ extraJobs: [partnerJob] });
  failedId = (await app.ops.jobs.run('test.partner', partnerPayload())).id;
  await eventually(() => app.t.db.collection('deadLetters').findOne({ jobId: failedId }), 'the partner job to fail');
  // The DLQ entry is written before the job's failure is saved: wait for both.
  await eventually(async () => (await app.t.db.collection('agendaJobs').findOne({ name: 'test.partner', failReason: { $ne: null } })) ?? undefined, 'the failure to be saved');
});

describe('jobs views mask secrets', () => {
  it('jobs show: payload (key rules and the job\'s secretFields), last error and run errors', async () => {
    const r = await app.dispatcher.run(`jobs show ${failedId}`, asUser('viewer'));
    expect(r.status).toBe('ok');
    expectNoSecrets(rendered(r.reply));
    const data = r.reply.data as { payload: any; lastError: string; runs: Array<{ error?: { message: string; stackHead?: string } }> };
    expect(data.payload).toEqual({
      url: 'https://partner.example/orders',
      headers: { authorization: '[redacted]', 'x-api-key': '[redacted]', 'x-partner-sig': '[redacted]', accept: 'application/json' },
      account: '[redacted]',
    });
    expect(data.lastError).toContain('partner refused POST https://partner.example/orders');
    expect(data.runs[0].error?.message).toContain('Authorization: [redacted]');
    expect(data.runs[0].error?.stackHead).toContain('cookie: [redacted]');
    // The stored job keeps its real payload: only the view is masked.
    const stored = await app.t.db.collection('agendaJobs').findOne({ name: 'test.partner' });
    expect(stored?.data).toEqual(partnerPayload());
  });

  it('jobs list: the last error column and items', async () => {
    const r = await app.dispatcher.run('jobs list --job test.partner', asUser('viewer'));
    expect((r.reply.data as { items: Array<{ lastError: string }> }).items[0].lastError).toContain('cookie: [redacted]');
    expectNoSecrets(rendered(r.reply));
  });

  it('jobs run --wait: the failed attempt\'s error, and the audit entry\'s payload', async () => {
    const payload = JSON.stringify(partnerPayload());
    const r = await app.dispatcher.run(`jobs run test.partner ${payload} --wait --timeout 60s`, asUser('operator', 'U_RUNNER'));
    expect(r.status).toBe('ok');
    expect((r.reply.data as { outcome: string }).outcome).toBe('dead');
    expectNoSecrets(rendered(r.reply));
    const audit = await app.t.db.collection('auditLog').findOne({ action: 'jobs_run', 'actor.id': 'U_RUNNER' });
    expect(audit?.detail?.payload?.headers?.authorization).toBe('[redacted]');
    expectNoSecrets(JSON.stringify(audit?.detail));
  });

  it('the CLI\'s --json jobs show of an http.invoke job (the issue\'s case)', { timeout: 120_000 }, async () => {
    const { id } = await app.ops.jobs.run('http.invoke', { url: 'https://partner.example/hook', headers: { authorization: `Bearer ${SECRET.bearer}`, 'x-api-key': SECRET.apiKey } }, { at: new Date(Date.now() + 3_600_000) });
    const stdout = await new Promise<string>((resolve, reject) =>
      execFile(process.execPath, ['src/cli.ts', '--json', 'jobs', 'show', id], { env: { ...process.env, MONGODB_URL: `${app.t.url}${app.t.dbName}`, LOG_LEVEL: 'error' }, timeout: 90_000 }, (err, out, stderr) =>
        err ? reject(new Error(`${err.message}\n${stderr}`)) : resolve(out),
      ),
    );
    expectNoSecrets(stdout);
    expect(JSON.parse(stdout).payload.headers).toEqual({ authorization: '[redacted]', 'x-api-key': '[redacted]' });
  });
});
