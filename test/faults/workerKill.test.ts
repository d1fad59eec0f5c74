/**
 * SIGKILL of a worker mid-job, five times, with two real `serve` processes: every job is called
 * and ends successful (none lost, none in the DLQ), the surviving worker never dies, and a job is
 * called twice only when one of its calls was in flight on the killed worker at a kill.
 * The full version, with figures, is bench/faults.ts.
 */
import { describe, it, expect, beforeAll, afterAll, onTestFailed } from 'vitest';
import { useTestDb } from '../support/mongo.ts';
import { deathNote, errorLines, startServe, type ServeProcess } from './cluster.ts';
import { duplicateCalls, jobStory, killMidCall, Producer, SlowProvider, waitForJobs, type Kill } from './workload.ts';

const KILLS = 5;
const JOBS_PER_ROUND = 12;
/** Long enough that a kill lands while calls are open; short enough for a bounded test. */
const CALL_MS = 2000;

let mongoUrl: string;
let provider: SlowProvider;
let producer: Producer;
let survivor: ServeProcess | undefined;
const victims: ServeProcess[] = [];

beforeAll(async () => {
  const t = await useTestDb('faults_kill');
  mongoUrl = `${t.url}${t.dbName}`;
  provider = await SlowProvider.start(CALL_MS);
  producer = await Producer.connect(mongoUrl);
});

afterAll(async () => {
  await Promise.all([survivor, ...victims].map((p) => p?.stop(2000)));
  await producer?.close();
  await provider?.close();
});

describe('SIGKILL of one of two workers mid-job', () => {
  it('loses no job, never takes the other worker down, and repeats only calls that were in flight', { timeout: 240_000 }, async () => {
    const kills: Kill[] = [];
    onTestFailed(() => {
      const summary = kills.map(({ openCalls: _calls, ...k }) => k);
      console.error(`fault suite, worker kill: calls ${JSON.stringify(Object.fromEntries(provider.counts()))}\nkills ${JSON.stringify(summary)}`);
      // The killed incarnations' last words, and everything of the two that should be alive.
      for (const p of victims.slice(0, -1)) console.error(p.output().slice(-2000));
      for (const p of [survivor, victims.at(-1)]) if (p) console.error(p.output());
    });
    const s = (survivor = await startServe({ name: 'survivor', mongoUrl }));
    victims.push(await startServe({ name: 'victim-0', mongoUrl }));

    for (let k = 0; k < KILLS; k++) {
      await producer.invokeMany(provider, JOBS_PER_ROUND);
      kills.push(await killMidCall(victims[k], provider, producer, { feed: 4 }));
      expect(s.alive(), `the surviving worker died: ${deathNote(s)}`).toBe(true);
      victims.push(await startServe({ name: `victim-${k + 1}`, mongoUrl }));
    }

    const ids = [...producer.keyOf.keys()];
    const report = await waitForJobs(producer.db, ids, 60_000);
    const counts = provider.counts();
    const duplicates = duplicateCalls(provider, kills);
    const last = victims[KILLS];

    // Soft: one run reports every broken promise at once.
    expect.soft(s.alive(), `the surviving worker died: ${deathNote(s)}`).toBe(true);
    expect.soft(last.alive(), `the last victim incarnation died without a kill: ${deathNote(last)}`).toBe(true);
    expect.soft([...producer.idOf.keys()].filter((key) => !counts.has(key)), 'jobs never called').toEqual([]);
    expect.soft(report.unfinished.map((id) => producer.keyOf.get(id)), 'jobs not finished successfully').toEqual([]);
    expect.soft(report.deadLetters.map((d) => producer.keyOf.get(d.jobId) ?? d.jobId), 'jobs in the DLQ').toEqual([]);
    // A job runs again only for a kill that caught its call in flight: at most once per such kill.
    const marks = kills.map((k) => ({ what: `kill ${k.victim}`, at: k.at }));
    const unexplained = duplicates.filter((d) => d.calls > 1 + d.inFlightAt).map((d) => ({ ...d, ...jobStory(d.key, { producer, provider, runs: report.runs, marks }) }));
    expect.soft(unexplained, 'jobs called more often than once plus the kills that caught them in flight').toEqual([]);
    for (const p of [s, last]) {
      expect.soft(errorLines(p).filter((l) => /unhandled|uncaught/i.test(String(l.msg))), `unhandled errors logged by ${p.name}`).toEqual([]);
    }
  });
});

