/** The jobs this process knows: built-ins and the team's own. Add yours to `teamJobs`. */
import type { Config } from '../src/config.ts';
import { JobRegistry, type JobDefinition } from '../src/engine/defineJob.ts';
import { httpInvokeJob } from './httpInvoke.ts';

/** Jobs written by the team; one file per job in this folder. */
export const teamJobs: JobDefinition[] = [];

/** Every job definition for this configuration. */
export function loadJobs(config: Pick<Config, 'HTTP_INVOKE_ALLOWED_HOSTS'>, extra: JobDefinition[] = []): JobRegistry {
  return new JobRegistry([httpInvokeJob({ allowedHosts: config.HTTP_INVOKE_ALLOWED_HOSTS }), ...teamJobs, ...extra]);
}
