/** `maintenance.cleanup` run through a real engine over seeded old and new documents. */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { ObjectId, type Document } from 'mongodb';
import { useTestDb, type TestDb } from '../support/mongo.ts';
import { startEngine, nextEvent } from '../support/engine.ts';
import { maintenanceCleanupJob, RETENTION_SETTING } from '../../jobs/maintenanceCleanup.ts';
import { RETENTION } from '../../src/app/schema.ts';
import { deleteInBatches } from '../../src/db/retention.ts';
import { configKey } from '../../src/engine/settings.ts';
import type { JobRunDoc } from '../../src/db/collections.ts';
import { newRollup } from '../../src/engine/rollups.ts';
import type { Engine } from '../../src/engine/engine.ts';

const DAY = 24 * 3600_000;
const ago = (ms: number) => new Date(Date.now() - ms);

let t: TestDb;
let engine: Engine;

beforeAll(async () => {
  t = await useTestDb('cleanup');
  // Batches of 2, so every collection with more than two old documents takes several.
  engine = await startEngine(t.db, { jobs: [maintenanceCleanupJob({ retentionDays: 30, rules: RETENTION, batchSize: 2 })] });
});
// Registered while the file is collected: hooks registered in beforeAll do not run.
afterAll(async () => {
  await engine?.stop(500);
  await t?.db.dropDatabase().catch(() => {});
  await t?.client.close();
});

/** Enqueues one cleanup and resolves with its run record. */
async function cleanupOnce(): Promise<JobRunDoc> {
  const done = nextEvent<JobRunDoc>(engine, 'run', (r) => r.jobName === 'maintenance.cleanup');
  const { id } = await engine.enqueue('maintenance.cleanup', {});
  const run = await done;
  expect(run).toMatchObject({ jobId: id, outcome: 'success' });
  return run;
}

const seedRun = (tag: string, startedAt: Date) => ({
  _id: new ObjectId(),
  jobId: tag,
  jobName: 'seed.job',
  attempt: 1,
  startedAt,
  outcome: 'success',
  counts: {},
  telemetry: [],
  worker: 'seed',
  timeoutMs: 1000,
});

/** A one-off job as Agenda leaves it once finished, with overrides. */
const seedJob = (tag: string, fields: Document) => ({
  name: 'seed.job',
  data: { tag },
  type: 'normal',
  priority: 0,
  nextRunAt: null,
  lockedAt: null,
  lastRunAt: fields.lastFinishedAt ?? null,
  failCount: null,
  failReason: null,
  repeatInterval: null,
  repeatAt: null,
  ...fields,
});

const tags = async (name: string, filter: Document = {}) =>
  (await t.db.collection(name).find(filter).toArray()).map((d) => String(d.data?.tag ?? d.jobId ?? d._id)).sort();

describe('maintenance.cleanup', () => {
  it('deletes exactly the old runs, claims, expired chat actions and finished one-off jobs', async () => {
    await t.db.collection('jobRuns').insertMany([
      ...['old-1', 'old-2', 'old-3', 'old-4', 'old-5'].map((tag, i) => seedRun(tag, ago(31 * DAY + i * 1000))),
      seedRun('new-1', ago(29 * DAY)),
      seedRun('new-2', ago(3600_000)),
    ] as never[]);
    await t.db.collection('jobClaims').insertMany([
      { _id: 'old-claim', key: 'old-claim', jobId: 'x', worker: 'w', at: ago(DAY + 60_000) },
      { _id: 'new-claim', key: 'new-claim', jobId: 'y', worker: 'w', at: ago(23 * 3600_000) },
    ] as never[]);
    await t.db.collection('chatActions').insertMany([
      { _id: 'expired-long-ago', kind: 'action', command: 'status', createdAt: ago(9 * DAY), expiresAt: ago(2 * DAY) },
      { _id: 'used:expired-long-ago', kind: 'use', createdAt: ago(8 * DAY), expiresAt: ago(DAY + 60_000) },
      { _id: 'expired-recently', kind: 'action', command: 'status', createdAt: ago(7 * DAY), expiresAt: ago(3600_000) },
      { _id: 'valid', kind: 'action', command: 'status', createdAt: new Date(), expiresAt: new Date(Date.now() + DAY) },
    ] as never[]);
    await t.db.collection('agendaJobs').insertMany([
      seedJob('done-old', { lastFinishedAt: ago(31 * DAY) }),
      seedJob('done-old-after-retries', { lastFinishedAt: ago(40 * DAY), failCount: 0 }),
      seedJob('done-old-no-failcount', { lastFinishedAt: ago(35 * DAY), failCount: undefined }),
      seedJob('dead-old', { lastFinishedAt: ago(31 * DAY), failCount: 3, failReason: 'x', failedAt: ago(31 * DAY) }),
      seedJob('done-recently', { lastFinishedAt: ago(29 * DAY) }),
      seedJob('locked-old', { lastFinishedAt: ago(31 * DAY), lockedAt: ago(60_000) }),
      seedJob('scheduled', { lastFinishedAt: ago(31 * DAY), nextRunAt: new Date(Date.now() + DAY) }),
      seedJob('recurring-ended', { lastFinishedAt: ago(31 * DAY), repeatInterval: '1 hour' }),
    ]);
    // One-off jobs the engine moved out of the live set after their success (retirement.ts).
    await t.db.collection('finishedJobs').insertMany([seedJob('retired-old', { lastFinishedAt: ago(31 * DAY) }), seedJob('retired-recently', { lastFinishedAt: ago(29 * DAY) })]);

    await t.db.collection('rateWindows').insertMany([
      { _id: 'job:a@1#0', group: 'job:a@1', holder: 'x', at: ago(DAY + 60_000), expiresAt: ago(DAY) },
      { _id: 'job:a@2#0', group: 'job:a@2', holder: 'y', at: ago(60_000), expiresAt: new Date(Date.now() + 60_000) },
    ] as never[]);
    await t.db.collection('concurrencySlots').insertMany([
      { _id: 'job:a#0', group: 'job:a', holder: 'x', at: ago(3 * DAY), expiresAt: ago(2 * DAY) },
      { _id: 'job:a#1', group: 'job:a', holder: 'y', at: ago(60_000), expiresAt: new Date(Date.now() + 60_000) },
    ] as never[]);
    await t.db.collection('dedupeKeys').insertMany([
      { _id: 'a:old', jobId: 'x', at: ago(31 * DAY) },
      { _id: 'a:new', jobId: 'y', at: ago(29 * DAY) },
    ] as never[]);
    await t.db.collection('runRollupsHourly').insertMany([
      { _id: 'seed.job|old|w', job: 'seed.job', minute: ago(31 * DAY), worker: 'w', ok: 1 },
      { _id: 'seed.job|older|w', job: 'seed.job', minute: ago(40 * DAY), worker: 'w', ok: 1 },
      { _id: 'seed.job|new|w', job: 'seed.job', minute: ago(29 * DAY), worker: 'w', ok: 1 },
    ] as never[]);
    // Minutes of an hour four hours ago are folded into it; the last hour's minutes stay.
    const hourStart = Math.floor((Date.now() - 4 * 3600_000) / 3600_000) * 3600_000;
    const minute = (job: string, t: number, ok: number) => ({ ...newRollup(job, new Date(t), 'w'), ok, started: ok, updatedAt: new Date() });
    await t.db.collection('runRollups').insertMany([
      minute('seed.job', hourStart + 60_000, 2),
      minute('seed.job', hourStart + 59 * 60_000, 3),
      minute('seed.other', hourStart, 1),
      minute('seed.job', Math.floor(Date.now() / 60_000) * 60_000 - 30 * 60_000, 4),
    ] as never[]);
    // Closed dead letters still in the open queue (a retried job's success closes its entry in
    // place; one was copied to the history already when its move was cut short).
    const dl = (tag: string, status: string) => ({ _id: new ObjectId(), jobId: tag, generation: 0, jobName: 'seed.job', payload: {}, error: { message: 'x', class: 'Error' }, attempts: 1, status, lastFailedAt: ago(DAY), createdAt: ago(DAY) });
    const halfMoved = dl('dl-half-moved', 'deleted');
    await t.db.collection('deadLetters').insertMany([dl('dl-pending', 'pending'), dl('dl-scheduled', 'retry_scheduled'), dl('dl-retried', 'retried'), dl('dl-deleted', 'deleted'), halfMoved] as never[]);
    await t.db.collection('deadLetterHistory').insertOne(halfMoved as never);
    await t.db.collection('alertNotices').insertMany([
      { _id: 'old-notice', key: 'k', episode: 1, kind: 'opened', at: ago(31 * DAY) },
      { _id: 'new-notice', key: 'k', episode: 2, kind: 'opened', at: ago(DAY) },
    ] as never[]);

    // The notifiers' refs of alerts untouched for the run retention go; recent ones stay.
    await t.db.collection('slackAlertThreads').insertMany([
      { _id: 'old-thread' as never, channel: 'C1', ts: '1.1', updatedAt: ago(31 * DAY) },
      { _id: 'new-thread' as never, channel: 'C1', ts: '2.2', updatedAt: ago(DAY) },
    ]);
    await t.db.collection('telegramAlertMessages').insertMany([
      { _id: 'old-message' as never, chatId: 1, messageId: 1, lastEditAt: ago(31 * DAY) },
      { _id: 'new-message' as never, chatId: 1, messageId: 2, lastEditAt: ago(DAY) },
    ]);
    const run = await cleanupOnce();
    expect(run.counts).toEqual({
      jobRuns: 5,
      jobClaims: 1,
      chatActions: 2,
      rateWindows: 1,
      concurrencySlots: 1,
      breakerTrials: 0,
      dedupeKeys: 1,
      alertNotices: 1,
      alertControls: 0,
      agendaJobs: 3,
      finishedJobs: 1,
      runRollupsHourly: 2,
      runRollups: 0,
      rollupMinutesFolded: 3,
      deadLetterHistory: 3,
      slackAlertThreads: 1,
      telegramAlertMessages: 1,
    });
    expect(await t.db.collection('slackAlertThreads').find({}).map((d) => d._id).toArray()).toEqual(['new-thread']);
    expect(await t.db.collection('telegramAlertMessages').find({}).map((d) => d._id).toArray()).toEqual(['new-message']);
    expect(await t.db.collection('runRollups').countDocuments({ job: { $in: ['seed.job', 'seed.other'] } })).toBe(1);
    const hours = await t.db.collection('runRollupsHourly').find({ minute: new Date(hourStart) }).sort({ job: 1 }).toArray();
    expect(hours.map((h) => [h.job, h.ok, h.started])).toEqual([['seed.job', 5, 5], ['seed.other', 1, 1]]);
    expect(await tags('deadLetters')).toEqual(['dl-pending', 'dl-scheduled']);
    expect(await tags('deadLetterHistory')).toEqual(['dl-deleted', 'dl-half-moved', 'dl-retried']);
    expect(await t.db.collection('rateWindows').find({}).map((d) => d._id).toArray()).toEqual(['job:a@2#0']);
    expect(await t.db.collection('concurrencySlots').find({}).map((d) => d._id).toArray()).toEqual(['job:a#1']);
    expect(await t.db.collection('dedupeKeys').find({}).map((d) => d._id).toArray()).toEqual(['a:new']);
    expect(await t.db.collection('alertNotices').find({}).map((d) => d._id).toArray()).toEqual(['new-notice']);
    expect(await tags('jobRuns', { jobName: 'seed.job' })).toEqual(['new-1', 'new-2']);
    expect(await tags('jobClaims', { worker: 'w' })).toEqual(['y']);
    expect(await tags('chatActions')).toEqual(['expired-recently', 'valid']);
    expect(await tags('agendaJobs', { name: 'seed.job' })).toEqual(['dead-old', 'done-recently', 'locked-old', 'recurring-ended', 'scheduled']);
    expect(await tags('finishedJobs', { name: 'seed.job' })).toEqual(['retired-recently']);
    // Its own records are recent: kept.
    expect(await t.db.collection('jobRuns').countDocuments({ jobName: 'maintenance.cleanup' })).toBe(1);

    // A second run finds nothing more.
    const again = await cleanupOnce();
    expect(Object.values(again.counts).every((n) => n === 0)).toBe(true);
  });

  it('uses the runtime setting runs.retention_days over the configured retention', async () => {
    await t.db.collection('jobRuns').insertMany([seedRun('days-15', ago(15 * DAY)), seedRun('days-5', ago(5 * DAY))] as never[]);
    await t.db.collection('agendaJobs').insertMany([
      seedJob('done-15-days-ago', { lastFinishedAt: ago(15 * DAY) }),
      seedJob('done-5-days-ago', { lastFinishedAt: ago(5 * DAY) }),
    ]);
    await engine.settings.set(configKey(RETENTION_SETTING), 10);
    try {
      const run = await cleanupOnce();
      // 10 days: the 15-day-old ones, and the 29-day-old ones the 30-day default kept.
      expect(run.counts).toMatchObject({ jobRuns: 2, agendaJobs: 2 });
    } finally {
      await engine.settings.unset(configKey(RETENTION_SETTING));
    }
    expect(await tags('jobRuns', { jobName: 'seed.job' })).toEqual(['days-5', 'new-2']);
    expect(await tags('agendaJobs', { name: 'seed.job' })).toEqual(['dead-old', 'done-5-days-ago', 'locked-old', 'recurring-ended', 'scheduled']);
  });

  it('stops after maxBatches, leaving the rest for the next run', async () => {
    const col = t.db.collection<{ _id: number; old: boolean }>('batchProbe');
    await col.insertMany(Array.from({ length: 7 }, (_, i) => ({ _id: i, old: i < 6 })));
    expect(await deleteInBatches(col, { old: true }, { batchSize: 2, maxBatches: 2 })).toBe(4);
    expect(await col.countDocuments({ old: true })).toBe(2);
    expect(await deleteInBatches(col, { old: true }, { batchSize: 2, maxBatches: 5 })).toBe(2);
    expect(await col.find({}).map((d) => d._id).toArray()).toEqual([6]);
  });
});
