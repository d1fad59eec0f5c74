/**
 * `alerts.evaluate`: the built-in recurring job (every minute by default, once per tick across
 * processes) that evaluates the alert rules through this process's alerting (createAlerting).
 */
import { z } from 'zod';
import { defineJob, type JobDefinition } from '../src/engine/defineJob.ts';
import { ALERTS_EVALUATE_JOB, alertingFor } from '../src/alerting/index.ts';

/** The job definition; `schedule` is an Agenda interval or cron expression. */
export function alertsEvaluateJob(opts: { schedule?: string } = {}): JobDefinition {
  let warned = false;
  return defineJob({
    name: ALERTS_EVALUATE_JOB,
    description: 'Evaluates the alert rules and notifies the alert channels',
    payload: z.object({}),
    schedule: opts.schedule ?? '1 minute',
    schedulePayload: {},
    concurrency: 1,
    // Generous: on FerretDB v1 every query is a collection scan (no index use), so big stores take minutes.
    timeoutMs: 15 * 60_000,
    retry: { maxAttempts: 2, backoffMs: 10_000 },
    async handler({ db, log, count }) {
      const alerting = alertingFor(db);
      if (!alerting) {
        if (!warned) log.warn('alerting is not wired in this process (createAlerting(app) was not called): evaluation skipped');
        warned = true;
        return;
      }
      const report = await alerting.evaluateOnce(new Date());
      count('breaches', report.rules.reduce((n, r) => n + r.breaches, 0));
      count('events', report.events.length);
      const failed = report.rules.filter((r) => r.error).map((r) => r.rule);
      if (failed.length) log.warn({ failed }, 'some alert rules failed this tick');
    },
  });
}
