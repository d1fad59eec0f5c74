/** Ids and names typed by operators: a clear sentence (input echoed, capped) instead of a driver error. */
import { ObjectId } from 'mongodb';
import { OpsError, UsageError } from '../errors.ts';
import type { JobRegistry } from '../engine/defineJob.ts';
import { didYouMean } from '../chat/suggest.ts';
import { echo } from '../util/echo.ts';

/** The ObjectId behind a 24-hex-character id, or an OpsError naming what was expected. */
export function parseObjectId(id: string, what: string): ObjectId {
  if (!ObjectId.isValid(id) || id.length !== 24) throw new OpsError('invalid', `"${echo(id)}" is not a ${what} id (24 hex characters).`);
  return new ObjectId(id);
}

/** Refuses a job name no definition has: a usage error with the nearest names, else the known ones. */
export function requireJob(jobs: JobRegistry, name: string): void {
  if (jobs.get(name)) return;
  const hint = didYouMean(name, jobs.names());
  throw new UsageError(`Unknown job \`${echo(name)}\`.${hint || ` Known jobs: ${jobs.names().join(', ')}.`}`);
}
