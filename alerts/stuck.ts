/**
 * `stuck`: jobs whose lock expired (a dead worker), and attempts running past their timeout while
 * still holding the job's lock (a hung one). Live documents only: the locked jobs, from the
 * evaluation's one read of the live jobs; an attempt's start is its job's `lastRunAt` and its
 * timeout its definition's. A job type not defined in this process is judged by its `running`
 * run record, looked up by job id.
 */
import { z } from 'zod';
import { defineRule, duration, type Breach } from '../src/alerting/rule.ts';
import type { SwitchboardCollections } from '../src/db/collections.ts';
import { DEFAULT_TIMEOUT_MS } from '../src/engine/attempt.ts';
import { plural } from '../src/alerting/ruleQueries.ts';
import { fmtDate } from '../src/chat/reply.ts';

interface Stuck {
  jobId: string;
  since: Date;
  why: 'timeout' | 'lock';
}

/** The job's current attempt (no newer one started since) from its `running` run record, by job id. */
async function runningRecord(cols: SwitchboardCollections, jobId: string, lastRunAt: Date): Promise<{ startedAt: Date; timeoutMs: number } | undefined> {
  const runs = await cols.jobRuns.find({ jobId, outcome: 'running' }, { projection: { startedAt: 1, timeoutMs: 1 } }).toArray();
  const r = runs.find((run) => lastRunAt.getTime() <= run.startedAt.getTime() + 1000);
  return r && { startedAt: r.startedAt, timeoutMs: r.timeoutMs ?? 0 };
}

/** The rule, for alerts/index.ts. */
export default defineRule({
  name: 'stuck',
  description: 'Attempts running longer than their timeout, or jobs whose lock expired (a dead or hung worker)',
  params: z.object({
    grace: duration('1m', 'Slack past the timeout or the lock lifetime before an attempt counts as stuck'),
    clear_after: duration('10m', 'How long without stuck attempts before the alert resolves'),
  }),
  clearAfter: (p) => p.clear_after,
  actions: ['pause-job'],
  async evaluate({ now, params, cols, jobs, lockLifetimeMs, liveJobs }) {
    const t = now.getTime();
    const stuck = new Map<string, Stuck[]>();
    const add = (job: string, s: Stuck) => stuck.set(job, [...(stuck.get(job) ?? []), s]);

    const locked = (await liveJobs()).filter((j) => j.lockedAt && j.lockedAt <= now);
    const longRunning = new Map<string, (typeof locked)[number]>();
    for (const j of locked) {
      if (j.lockedAt!.getTime() < t - lockLifetimeMs - params.grace) add(j.name, { jobId: String(j._id), since: j.lockedAt!, why: 'lock' });
      else if (j.lastRunAt && j.lastRunAt.getTime() < t - params.grace) longRunning.set(String(j._id), j);
    }
    for (const [jobId, job] of longRunning) {
      const def = jobs.get(job.name);
      const attempt = def ? { startedAt: job.lastRunAt!, timeoutMs: def.timeoutMs ?? DEFAULT_TIMEOUT_MS } : await runningRecord(cols, jobId, job.lastRunAt!);
      if (attempt && attempt.startedAt.getTime() + attempt.timeoutMs + params.grace < t) add(job.name, { jobId, since: attempt.startedAt, why: 'timeout' });
    }

    const out: Breach[] = [];
    for (const [job, list] of stuck) {
      const oldest = list.reduce((a, b) => (a.since <= b.since ? a : b));
      const timeouts = list.filter((s) => s.why === 'timeout').length;
      out.push({
        subject: job,
        job,
        count: list.length,
        title: `Stuck attempts: ${job}`,
        summary: `${plural(list.length, 'attempt')} of ${job} stuck (${timeouts} past their timeout, ${list.length - timeouts} with an expired lock)`,
        facts: [
          { label: 'Job', value: job },
          { label: 'Stuck', value: `${list.length} (${timeouts} past timeout, ${list.length - timeouts} lock expired)` },
          { label: 'Oldest since', value: fmtDate(oldest.since) },
          { label: 'Jobs', value: list.slice(0, 3).map((s) => s.jobId).join(', ') + (list.length > 3 ? ', …' : '') },
        ],
        hint: 'A worker may be hung or gone: check `jobs show ID`; a job whose lock expired is retaken by a live worker.',
      });
    }
    return out;
  },
});
