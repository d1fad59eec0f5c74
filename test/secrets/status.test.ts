/**
 * `status` (a recurring job's last error) and `backfill status` (a backfill's error, waiting
 * reason and parameters) are masked in chat text and --json alike; the stored records are not.
 */
import { ObjectId } from 'mongodb';
import { beforeAll, describe, expect, it } from 'vitest';
import { backfillsCollection, type BackfillDoc } from '../../src/engine/backfillStore.ts';
import { asUser, startTestApp, type TestApp } from '../support/app.ts';
import { expectNoSecrets, jwt, partnerJob, rendered, SECRET } from './partner.ts';

let app: TestApp;
const leakyError = `partner refused (Authorization: Bearer ${SECRET.bearer}; cookie: sid=${SECRET.cookie}) ${jwt}`;

beforeAll(async () => {
  app = await startTestApp({ work: false, extraJobs: [partnerJob] });
});

describe('status masks secrets', () => {
  it('a recurring job\'s last error', async () => {
    await app.t.db.collection('agendaJobs').insertOne({
      name: 'test.partner',
      type: 'single',
      data: {},
      priority: 0,
      repeatInterval: '5 minutes',
      nextRunAt: new Date(Date.now() + 300_000),
      lastRunAt: new Date(),
      failCount: 1,
      failReason: leakyError,
    });
    const r = await app.dispatcher.run('status', asUser('viewer'));
    expect(r.status).toBe('ok');
    expectNoSecrets(rendered(r.reply));
    const recurring = (r.reply.data as { recurring: Array<{ job: string; lastError: string | null }> }).recurring.find((x) => x.job === 'test.partner');
    expect(recurring?.lastError).toBe('partner refused (Authorization: [redacted]; cookie: [redacted]) [redacted]');
    expect(r.reply.fields?.find((f) => f.label === '⟳ test.partner')?.value).toContain('last error: partner refused (Authorization: [redacted]');
  });
});

describe('backfill status masks secrets', () => {
  const id = new ObjectId().toHexString();
  beforeAll(async () => {
    const at = new Date();
    const doc: BackfillDoc = {
      _id: id,
      job: 'test.partner',
      // Key rules (token) and the job's secretFields (account), under params.
      params: { days: 3, token: SECRET.apiKey, account: { iban: SECRET.iban } },
      chunks: [1, 2, 3],
      total: 3,
      checkpoint: 1,
      done: 1,
      status: 'failed',
      startedAt: at,
      updatedAt: at,
      finishedAt: at,
      by: { platform: 'slack', id: 'U_OP', name: 'op' },
      error: { class: 'HttpStatusError', message: leakyError },
    };
    await backfillsCollection(app.t.db).insertOne(doc);
  });

  it('one backfill: error and parameters, in text, fields and data', async () => {
    const r = await app.dispatcher.run(`backfill status ${id}`, asUser('viewer'));
    expect(r.status, r.reply.text).toBe('ok');
    expectNoSecrets(rendered(r.reply));
    const data = r.reply.data as { error: string; params: unknown };
    expect(data.error).toBe('partner refused (Authorization: [redacted]; cookie: [redacted]) [redacted]');
    expect(data.params).toEqual({ days: 3, token: '[redacted]', account: '[redacted]' });
    expect(r.reply.text).toContain('error: partner refused (Authorization: [redacted]');
    // Only the view is masked.
    expect((await backfillsCollection(app.t.db).findOne({ _id: id }))?.params.token).toBe(SECRET.apiKey);
  });

  it('the list of recent backfills (--json data)', async () => {
    const r = await app.dispatcher.run('backfill status', asUser('viewer'));
    expect(r.status).toBe('ok');
    expectNoSecrets(rendered(r.reply));
    const items = (r.reply.data as { items: Array<{ id: string; error: string }> }).items;
    expect(items.find((b) => b.id === id)?.error).toContain('Authorization: [redacted]');
  });
});
