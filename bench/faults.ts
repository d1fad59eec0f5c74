/**
 * Faults, full size: two `serve` workers run `http.invoke` jobs against a slow local provider
 * while one of them is SIGKILLed mid-job again and again; then the database is killed for a
 * while and started again. Prints what an operator needs to trust the engine: lost jobs,
 * duplicate calls (and whether they were in flight at a kill), worker deaths that were not kills,
 * the longest stall, resume times, and `/readyz` latencies around the outage; a table, then one
 * JSON line. Run: `npx node bench/faults.ts` (its own local server in a temp dir: it must kill it).
 *
 * Knobs: BENCH_KILLS (20), BENCH_JOBS (300), BENCH_OUTAGE_S (30), BENCH_OUTAGE_JOBS (60),
 * BENCH_CALL_MS (provider answer time, 1500), BENCH_LOCK_MS (ENGINE_LOCK_LIFETIME_MS, 5000),
 * BENCH_LEASE_MS (SLOT_LEASE_MS, 30000), BENCH_POLL_MS (ENGINE_PROCESS_EVERY_MS, 1000).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { startRestartableMongo } from '../test/support/restartableMongo.ts';
import { waitFor } from '../test/support/waitFor.ts';
import { deathNote, percentile, pollUntil, probe, startServe, type ServeProcess } from '../test/faults/cluster.ts';
import { duplicateCalls, jobStory, killMidCall, Producer, SlowProvider, waitForJobs, type Kill, type ProviderCall } from '../test/faults/workload.ts';

const num = (name: string, def: number) => Number(process.env[name] ?? def);
const KILLS = num('BENCH_KILLS', 20);
const JOBS = num('BENCH_JOBS', 300);
const OUTAGE_S = num('BENCH_OUTAGE_S', 30);
const OUTAGE_JOBS = num('BENCH_OUTAGE_JOBS', 60);
const CALL_MS = num('BENCH_CALL_MS', 1500);
const LOCK_MS = num('BENCH_LOCK_MS', 5000);
const LEASE_MS = num('BENCH_LEASE_MS', 30_000);
const POLL_MS = num('BENCH_POLL_MS', 1000);
/** Bound on every wait for jobs to finish: a stalled engine shows as lost jobs, not a hung bench. */
const DRAIN_MS = num('BENCH_DRAIN_MS', 10 * 60_000);

if (process.env.MONGODB_URL) console.log('MONGODB_URL is ignored: this bench kills its database, so it starts its own.');
const dir = await mkdtemp(path.join(os.tmpdir(), 'sb-bench-faults-'));
const mongo = await startRestartableMongo(dir, (msg) => console.log(msg));
const mongoUrl = `${mongo.url}bench_faults_${Date.now()}`;
const env = {
  ENGINE_LOCK_LIFETIME_MS: String(LOCK_MS),
  SLOT_LEASE_MS: String(LEASE_MS),
  ENGINE_PROCESS_EVERY_MS: String(POLL_MS),
  GUARD_REFRESH_MS: String(Math.min(1000, POLL_MS)),
};
const provider = await SlowProvider.start(CALL_MS);
const producer = await Producer.connect(mongoUrl);
const processes: ServeProcess[] = [];
/** Exits other than our SIGKILLs, by incarnation. */
const deaths: string[] = [];
let stopping = false;

async function worker(name: string): Promise<ServeProcess> {
  const p = await startServe({ name, mongoUrl, env });
  processes.push(p);
  void p.exited.then(({ signal }) => {
    if (signal !== 'SIGKILL' && !stopping) deaths.push(`${name}: ${deathNote(p)}`);
  });
  return p;
}

try {
  // Phase 1: SIGKILLs of one of two workers while JOBS jobs run.
  const t0 = Date.now();
  let survivor = await worker('survivor');
  let victim = await worker('victim-0');
  const kills: Kill[] = [];
  const resumeFirstMs: number[] = [];
  const resumeAllMs: number[] = [];
  const notMidCall: string[] = [];
  // More than one worker takes at once (concurrency 10), so the victim gets some of every round.
  const perRound = Math.max(12, Math.ceil(JOBS / (KILLS + 1)));
  for (let k = 0; k < KILLS; k++) {
    await producer.invokeMany(provider, Math.max(0, Math.min(perRound, JOBS - producer.keyOf.size)));
    if (!survivor.alive()) survivor = await worker(`survivor-${k}`);
    if (!victim.alive()) victim = await worker(`victim-${k}-restarted`);
    try {
      kills.push(await killMidCall(victim, provider, producer, { timeoutMs: 120_000, feed: 4 }));
    } catch (err) {
      notMidCall.push((err as Error).message.split('\n')[0]);
      await victim.kill();
    }
    victim = await worker(`victim-${k + 1}`);
  }
  await producer.invokeMany(provider, Math.max(0, JOBS - producer.keyOf.size));
  const ids = [...producer.keyOf.keys()];
  const report = await waitForJobs(producer.db, ids, DRAIN_MS);
  const killPhaseS = (Date.now() - t0) / 1000;
  for (const k of kills) {
    // The dead worker's jobs called again: the first (its work resumes), and all of them. Due
    // jobs are taken in random order, so "all" also waits behind the rest of the backlog.
    const again = [...new Set(k.diedRunning)].map((key) => provider.items.find((c) => c.key === key && c.startedAt > k.at)?.startedAt ?? Infinity);
    if (again.length === 0) continue;
    resumeFirstMs.push(Math.min(...again) - k.at);
    resumeAllMs.push(Math.max(...again) - k.at);
  }
  const dups = duplicateCalls(provider, kills);
  const killMarks = kills.map((k) => ({ what: `kill ${k.victim}`, at: k.at }));
  const killCalls = provider.items.length;
  const stallS = longestStall(provider.items, producer.enqueuedAt, t0, Date.now()) / 1000;
  const phase1 = {
    kills: kills.length,
    killsNotMidCall: notMidCall.length,
    jobs: ids.length,
    providerCalls: killCalls,
    lost: report.unfinished.length,
    deadLetters: report.deadLetters.length,
    duplicateJobs: dups.length,
    duplicateCalls: dups.reduce((n, d) => n + d.calls - 1, 0),
    duplicatesInFlightAtKill: dups.filter((d) => d.inFlightAt > 0 && d.calls <= 1 + d.inFlightAt).length,
    workerDeathsNotKills: deaths.length,
    longestStallS: round(stallS),
    stallBoundS: round((LEASE_MS + 2 * POLL_MS) / 1000),
    resumeP50S: round(percentile(resumeFirstMs, 50) / 1000),
    resumeMaxS: round(Math.max(0, ...resumeFirstMs) / 1000),
    allRetakenP50S: round(percentile(resumeAllMs, 50) / 1000),
    allRetakenMaxS: round(Math.max(0, ...resumeAllMs) / 1000),
    seconds: round(killPhaseS),
  };

  // Phase 2: the database down for OUTAGE_S while both workers run jobs.
  if (!survivor.alive()) survivor = await worker('survivor-outage');
  if (!victim.alive()) victim = await worker('victim-outage');
  const workers = [survivor, victim];
  const outageIds = await producer.invokeMany(provider, OUTAGE_JOBS);
  await waitFor(() => provider.openKeys().length >= Math.min(5, OUTAGE_JOBS), { signal: provider, timeoutMs: 120_000, what: 'calls in flight before the outage' });
  const openAtOutage = provider.openKeys();
  const deathsBefore = deaths.length;
  const outageAt = Date.now();
  await mongo.kill();
  const first503 = await Promise.all(workers.map((w) => firstAnswer(`${w.origin}/readyz`, 503, outageAt, 10_000)));
  const during: number[] = [];
  while (Date.now() - outageAt < OUTAGE_S * 1000) {
    const r = await Promise.all(workers.map((w) => probe(`${w.origin}/readyz`, 1000)));
    during.push(...r.filter((x) => x.status !== 503).map((x) => x.status));
    await new Promise((res) => setTimeout(res, 500)); // probe pacing over a fixed outage
  }
  await mongo.start();
  const backAt = Date.now();
  const first200 = await Promise.all(workers.map((w) => firstAnswer(`${w.origin}/readyz`, 200, backAt, 60_000)));
  const outageReport = await waitForJobs(producer.db, outageIds, DRAIN_MS);
  const counts = provider.counts();
  const outageDups = outageIds.map((id) => producer.keyOf.get(id) ?? id).filter((key) => (counts.get(key) ?? 0) > 1);
  const phase2 = {
    outageS: OUTAGE_S,
    jobs: outageIds.length,
    lost: outageReport.unfinished.length,
    deadLetters: outageReport.deadLetters.length - report.deadLetters.length,
    duplicateJobs: outageDups.length,
    duplicatesRunningAtOutage: outageDups.filter((key) => openAtOutage.includes(key)).length,
    workerDeaths: deaths.length - deathsBefore,
    readyz503AfterS: round(Math.max(...first503) / 1000),
    readyzNot503Answers: during.length,
    readyz200AfterS: round(Math.max(...first200) / 1000),
  };

  const figures = {
    bench: 'faults',
    server: mongo.kind,
    loadavg: os.loadavg().map(round),
    cpus: os.cpus().length,
    node: process.version,
    settings: { kills: KILLS, jobs: JOBS, callMs: CALL_MS, lockMs: LOCK_MS, leaseMs: LEASE_MS, pollMs: POLL_MS },
    kill: phase1,
    outage: phase2,
    deaths,
    notMidCall,
    unexplainedDuplicates: dups
      .filter((d) => d.calls > 1 + d.inFlightAt)
      .slice(0, 5)
      .map((d) => ({ ...d, story: jobStory(d.key, { producer, provider, runs: outageReport.runs, marks: killMarks }) })),
    deadLetters: [...report.deadLetters, ...outageReport.deadLetters.filter((d) => !report.deadLetters.some((e) => e.jobId === d.jobId))].map((d) => ({
      key: producer.keyOf.get(d.jobId) ?? d.jobId,
      reason: d.reason,
      attempts: d.attempts,
      error: d.error.message.slice(0, 200),
      calls: provider.counts().get(producer.keyOf.get(d.jobId) ?? '') ?? 0,
      story: jobStory(producer.keyOf.get(d.jobId) ?? d.jobId, { producer, provider, runs: outageReport.runs, marks: killMarks }),
    })),
  };
  console.log(`\nSIGKILL of one of two workers (${mongo.kind}, lock ${LOCK_MS} ms, lease ${LEASE_MS} ms, poll ${POLL_MS} ms, calls ${CALL_MS} ms; load ${figures.loadavg.join(' ')})`);
  console.table({
    kills: `${phase1.kills} (${phase1.killsNotMidCall} not mid-call)`,
    'jobs / provider calls': `${phase1.jobs} / ${phase1.providerCalls}`,
    'lost (unfinished) / in DLQ': `${phase1.lost} / ${phase1.deadLetters}`,
    'duplicate jobs (calls)': `${phase1.duplicateJobs} (${phase1.duplicateCalls})`,
    'of them in flight at a kill': phase1.duplicatesInFlightAtKill,
    'worker deaths that were not kills': phase1.workerDeathsNotKills,
    'longest stall, s (bound: lease + 2 polls)': `${phase1.longestStallS} (${phase1.stallBoundS})`,
    'resume after a kill (first dead job called again), s p50 / max': `${phase1.resumeP50S} / ${phase1.resumeMaxS}`,
    'all dead jobs called again, s p50 / max': `${phase1.allRetakenP50S} / ${phase1.allRetakenMaxS}`,
    'phase, s': phase1.seconds,
  });
  console.log(`Database down for ${OUTAGE_S} s under ${OUTAGE_JOBS} jobs (${openAtOutage.length} calls in flight when it began)`);
  console.table({
    'lost (unfinished) / in DLQ': `${phase2.lost} / ${phase2.deadLetters}`,
    'duplicate jobs / running at the outage': `${phase2.duplicateJobs} / ${phase2.duplicatesRunningAtOutage}`,
    'worker deaths': phase2.workerDeaths,
    '/readyz 503 after the outage began, s (worst worker)': phase2.readyz503AfterS,
    '/readyz answers in the outage other than 503': phase2.readyzNot503Answers,
    '/readyz 200 after the database returned, s': phase2.readyz200AfterS,
  });
  for (const d of deaths) console.log(`death: ${d.slice(0, 600)}`);
  for (const d of figures.unexplainedDuplicates) console.log(`duplicate not caught by a kill: ${d.key}, ${d.calls} calls\n  ${JSON.stringify(d.story)}`);
  for (const d of figures.deadLetters) console.log(`dead letter: ${d.key} after ${d.attempts} attempts and ${d.calls} calls (${d.reason}): ${d.error}\n  ${JSON.stringify(d.story)}`);
  console.log(JSON.stringify(figures));
} finally {
  stopping = true;
  await Promise.all(processes.map((p) => p.stop(5000)));
  await producer.close().catch(() => {});
  await provider.close();
  await mongo.stop();
  await rm(dir, { recursive: true, force: true });
}

/** ms after `since` until `url` first answered `status` within a 1 s probe (Infinity if not by `timeoutMs`). */
async function firstAnswer(url: string, status: number, since: number, timeoutMs: number): Promise<number> {
  const r = await pollUntil(() => probe(url, 1000), (x) => x.status === status, timeoutMs, 100);
  return r.status === status ? Date.now() - since : Infinity;
}

/**
 * The longest time in which no call started while some enqueued job waited (enqueued, not
 * answered yet, no call of it open), from the provider's view of the calls.
 */
function longestStall(calls: readonly ProviderCall[], enqueuedAt: ReadonlyMap<string, number>, from: number, to: number): number {
  const answeredAt = new Map<string, number>();
  for (const c of calls) if (c.answered && c.endedAt !== undefined) answeredAt.set(c.key, Math.min(c.endedAt, answeredAt.get(c.key) ?? Infinity));
  const waitingAt = (t: number) =>
    [...enqueuedAt].some(
      ([key, at]) => at <= t && !((answeredAt.get(key) ?? Infinity) <= t) && !calls.some((c) => c.key === key && c.startedAt <= t && (c.endedAt ?? Infinity) > t),
    );
  let longest = 0;
  let prev = from;
  for (const t of [...calls.map((c) => c.startedAt).sort((a, b) => a - b), to]) {
    // The gap counts from its start if a job waited then, else from the first enqueue inside it.
    const start = waitingAt(prev + 1) ? prev : Math.min(t, ...[...enqueuedAt.values()].filter((at) => at > prev && at < t));
    longest = Math.max(longest, t - start);
    prev = t;
  }
  return longest;
}

function round(x: number): number {
  return Number.isFinite(x) ? Math.round(x * 100) / 100 : x;
}
