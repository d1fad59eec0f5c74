/** Each rule against seeded runs, jobs, dead letters and breakers in the real database: breach, no breach, boundary. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ObjectId, type Db } from 'mongodb';
import { z } from 'zod';
import backlog from '../../alerts/backlog.ts';
import breakerOpen from '../../alerts/breakerOpen.ts';
import dlqGrowth from '../../alerts/dlqGrowth.ts';
import failureCount from '../../alerts/failureCount.ts';
import failureRate from '../../alerts/failureRate.ts';
import staleRecurring, { intervalMs } from '../../alerts/staleRecurring.ts';
import stuck from '../../alerts/stuck.ts';
import { builtinRules as alertRules } from '../../alerts/index.ts';
import { alertParamDecl, alertParams, ruleParams } from '../../src/alerting/rules.ts';
import { collections, type AgendaJobDoc } from '../../src/db/collections.ts';
import { defineJob } from '../../src/engine/defineJob.ts';
import { useTestDb, type TestDb } from '../support/mongo.ts';
import { minutes, paramsOf, ruleContext, seedRuns } from './helpers.ts';

const now = new Date(Math.floor(Date.now() / 1000) * 1000);
const ago = (ms: number) => new Date(now.getTime() - ms);
const subjects = (list: Array<{ subject: string }>) => list.map((b) => b.subject).sort();
let t: TestDb;
const made: Db[] = [];
beforeAll(async () => {
  t = await useTestDb('alr');
});
afterAll(async () => {
  for (const db of made) await db.dropDatabase().catch(() => {});
});
/** A fresh database per case, on the file's client. */
const fresh = async (): Promise<Db> => {
  const db = t.client.db(`${t.dbName}_${made.length}`);
  made.push(db);
  return db;
};
const job = (name: string, extra: Record<string, unknown> = {}) => defineJob({ name, payload: z.object({}), handler: async () => {}, ...extra });

function agendaJob(name: string, fields: Partial<AgendaJobDoc>): AgendaJobDoc {
  return { _id: new ObjectId(), name, data: {}, nextRunAt: null, lockedAt: null, ...fields };
}

describe('rule registry', () => {
  it('lists every rule with its parameters, defaults and descriptions for `config get`', () => {
    expect(alertRules.map((r) => r.name)).toEqual(['backlog', 'breaker-open', 'dlq-growth', 'failure-count', 'failure-rate', 'stale-recurring', 'stuck']);
    const params = alertParams(alertRules);
    expect(params.find((p) => p.key === 'alerts.failure-rate.threshold')).toMatchObject({ default: '0.05', description: expect.stringContaining('5 %') });
    expect(params.find((p) => p.key === 'alerts.failure-rate.window')).toMatchObject({ default: '15m' });
    expect(params.find((p) => p.key === 'alerts.backlog.enabled')).toMatchObject({ default: 'on' });
    expect(params.every((p) => p.description.length > 0)).toBe(true);
  });

  it('reads runtime values, falling back to the default for an invalid one', () => {
    const values: Record<string, unknown> = { 'alerts.failure-count.threshold': '3', 'alerts.failure-count.window': '30m', 'alerts.failure-count.enabled': 'off' };
    const { params, enabled } = ruleParams(failureCount, { config: (k: string) => values[k] as never });
    expect(params).toEqual({ threshold: 3, window: minutes(30) });
    expect(enabled).toBe(false);
    const bad = ruleParams(failureCount, { config: (k: string) => (k.endsWith('threshold') ? ('lots' as never) : undefined) });
    expect(bad.params.threshold).toBe(10);
  });
});

describe('failure-rate', () => {
  it('fires above 5 % with at least 20 attempts in 15 min, and not at the boundary', async () => {
    const db = await fresh();
    await seedRuns(db, 'rate.edge', 19, 'success', ago(minutes(1)));
    await seedRuns(db, 'rate.edge', 1, 'failed', ago(minutes(2)));
    await seedRuns(db, 'rate.high', 18, 'success', ago(minutes(1)));
    await seedRuns(db, 'rate.high', 1, 'failed', ago(minutes(3)));
    await seedRuns(db, 'rate.high', 1, 'dead', ago(minutes(14)));
    await seedRuns(db, 'rate.few', 9, 'success', ago(minutes(1)));
    await seedRuns(db, 'rate.few', 10, 'failed', ago(minutes(1)));
    await seedRuns(db, 'rate.old', 20, 'success', ago(minutes(1)));
    await seedRuns(db, 'rate.old', 10, 'failed', ago(minutes(16)));
    await seedRuns(db, 'rate.old', 5, 'running', ago(minutes(1)));
    const out = await failureRate.evaluate(ruleContext(db, now, paramsOf(failureRate)));
    expect(subjects(out)).toEqual(['rate.high']);
    expect(out[0]).toMatchObject({ job: 'rate.high', count: 2, summary: expect.stringContaining('2 of 20 attempts') });
    const strict = await failureRate.evaluate(ruleContext(db, now, paramsOf(failureRate, { threshold: 0.04 })));
    expect(subjects(strict)).toEqual(['rate.edge', 'rate.high']);
  });
});

describe('failure-count', () => {
  it('fires above 10 failures in 1 h', async () => {
    const db = await fresh();
    await seedRuns(db, 'count.edge', 10, 'failed', ago(minutes(5)), { spreadMs: minutes(5) });
    await seedRuns(db, 'count.over', 9, 'failed', ago(minutes(1)));
    await seedRuns(db, 'count.over', 2, 'dead', ago(minutes(59)));
    await seedRuns(db, 'count.over', 50, 'success', ago(minutes(1)));
    await seedRuns(db, 'count.old', 30, 'failed', ago(minutes(61)));
    const out = await failureCount.evaluate(ruleContext(db, now, paramsOf(failureCount)));
    expect(subjects(out)).toEqual(['count.over']);
    expect(out[0].count).toBe(11);
    const wider = await failureCount.evaluate(ruleContext(db, now, paramsOf(failureCount, { window: minutes(120) })));
    expect(subjects(wider)).toEqual(['count.old', 'count.over']);
  });
});

describe('backlog', () => {
  it('fires above 20 due jobs or when the oldest waited over 10 min; ignores locked, future, paused', async () => {
    const db = await fresh();
    const cols = collections(db);
    const due = (name: string, n: number, waitedMs: number, extra: Partial<AgendaJobDoc> = {}) =>
      Array.from({ length: n }, (_, i) => agendaJob(name, { nextRunAt: ago(waitedMs - i * 1000), ...extra }));
    await cols.agendaJobs.insertMany([
      ...due('bl.many', 21, minutes(1)),
      ...due('bl.edge', 20, minutes(9)),
      ...due('bl.old', 1, minutes(11)),
      ...due('bl.locked', 30, minutes(30), { lockedAt: ago(1000) }),
      ...due('bl.future', 30, -minutes(5)),
      ...due('bl.paused', 30, minutes(30)),
    ]);
    const settings = { pausedJobs: () => ['bl.paused'], killSwitch: () => ({ active: false }) };
    const out = await backlog.evaluate(ruleContext(db, now, paramsOf(backlog), { settings }));
    expect(subjects(out)).toEqual(['bl.many', 'bl.old']);
    expect(out.find((b) => b.subject === 'bl.many')?.count).toBe(21);
    expect(out.find((b) => b.subject === 'bl.old')?.summary).toBe('1 job of bl.old due and not started; 1 waiting over 10m');
    expect(out.find((b) => b.subject === 'bl.many')?.facts).toContainEqual({ label: 'Waiting over 10m', value: '0' });
    const halted = { pausedJobs: () => [], killSwitch: () => ({ active: true }) };
    expect(await backlog.evaluate(ruleContext(db, now, paramsOf(backlog), { settings: halted }))).toEqual([]);
  });
});

describe('stuck', () => {
  it('finds attempts past their timeout that still hold the lock, and expired locks', async () => {
    const db = await fresh();
    const cols = collections(db);
    const timedOut = agendaJob('st.timeout', { lockedAt: ago(10_000), lastRunAt: ago(minutes(3)) });
    const fine = agendaJob('st.ok', { lockedAt: ago(5_000), lastRunAt: ago(30_000) });
    const orphan = agendaJob('st.orphan', { lockedAt: null, lastRunAt: ago(minutes(10)) });
    const expired = agendaJob('st.lock', { lockedAt: ago(minutes(5)) });
    const edge = agendaJob('st.edge', { lockedAt: ago(119_000) });
    await cols.agendaJobs.insertMany([timedOut, fine, orphan, expired, edge]);
    await seedRuns(db, 'st.timeout', 1, 'running', ago(minutes(3)), { timeoutMs: 60_000, jobId: String(timedOut._id) });
    await seedRuns(db, 'st.ok', 1, 'running', ago(30_000), { timeoutMs: 60_000, jobId: String(fine._id) });
    await seedRuns(db, 'st.orphan', 1, 'running', ago(minutes(10)), { timeoutMs: 60_000, jobId: String(orphan._id) });
    const out = await stuck.evaluate(ruleContext(db, now, paramsOf(stuck), { lockLifetimeMs: 60_000 }));
    expect(subjects(out)).toEqual(['st.lock', 'st.timeout']);
    expect(out.find((b) => b.subject === 'st.timeout')?.summary).toContain('1 past their timeout');
    expect(out.find((b) => b.subject === 'st.lock')?.summary).toContain('1 with an expired lock');
  });

  it('judges a job type defined here by its definition\'s timeout and the job\'s lastRunAt, without run records', async () => {
    const db = await fresh();
    const jobs = [job('st.def.short', { timeoutMs: 60_000 }), job('st.def.default')];
    const short = agendaJob('st.def.short', { lockedAt: ago(10_000), lastRunAt: ago(minutes(3)) });
    const long = agendaJob('st.def.default', { lockedAt: ago(10_000), lastRunAt: ago(minutes(3)) });
    await collections(db).agendaJobs.insertMany([short, long]);
    const out = await stuck.evaluate(ruleContext(db, now, paramsOf(stuck), { jobs, lockLifetimeMs: 60_000 }));
    expect(subjects(out)).toEqual(['st.def.short']);
    expect(out[0].facts).toContainEqual({ label: 'Jobs', value: String(short._id) });
  });
});

describe('dlq-growth', () => {
  it('counts new pending dead letters per job type in the window', async () => {
    const db = await fresh();
    const dl = (jobName: string, createdAt: Date, status: 'pending' | 'retried' = 'pending') => ({
      _id: new ObjectId(),
      jobId: new ObjectId().toHexString(),
      generation: 0,
      jobName,
      payload: {},
      error: { message: 'boom', class: 'Error' },
      attempts: 3,
      reason: 'retries_exhausted' as const,
      firstFailedAt: createdAt,
      lastFailedAt: createdAt,
      status,
      createdAt,
    });
    await collections(db).deadLetters.insertMany([dl('dq.new', ago(minutes(5))), dl('dq.new', ago(minutes(9))), dl('dq.old', ago(minutes(11))), dl('dq.done', ago(minutes(1)), 'retried')]);
    const out = await dlqGrowth.evaluate(ruleContext(db, now, paramsOf(dlqGrowth)));
    expect(subjects(out)).toEqual(['dq.new']);
    expect(out[0].count).toBe(2);
    expect(await dlqGrowth.evaluate(ruleContext(db, now, paramsOf(dlqGrowth, { threshold: 2 })))).toEqual([]);
  });
});

describe('breaker-open', () => {
  it('returns nothing without breakers, and one alert per open breaker', async () => {
    const db = await fresh();
    const jobs = [job('partner.sync', { provider: 'partner-api' })];
    expect(await breakerOpen.evaluate(ruleContext(db, now, paramsOf(breakerOpen), { jobs }))).toEqual([]);
    await db.collection<{ _id: string }>('breakers').insertMany([
      { _id: 'partner-api', state: 'open', openedAt: ago(minutes(3)), failures: 7 },
      { _id: 'calm-api', state: 'closed', failures: 0 },
      { _id: 'trial-api', state: 'half-open', openedAt: ago(minutes(2)), failures: 5 },
    ] as never);
    const out = await breakerOpen.evaluate(ruleContext(db, now, paramsOf(breakerOpen), { jobs }));
    expect(subjects(out)).toEqual(['partner-api']);
    expect(out[0]).toMatchObject({ provider: 'partner-api', count: 7 });
    expect(out[0].facts).toContainEqual({ label: 'Jobs held', value: 'partner.sync' });
  });
});

describe('stale-recurring', () => {
  it('fires when a recurring job has not succeeded within 3 intervals', async () => {
    const db = await fresh();
    const every = '5 minutes';
    const jobs = ['cron.late', 'cron.fine', 'cron.never', 'cron.paused'].map((n) => job(n, { schedule: every }));
    await collections(db).agendaJobs.insertMany([
      agendaJob('cron.late', { repeatInterval: every, nextRunAt: ago(-minutes(4)), lastRunAt: ago(minutes(1)) }),
      agendaJob('cron.fine', { repeatInterval: every, nextRunAt: ago(-minutes(4)), lastRunAt: ago(minutes(1)) }),
      agendaJob('cron.never', { repeatInterval: every, nextRunAt: ago(-minutes(4)), lastRunAt: ago(minutes(1)) }),
      agendaJob('cron.paused', { repeatInterval: every, nextRunAt: ago(-minutes(4)), lastRunAt: ago(minutes(1)) }),
      agendaJob('cron.unknown', { repeatInterval: every, nextRunAt: ago(-minutes(4)), lastRunAt: ago(minutes(1)) }),
    ]);
    await seedRuns(db, 'cron.late', 1, 'success', ago(minutes(16)));
    await seedRuns(db, 'cron.late', 3, 'failed', ago(minutes(1)), { spreadMs: minutes(5) });
    await seedRuns(db, 'cron.fine', 1, 'success', ago(minutes(14)));
    await seedRuns(db, 'cron.never', 4, 'failed', ago(minutes(1)), { spreadMs: minutes(5) });
    await seedRuns(db, 'cron.paused', 1, 'success', ago(minutes(60)));
    await seedRuns(db, 'cron.unknown', 1, 'success', ago(minutes(60)));
    const settings = { pausedJobs: () => ['cron.paused'], killSwitch: () => ({ active: false }) };
    const out = await staleRecurring.evaluate(ruleContext(db, now, paramsOf(staleRecurring), { jobs, settings }));
    expect(subjects(out)).toEqual(['cron.late', 'cron.never']);
    expect(out.find((b) => b.subject === 'cron.late')?.count).toBe(3);
    expect(out.find((b) => b.subject === 'cron.never')?.facts).toContainEqual({ label: 'Last success', value: 'none on record' });
  });

  it('knows the interval of numbers, words and cron jobs', () => {
    expect(intervalMs({ repeatInterval: 60_000 })).toBe(60_000);
    expect(intervalMs({ repeatInterval: 'one minute' })).toBe(60_000);
    expect(intervalMs({ repeatInterval: '2 hours' })).toBe(7_200_000);
    expect(intervalMs({ repeatInterval: '*/5 * * * *', lastRunAt: ago(minutes(1)), nextRunAt: ago(-minutes(4)) })).toBe(minutes(5));
    expect(intervalMs({ repeatInterval: '*/5 * * * *' })).toBeUndefined();
  });
});

describe('alertParamDecl', () => {
  it('gives `config set` the schema of a key, and nothing for unknown keys', () => {
    const decl = alertParamDecl('alerts.failure-rate.window', alertRules);
    expect(decl?.info).toMatchObject({ rule: 'failure-rate', param: 'window', default: '15m' });
    expect(decl?.schema.parse('30m')).toBe(minutes(30));
    expect(decl?.schema.safeParse('soon').success).toBe(false);
    expect(alertParamDecl('alerts.backlog.enabled', alertRules)?.schema.parse('off')).toBe(false);
    expect(alertParamDecl('alerts.backlog.nope', alertRules)).toBeUndefined();
  });
});
