/**
 * Dead-letter queue operations: list, show, retry (fresh attempt budget), delete (kept as
 * `deleted` for the audit trail), export as CSV. Whatever is shown (list, show, CSV) has its
 * secrets masked; retry works on the stored document, so the job gets its real payload back.
 * Open entries live in `deadLetters`; closed ones (`retried`, `deleted`) in `deadLetterHistory`
 * (a retried entry reaches it with the next maintenance.cleanup), and both are read here.
 */
import { ObjectId, type Collection, type Filter } from 'mongodb';
import type { Actor, DeadLetterDoc, SwitchboardCollections } from '../db/collections.ts';
import type { Engine } from '../engine/engine.ts';
import { CLOSED_STATUSES, findDeadLetter, markDeadLetter, moveToHistory } from '../engine/records.ts';
import { requeueDeadLetter } from '../engine/jobControl.ts';
import { OpsError } from '../errors.ts';
import { parseObjectId, requireJob } from './ids.ts';
import { echo } from '../util/echo.ts';
import { maskSecrets, maskText } from '../util/secrets.ts';

export interface DeadLetterItem {
  id: string;
  job: string;
  status: DeadLetterDoc['status'];
  attempts: number;
  error: string;
  errorClass: string;
  firstFailedAt: Date;
  lastFailedAt: Date;
  payloadSummary: string;
  jobId: string;
}

export interface ListQuery {
  status?: DeadLetterDoc['status'];
  job?: string;
  limit?: number;
  page?: number;
}

export interface BatchResult {
  done: string[];
  skipped: Array<{ id: string; reason: string }>;
}

const RETRY_BATCH = 100;

/** A short, one-line view of a payload, secrets masked (before cutting, so no token is half shown). */
export function summarizePayload(payload: unknown, max = 80, secretFields?: readonly string[]): string {
  let s: string;
  try {
    s = JSON.stringify(maskSecrets(payload, { secretPaths: secretFields })) ?? 'undefined';
  } catch {
    s = String(payload);
  }
  return s.length <= max ? s : `${s.slice(0, max - 1)}…`;
}

/** The list view of an entry; `secretFields` are its job's (JobDefinition.secretFields). */
export function toItem(d: DeadLetterDoc, secretFields?: readonly string[]): DeadLetterItem {
  return {
    id: String(d._id),
    job: d.jobName,
    status: d.status,
    attempts: d.attempts,
    error: maskText(d.error.message),
    errorClass: d.error.class,
    firstFailedAt: d.firstFailedAt,
    lastFailedAt: d.lastFailedAt,
    payloadSummary: summarizePayload(d.payload, 80, secretFields),
    jobId: d.jobId,
  };
}

const parseId = (id: string): ObjectId => parseObjectId(id, 'dead-letter');

export class DeadLetters {
  private readonly cols: SwitchboardCollections;
  private readonly engine: Engine;

  constructor(engine: Engine) {
    this.engine = engine;
    this.cols = engine.cols;
  }

  async list(q: ListQuery): Promise<{ items: DeadLetterItem[]; total: number; page: number; limit: number }> {
    const filter: Filter<DeadLetterDoc> = { status: q.status ?? { $in: ['pending', 'retry_scheduled'] } };
    if (q.job) filter.jobName = q.job;
    const limit = Math.min(Math.max(q.limit ?? 20, 1), 500);
    const page = Math.max(q.page ?? 1, 1);
    if (!this.closed(q.status)) {
      const [docs, total] = await Promise.all([
        this.cols.deadLetters.find(filter).sort({ lastFailedAt: -1 }).skip((page - 1) * limit).limit(limit).toArray(),
        this.cols.deadLetters.countDocuments(filter),
      ]);
      return { items: docs.map((d) => toItem(d, this.secretFieldsOf(d.jobName))), total, page, limit };
    }
    // Closed entries: the history, and any not moved there yet; the page is cut from both.
    const parts = await Promise.all(
      this.sources(q.status).map((c) => Promise.all([c.find(filter).sort({ lastFailedAt: -1 }).limit(page * limit).toArray(), c.countDocuments(filter)])),
    );
    const docs = parts
      .flatMap(([d]) => d)
      .sort((a, b) => b.lastFailedAt.getTime() - a.lastFailedAt.getTime())
      .slice((page - 1) * limit, page * limit);
    const total = parts.reduce((n, [, c]) => n + c, 0);
    return { items: docs.map((d) => toItem(d, this.secretFieldsOf(d.jobName))), total, page, limit };
  }

  /** Whether a status filter asks for closed entries. */
  private closed(status: DeadLetterDoc['status'] | undefined): boolean {
    return !!status && CLOSED_STATUSES.includes(status);
  }

  /** Where entries of a status are: closed ones in the history first, and not moved yet. */
  private sources(status: DeadLetterDoc['status'] | undefined): Array<Collection<DeadLetterDoc>> {
    return this.closed(status) ? [this.cols.deadLetterHistory, this.cols.deadLetters] : [this.cols.deadLetters];
  }

  async show(id: string): Promise<DeadLetterItem & { payload: unknown; stackHead?: string; reason: string }> {
    const d = await findDeadLetter(this.cols, { _id: parseId(id) });
    if (!d) throw new OpsError('not_found', `No dead letter ${id}.`);
    const secretFields = this.secretFieldsOf(d.jobName);
    return {
      ...toItem(d, secretFields),
      payload: maskSecrets(d.payload, { secretPaths: secretFields }),
      ...(d.error.stackHead ? { stackHead: maskText(d.error.stackHead) } : {}),
      reason: d.reason,
    };
  }

  /** The job's own secret payload fields; none when the job is no longer defined here. */
  private secretFieldsOf(job: string): readonly string[] | undefined {
    return this.engine.jobs.get(job)?.secretFields;
  }

  /** The entry an operator named, or undefined with the reason added to the skipped ones (the id echoed, capped). */
  private async named(id: string, result: BatchResult): Promise<DeadLetterDoc | undefined> {
    const valid = ObjectId.isValid(id) && id.length === 24;
    const d = valid ? await findDeadLetter(this.cols, { _id: new ObjectId(id) }) : null;
    if (!d) result.skipped.push({ id: echo(id), reason: valid ? 'not found' : 'not a dead-letter id (24 hex characters)' });
    return d ?? undefined;
  }

  /** Retries the given entries, or every pending one of a job type with `all` (an unknown job type is a usage error). */
  async retry(sel: { ids?: string[]; all?: boolean; job?: string; since?: Date }, by: Actor): Promise<BatchResult> {
    const result: BatchResult = { done: [], skipped: [] };
    if (sel.job) requireJob(this.engine.jobs, sel.job);
    if (sel.all) {
      const filter: Filter<DeadLetterDoc> = { status: 'pending', ...(sel.job ? { jobName: sel.job } : {}), ...(sel.since ? { lastFailedAt: { $gte: sel.since } } : {}) };
      // Batches in _id order, so an entry that is skipped is not read again.
      let after: ObjectId | undefined;
      for (;;) {
        const page = after ? { ...filter, _id: { $gt: after } } : filter;
        const batch = await this.cols.deadLetters.find(page).sort({ _id: 1 }).limit(RETRY_BATCH).toArray();
        if (batch.length === 0) break;
        for (const d of batch) await this.retryOne(d, by, result);
        after = batch[batch.length - 1]._id;
      }
      return result;
    }
    for (const id of sel.ids ?? []) {
      const d = await this.named(id, result);
      if (d) await this.retryOne(d, by, result);
    }
    return result;
  }

  private async retryOne(d: DeadLetterDoc, by: Actor, result: BatchResult): Promise<void> {
    const id = String(d._id);
    if (d.status !== 'pending') {
      result.skipped.push({ id, reason: `already ${d.status}` });
      return;
    }
    if (!this.engine.jobs.get(d.jobName)) {
      result.skipped.push({ id, reason: `no job "${d.jobName}" is defined` });
      return;
    }
    // Mark first: a second retry of the same entry then skips it instead of requeueing twice.
    if (!(await markDeadLetter(this.cols, d, 'retry_scheduled', by, new Date()))) {
      result.skipped.push({ id, reason: 'changed meanwhile' });
      return;
    }
    await requeueDeadLetter(this.engine, d, new Date());
    result.done.push(id);
  }

  /** Marks entries `deleted` and moves them to the history (marked first: a retry racing it skips). */
  async delete(ids: string[], by: Actor): Promise<BatchResult> {
    const result: BatchResult = { done: [], skipped: [] };
    for (const id of ids) {
      const d = await this.named(id, result);
      if (!d) continue;
      if (this.closed(d.status)) result.skipped.push({ id, reason: `already ${d.status}` });
      else {
        const set = { status: 'deleted' as const, actedBy: by, actedAt: new Date() };
        if (!(await markDeadLetter(this.cols, d, set.status, by, set.actedAt))) {
          result.skipped.push({ id, reason: 'changed meanwhile' });
          continue;
        }
        await moveToHistory(this.cols, [{ ...d, ...set }]);
        result.done.push(id);
      }
    }
    return result;
  }

  /** CSV (RFC 4180) of the open entries, streamed line by line. */
  async *exportCsv(q: { job?: string; status?: DeadLetterDoc['status'] }): AsyncGenerator<string> {
    yield csvLine(['id', 'job', 'status', 'attempts', 'error_class', 'error', 'first_failed_at', 'last_failed_at', 'payload']);
    const filter: Filter<DeadLetterDoc> = { status: q.status ?? { $in: ['pending', 'retry_scheduled'] } };
    if (q.job) filter.jobName = q.job;
    for (const col of this.sources(q.status)) {
      for await (const d of col.find(filter).sort({ lastFailedAt: -1 }).batchSize(500)) yield this.csvRow(d);
    }
  }

  private csvRow(d: DeadLetterDoc): string {
    return csvLine([
      String(d._id),
      d.jobName,
      d.status,
      String(d.attempts),
      d.error.class,
      maskText(d.error.message),
      d.firstFailedAt.toISOString(),
      d.lastFailedAt.toISOString(),
      JSON.stringify(maskSecrets(d.payload, { secretPaths: this.secretFieldsOf(d.jobName) })) ?? '',
    ]);
  }
}

/** One CSV record with RFC 4180 quoting and CRLF. */
export function csvLine(cells: string[]): string {
  return `${cells.map((c) => (/[",\r\n]/.test(c) ? `"${c.replace(/"/g, '""')}"` : c)).join(',')}\r\n`;
}
