/** Masking is only in views: `dlq retry` puts the real payload back, and the handler gets the real secrets. */
import { ObjectId } from 'mongodb';
import { beforeAll, describe, expect, it } from 'vitest';
import { asUser, startTestApp, type TestApp } from '../support/app.ts';
import { eventually } from '../support/engine.ts';
import { partnerJob, partnerPayload, received } from './partner.ts';

let app: TestApp;

beforeAll(async () => {
  app = await startTestApp({ extraJobs: [partnerJob] });
});

/** Runs the partner job until it is dead-lettered (its first execution fails); the entry's id and job id. */
async function deadLetter(): Promise<{ id: string; jobId: string }> {
  const { id: jobId } = await app.ops.jobs.run('test.partner', partnerPayload());
  const d = await eventually(async () => (await app.t.db.collection('deadLetters').findOne({ jobId })) ?? undefined, 'the dead letter');
  return { id: String(d._id), jobId };
}

/** The payloads the handler was called with for a job id, once there are `n`. */
const receivedBy = (jobId: string, n: number) =>
  eventually(async () => {
    const docs = await received(app.t.db).find({ jobId }).sort({ at: 1 }).toArray();
    return docs.length >= n && docs.map((d) => d.payload);
  }, `${n} executions of ${jobId}`);

describe('dlq retry re-enqueues the real payload', () => {
  it('requeues the job document in place with its secrets, and the handler gets them', async () => {
    const { id, jobId } = await deadLetter();
    const r = await app.dispatcher.run(`dlq retry ${id}`, asUser('admin'));
    expect(r.reply.data).toEqual({ retried: [id], skipped: [] });
    const job = await app.t.db.collection('agendaJobs').findOne({ _id: new ObjectId(jobId) });
    expect(job?.data).toEqual(partnerPayload());
    const payloads = await receivedBy(jobId, 2);
    expect(payloads[1]).toEqual(partnerPayload());
  });

  it('enqueues a new job document with the secrets when the original is gone', async () => {
    const { id, jobId } = await deadLetter();
    await app.t.db.collection('agendaJobs').deleteOne({ _id: new ObjectId(jobId) });
    await app.dispatcher.run(`dlq retry ${id}`, asUser('admin'));
    const entry = await app.t.db.collection('deadLetters').findOne({ _id: new ObjectId(id) });
    expect(entry?.retryJobId).toBeTruthy();
    const job = await app.t.db.collection('agendaJobs').findOne({ _id: new ObjectId(entry!.retryJobId) });
    expect(job?.data).toEqual(partnerPayload());
    const [payload] = await receivedBy(entry!.retryJobId, 1);
    expect(payload).toEqual(partnerPayload());
  });
});
