/**
 * SIGKILL of a worker mid-job, five times, with two real `serve` processes: every job is called
 * and ends successful (none lost, none in the DLQ), the surviving worker never dies, and a job is
 * called twice only when one of its calls was in flight on the killed worker at a kill.
 * The full version, with figures, is bench/faults.ts.
 */
import { describe, it, expect, beforeAll, afterAll, onTestFailed } from 'vitest';
import { useTestDb, type TestDb } from '../support/mongo.ts';
import { waitFor } from '../support/waitFor.ts';
import { deathNote, errorLines, Producer, runningAttemptsOf, SlowProvider, startServe, waitForJobs, type ServeProcess } from './cluster.ts';

const KILLS = 5;
const JOBS_PER_ROUND = 12;
/** Long enough that a kill lands while calls are open; short enough for a bounded test. */
const CALL_MS = 2000;

let t: TestDb;
let mongoUrl: string;
let provider: SlowProvider;
let producer: Producer;
let survivor: ServeProcess;
const victims: ServeProcess[] = [];

beforeAll(async () => {
  t = await useTestDb('faults_kill');
  mongoUrl = `${t.url}${t.dbName}`;
  provider = await SlowProvider.start(CALL_MS);
  producer = await Producer.connect(mongoUrl);
});

afterAll(async () => {
  await Promise.all([survivor, ...victims].map((p) => p?.stop(2000)));
  await producer?.close();
  await provider?.close();
});

/** What the provider and the database said about one kill. */
interface Kill {
  victim: string;
  /** Jobs (by key) whose call the provider had open when the kill was sent. */
  openAtKill: string[];
  /** Jobs whose attempt on the killed worker never recorded an outcome. */
  diedRunning: string[];
}

describe('SIGKILL of one of two workers mid-job', () => {
  it('loses no job, never takes the other worker down, and repeats only calls that were in flight', { timeout: 240_000 }, async () => {
    const keyOf = new Map<string, string>();
    const idOf = new Map<string, string>();
    const kills: Kill[] = [];
    onTestFailed(() => {
      console.error(`fault suite, worker kill: calls ${JSON.stringify(Object.fromEntries(provider.counts()))}\nkills ${JSON.stringify(kills)}`);
      // The killed incarnations' last words, and everything of the two that should be alive.
      for (const p of victims.slice(0, -1)) console.error(p.output().slice(-2000));
      for (const p of [survivor, victims.at(-1)]) if (p) console.error(p.output());
    });

    survivor = await startServe({ name: 'survivor', mongoUrl });
    let victim = await startServe({ name: 'victim-0', mongoUrl });
    victims.push(victim);
    let n = 0;
    const enqueue = async (count: number) => {
      for (let i = 0; i < count; i++) {
        const key = `job-${n++}`;
        const id = await producer.invoke(provider.url(key));
        keyOf.set(id, key);
        idOf.set(key, id);
      }
    };

    for (let k = 0; k < KILLS; k++) {
      await enqueue(JOBS_PER_ROUND);
      // Mid-job: the victim runs an attempt whose call the provider has open.
      const target = await waitForVictimMidCall(victim, keyOf);
      const openAtKill = provider.openKeys();
      const killed = victim.kill();
      expect(openAtKill).toContain(target);
      await killed;
      const diedRunning = (await runningAttemptsOf(producer.db, victim.name)).map((r) => keyOf.get(r.jobId) ?? r.jobId);
      kills.push({ victim: victim.name, openAtKill, diedRunning });
      expect(survivor.alive(), `the surviving worker died: ${deathNote(survivor)}`).toBe(true);
      victim = await startServe({ name: `victim-${k + 1}`, mongoUrl });
      victims.push(victim);
    }

    const ids = [...keyOf.keys()];
    const report = await waitForJobs(producer.db, ids, 60_000);
    const counts = provider.counts();
    const inFlight = new Set(kills.flatMap((k) => [...k.openAtKill, ...k.diedRunning]));
    const duplicates = [...counts].filter(([, c]) => c > 1).map(([key]) => key);

    // Soft: one run reports every broken promise at once.
    expect.soft(survivor.alive(), `the surviving worker died: ${deathNote(survivor)}`).toBe(true);
    expect.soft(victim.alive(), `the last victim incarnation died without a kill: ${deathNote(victim)}`).toBe(true);
    expect.soft([...idOf.keys()].filter((key) => !counts.has(key)), 'jobs never called').toEqual([]);
    expect.soft(report.unfinished.map((id) => keyOf.get(id)), 'jobs not finished successfully').toEqual([]);
    expect.soft(report.deadLetters.map((d) => keyOf.get(d.jobId) ?? d.jobId), 'jobs in the DLQ').toEqual([]);
    expect.soft(duplicates.filter((key) => !inFlight.has(key)), 'called more than once without being in flight at a kill').toEqual([]);
    for (const key of duplicates) {
      const atKills = kills.filter((k) => k.openAtKill.includes(key) || k.diedRunning.includes(key)).length;
      expect.soft(counts.get(key), `calls of ${key} (in flight at ${atKills} kills)`).toBeLessThanOrEqual(1 + atKills);
    }
    for (const p of [survivor, victim]) {
      expect.soft(errorLines(p).filter((l) => /unhandled|uncaught/i.test(String(l.msg))), `unhandled errors logged by ${p.name}`).toEqual([]);
    }
  });
});

/** Resolves with the key of a job the victim is running whose call is open at the provider. */
async function waitForVictimMidCall(victim: ServeProcess, keyOf: Map<string, string>): Promise<string> {
  let found: string | undefined;
  let checking = false;
  const check = () => {
    if (!victim.alive()) throw new Error(`${victim.name} died before it was killed: ${deathNote(victim)}`);
    // Still open now: the kill follows synchronously.
    if (found && provider.openKeys().includes(found)) return found;
    found = undefined;
    if (!checking && provider.openKeys().length > 0) {
      checking = true;
      void runningAttemptsOf(producer.db, victim.name)
        .then((runs) => {
          const open = new Set(provider.openKeys());
          found = runs.map((r) => keyOf.get(r.jobId)).find((key) => key !== undefined && open.has(key));
        })
        .finally(() => (checking = false));
    }
    return undefined;
  };
  return waitFor(check, { signal: provider, timeoutMs: 60_000, what: `${victim.name} to be mid-call`, intervalMs: 200 });
}
