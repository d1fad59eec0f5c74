/** `dlq list`, `dlq show` and `dlq export` show dead letters masked; the stored entry keeps its real payload. */
import { beforeAll, describe, expect, it } from 'vitest';
import { asUser, startTestApp, type TestApp } from '../support/app.ts';
import { eventually } from '../support/engine.ts';
import { expectNoSecrets, partnerJob, partnerPayload, rendered } from './partner.ts';

let app: TestApp;
let deadLetterId: string;

beforeAll(async () => {
  app = await startTestApp({ extraJobs: [partnerJob] });
  const { id } = await app.ops.jobs.run('test.partner', partnerPayload());
  const d = await eventually(async () => (await app.t.db.collection('deadLetters').findOne({ jobId: id })) ?? undefined, 'the dead letter');
  deadLetterId = String(d._id);
});

describe('dead-letter views mask secrets', () => {
  it('dlq list: the error and the payload summary', async () => {
    const r = await app.dispatcher.run('dlq list --job test.partner', asUser('viewer'));
    expectNoSecrets(rendered(r.reply));
    const [item] = (r.reply.data as { items: Array<{ error: string; payloadSummary: string }> }).items;
    expect(item.error).toContain('Authorization: [redacted]');
    expect(item.payloadSummary).toMatch(/^\{"url":"https:\/\/partner\.example\/orders","headers":\{"authorization":"\[redacted\]"/);
  });

  it('dlq show: payload, error and stack head; the stored entry is untouched', async () => {
    const r = await app.dispatcher.run(`dlq show ${deadLetterId}`, asUser('viewer'));
    expect(r.status).toBe('ok');
    expectNoSecrets(rendered(r.reply));
    const data = r.reply.data as { payload: any; error: string; stackHead: string };
    expect(data.payload.headers).toEqual({ authorization: '[redacted]', 'x-api-key': '[redacted]', 'x-partner-sig': '[redacted]', accept: 'application/json' });
    expect(data.payload.account).toBe('[redacted]');
    expect(data.stackHead).toContain('cookie: [redacted]');
    const stored = await app.t.db.collection('deadLetters').findOne({ jobName: 'test.partner' });
    expect(stored?.payload).toEqual(partnerPayload());
  });

  it('dlq export: the CSV error and payload columns', async () => {
    const r = await app.dispatcher.run('dlq export --job test.partner', asUser('viewer'));
    let csv = '';
    for await (const line of r.reply.file!.lines()) csv += line;
    expect(csv.split('\r\n').filter(Boolean)).toHaveLength(2);
    expect(csv).toContain('""x-partner-sig"":""[redacted]""');
    expect(csv).toContain('""account"":""[redacted]""');
    expectNoSecrets(csv);
  });
});
