/**
 * The one write that decides "exactly once" on every MongoDB-protocol server: an insert into a
 * unique `_id`. (A filtered update is not atomic on FerretDB v1; this is.)
 */
import { MongoServerError, type Collection, type Document, type OptionalUnlessRequiredId } from 'mongodb';

/** True for a duplicate-key error (code 11000). */
export function isDuplicateKey(err: unknown): boolean {
  return err instanceof MongoServerError && err.code === 11000;
}

/** Inserts `doc`; true if this call created it, false if a document with its `_id` exists. */
export async function insertOnce<T extends Document>(col: Collection<T>, doc: OptionalUnlessRequiredId<T>): Promise<boolean> {
  try {
    await col.insertOne(doc);
    return true;
  } catch (err) {
    if (isDuplicateKey(err)) return false;
    throw err;
  }
}

/**
 * Inserts `docs` (unordered); one whose `_id` exists already is left as it is. For copies that a
 * retry may write again (a move cut short by a crash). Returns how many this call inserted.
 */
export async function insertManyOnce<T extends Document>(col: Collection<T>, docs: Array<OptionalUnlessRequiredId<T>>): Promise<number> {
  if (!docs.length) return 0;
  try {
    return (await col.insertMany(docs, { ordered: false })).insertedCount;
  } catch (err) {
    const errors = (err as { writeErrors?: Array<{ code?: number }>; insertedCount?: number }).writeErrors;
    if (!(errors?.length ? errors.every((e) => e.code === 11000) : isDuplicateKey(err))) throw err;
    return docs.length - (errors?.length ?? docs.length);
  }
}
