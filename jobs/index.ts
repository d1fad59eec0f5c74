/** The jobs this process knows: built-ins and the team's own. Add yours to `teamJobs`. */
import type { Config } from '../src/config.ts';
import type { RetentionRule } from '../src/db/retention.ts';
import { JobRegistry, type JobDefinition } from '../src/engine/defineJob.ts';
import type { Clock } from '../src/util/clock.ts';
import { discoveryHarvestJob } from './discoveryHarvest.ts';
import { inboxGenerateJob } from './inboxGenerate.ts';
import { httpInvokeJob } from './httpInvoke.ts';
import { maintenanceCleanupJob } from './maintenanceCleanup.ts';

/** Jobs written by the team; one file per job in this folder. */
export const teamJobs: JobDefinition[] = [];

/** Every job definition for this configuration; `retention` is what maintenance.cleanup deletes (the root's collected rules). */
export function loadJobs(
  config: Pick<Config, 'HTTP_INVOKE_ALLOWED_HOSTS' | 'JOB_RUNS_RETENTION_DAYS' | 'DISCOVERY_URL' | 'OPENAI_API_KEY' | 'OPENAI_BASE_URL' | 'OPENAI_MODEL'>,
  extra: JobDefinition[] = [],
  opts: { retention?: readonly RetentionRule[]; clock?: Clock } = {},
): JobRegistry {
  return new JobRegistry([
    httpInvokeJob({ allowedHosts: config.HTTP_INVOKE_ALLOWED_HOSTS }),
    maintenanceCleanupJob({ retentionDays: config.JOB_RUNS_RETENTION_DAYS, rules: opts.retention ?? [], clock: opts.clock }),
    inboxGenerateJob({ openai: { apiKey: config.OPENAI_API_KEY, baseURL: config.OPENAI_BASE_URL, model: config.OPENAI_MODEL } }),
    // Only where a discovery provider is configured: it adds the `discovery` breaker.
    ...(config.DISCOVERY_URL ? [discoveryHarvestJob({ baseUrl: config.DISCOVERY_URL })] : []),
    ...teamJobs,
    ...extra,
  ]);
}
