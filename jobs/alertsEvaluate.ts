/**
 * `alerts.evaluate`: the built-in recurring job (every minute by default, once per tick across
 * processes) that evaluates the alert rules through the process's alerting, which the
 * composition root hands to it. A process whose alerting is not started (not serving) skips.
 */
import { z } from 'zod';
import { defineJob, type JobDefinition } from '../src/engine/defineJob.ts';
import { ALERTS_EVALUATE_JOB, type Alerting } from '../src/alerting/index.ts';

/** The job definition over `alerting`; `schedule` is an Agenda interval or cron expression. */
export function alertsEvaluateJob(opts: { alerting: Pick<Alerting, 'evaluateOnce' | 'started'>; schedule?: string }): JobDefinition {
  const { alerting } = opts;
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
    async handler({ log, count }) {
      if (!alerting.started) {
        if (!warned) log.warn('alerting is not started in this process (serving processes start it with their adapters): evaluation skipped');
        warned = true;
        return;
      }
      const report = await alerting.evaluateOnce();
      count('breaches', report.rules.reduce((n, r) => n + r.breaches, 0));
      count('events', report.events.length);
      const failed = report.rules.filter((r) => r.error).map((r) => r.rule);
      if (failed.length) log.warn({ failed }, 'some alert rules failed this tick');
    },
  });
}
