/**
 * Closed dead letters leave the open queue for `deadLetterHistory`, so they never slow its
 * counts; `dlq show`, `dlq list --status`, `dlq export`, retry/delete answers and the start-up
 * reconciler still find them there.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { ObjectId } from 'mongodb';
import type { DeadLetterDoc } from '../../src/db/collections.ts';
import { reconcileDeadLetters } from '../../src/engine/reconcile.ts';
import type { StatusData } from '../../src/ops/status.ts';
import { moveClosedDeadLetters } from '../../jobs/maintenanceCleanup.ts';
import { asUser, startTestApp, type TestApp } from '../support/app.ts';

let app: TestApp;
const admin = asUser('admin');

beforeAll(async () => {
  app = await startTestApp({ work: false });
});

/** A pending dead letter of a dead one-off job (as the engine leaves both). */
async function deadJob(job: string, minutesAgo: number): Promise<{ id: string; jobId: string }> {
  const at = new Date(Date.now() - minutesAgo * 60_000);
  const jobId = new ObjectId();
  await app.t.db.collection('agendaJobs').insertOne({ _id: jobId, name: job, data: {}, nextRunAt: null, lockedAt: null, failCount: 3, failReason: 'boom', failedAt: at });
  const res = await app.engine.cols.deadLetters.insertOne({
    jobId: String(jobId),
    generation: 0,
    jobName: job,
    payload: { n: minutesAgo },
    error: { message: 'boom', class: 'Error' },
    attempts: 3,
    reason: 'retries_exhausted',
    firstFailedAt: at,
    lastFailedAt: at,
    status: 'pending',
    createdAt: at,
  } as DeadLetterDoc);
  return { id: String(res.insertedId), jobId: String(jobId) };
}

const data = async <T>(text: string): Promise<T> => {
  const r = await app.dispatcher.run(text, admin);
  expect(r.status, r.reply.text).toBe('ok');
  return r.reply.data as T;
};
const refused = async <T>(text: string): Promise<T> => {
  const r = await app.dispatcher.run(text, admin);
  expect(r.status, r.reply.text).toBe('error');
  return r.reply.data as T;
};

describe('closed dead letters', () => {
  it('dlq delete moves the entry to the history, where show, list, export and the answers find it', async () => {
    const a = await deadJob('hist.del', 3);
    const b = await deadJob('hist.del', 2);
    expect(await data('dlq delete ' + a.id)).toEqual({ deleted: [a.id], skipped: [] });
    expect(await app.engine.cols.deadLetters.countDocuments({ jobName: 'hist.del' })).toBe(1);
    expect(await app.engine.cols.deadLetterHistory.findOne({ _id: new ObjectId(a.id) })).toMatchObject({ status: 'deleted', actedBy: admin.actor });

    expect(await data('dlq show ' + a.id)).toMatchObject({ id: a.id, status: 'deleted', payload: { n: 3 } });
    expect(await data('dlq list --job hist.del')).toMatchObject({ total: 1, items: [{ id: b.id, status: 'pending' }] });
    expect(await data('dlq list --job hist.del --status deleted')).toMatchObject({ total: 1, items: [{ id: a.id, status: 'deleted' }] });
    // Nothing acted on: the answer says why, and the command fails (exit 1).
    expect(await refused('dlq delete ' + a.id)).toEqual({ deleted: [], skipped: [{ id: a.id, reason: 'already deleted' }] });
    expect(await refused('dlq retry ' + a.id)).toEqual({ retried: [], skipped: [{ id: a.id, reason: 'already deleted' }] });
    const csv = await app.dispatcher.run('dlq export --job hist.del --status deleted', admin);
    const lines: string[] = [];
    for await (const line of csv.reply.file!.lines()) lines.push(line);
    expect(lines).toHaveLength(2);
    expect(lines[1]).toContain(a.id);

    // The reconciler at start-up does not bring a deleted entry's dead job back to the DLQ.
    await reconcileDeadLetters(app.engine.cols, app.engine.jobs);
    expect(await app.engine.cols.deadLetters.countDocuments({ jobId: a.jobId })).toBe(0);
    const status = await data<StatusData>('status');
    expect(status.dlq.pending).toBe(await app.engine.cols.deadLetters.countDocuments({ status: 'pending' }));
  });

  it('a retried entry closed in place is listed before and after maintenance moves it', async () => {
    const entries = [await deadJob('hist.retried', 10), await deadJob('hist.retried', 9), await deadJob('hist.retried', 8)];
    // As the engine closes an entry whose retried job succeeded.
    for (const e of entries) await app.engine.cols.deadLetters.updateOne({ _id: new ObjectId(e.id) }, { $set: { status: 'retried', actedAt: new Date() } });
    await moveClosedDeadLetters(app.t.db, { batchSize: 1, maxBatches: 1 });
    expect(await app.engine.cols.deadLetterHistory.countDocuments({ jobName: 'hist.retried' })).toBe(1);
    // One page cut from both places, newest failure first.
    const page1 = await data<{ items: Array<{ id: string }>; total: number }>('dlq list --job hist.retried --status retried --limit 2');
    const page2 = await data<{ items: Array<{ id: string }>; total: number }>('dlq list --job hist.retried --status retried --limit 2 --page 2');
    expect(page1.total).toBe(3);
    expect([...page1.items, ...page2.items].map((i) => i.id)).toEqual(entries.map((e) => e.id).reverse());

    await moveClosedDeadLetters(app.t.db, { batchSize: 10, maxBatches: 5 });
    expect(await app.engine.cols.deadLetters.countDocuments({ jobName: 'hist.retried' })).toBe(0);
    expect(await data('dlq show ' + entries[0].id)).toMatchObject({ status: 'retried' });
    expect(await data('dlq list --job hist.retried --status retried')).toMatchObject({ total: 3 });
  });
});
