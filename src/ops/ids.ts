/** Ids typed by operators: a clear sentence instead of a driver error. */
import { ObjectId } from 'mongodb';
import { OpsError } from '../errors.ts';

/** The ObjectId behind a 24-hex-character id, or an OpsError naming what was expected. */
export function parseObjectId(id: string, what: string): ObjectId {
  if (!ObjectId.isValid(id) || id.length !== 24) throw new OpsError('invalid', `"${id}" is not a ${what} id (24 hex characters).`);
  return new ObjectId(id);
}
