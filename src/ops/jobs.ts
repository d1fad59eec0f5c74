/**
 * Job operations: list, show, run (optionally waiting), cancel, pause and resume a job type.
 * What they return is a view: payloads, errors and run records come with secrets masked.
 */
import { ObjectId, type Filter } from 'mongodb';
import type { Actor, AgendaJobDoc, JobRunDoc, SwitchboardCollections } from '../db/collections.ts';
import type { Engine } from '../engine/engine.ts';
import { PayloadError } from '../engine/errors.ts';
import { FINISHED_JOBS } from '../engine/retirement.ts';
import { cancelJob } from '../engine/jobControl.ts';
import { pauseKey, type SwitchState } from '../engine/settings.ts';
import { OpsError, UsageError } from '../errors.ts';
import { parseObjectId, requireJob } from './ids.ts';
import { stateFilter, stateOf, type JobState } from './jobStates.ts';
import { insertOnce } from '../db/insertOnce.ts';
import { retention, type RetentionRule } from '../db/retention.ts';
import { maskSecrets, maskText } from '../util/secrets.ts';
import { systemClock, type Clock } from '../util/clock.ts';

export interface JobItem {
  id: string;
  job: string;
  state: JobState;
  nextRunAt: Date | null;
  lastRunAt: Date | null;
  failCount: number;
  lastError: string | null;
  attempts: number;
}

function toItem(j: AgendaJobDoc): JobItem {
  return {
    id: String(j._id),
    job: j.name,
    state: stateOf(j),
    nextRunAt: j.nextRunAt ?? null,
    lastRunAt: j.lastRunAt ?? null,
    failCount: j.failCount ?? 0,
    lastError: j.failReason ? maskText(j.failReason) : null,
    attempts: j.sb?.attempts ?? 0,
  };
}

const jobObjectId = (id: string): ObjectId => parseObjectId(id, 'job');

export interface RunOptions {
  at?: Date | string;
  dedupeKey?: string;
  /** With dedupeKey: skip when the same key was enqueued this recently (default 1 h). */
  dedupeWindowMs?: number;
  enqueuedBy?: string;
}

export const DEFAULT_DEDUPE_WINDOW_MS = 3600_000;

/** Dedupe keys older than 30 days (the longest window that holds) go (`maintenance.cleanup`). */
export const dedupeRetention: RetentionRule = retention('dedupeKeys', (c) => ({ at: { $lt: new Date(c.now.getTime() - 30 * 24 * 3600_000) } }));

interface DedupeDoc {
  _id: string;
  jobId: string;
  at: Date;
}

export class Jobs {
  private readonly engine: Engine;
  private readonly cols: SwitchboardCollections;
  private readonly clock: Clock;

  /** `clock`: the time dedupe windows and pause records are measured on. */
  constructor(engine: Engine, clock: Clock = systemClock) {
    this.engine = engine;
    this.cols = engine.cols;
    this.clock = clock;
  }

  async list(q: { job?: string; state?: JobState; limit?: number }): Promise<{ items: JobItem[]; total: number }> {
    const filter: Filter<AgendaJobDoc> = { ...(q.state ? stateFilter(q.state) : {}), ...(q.job ? { name: q.job } : {}) };
    const limit = Math.min(Math.max(q.limit ?? 20, 1), 500);
    const [docs, total] = await Promise.all([
      this.cols.agendaJobs.find(filter, { projection: { data: 0 } }).sort({ nextRunAt: -1, _id: -1 }).limit(limit).toArray(),
      this.cols.agendaJobs.countDocuments(filter),
    ]);
    if (q.state !== 'completed') return { items: docs.map(toItem), total };
    // Completed one-off jobs leave the live set shortly after (src/engine/retirement.ts).
    const done = q.job ? { name: q.job } : {};
    const [retired, retiredTotal] = await Promise.all([
      this.finished().find(done, { projection: { data: 0 } }).sort({ lastFinishedAt: -1, _id: -1 }).limit(limit).toArray(),
      this.finished().countDocuments(done),
    ]);
    const seen = new Set(docs.map((d) => String(d._id)));
    const items = [...docs, ...retired.filter((d) => !seen.has(String(d._id)))]
      .sort((a, b) => (b.lastFinishedAt?.getTime() ?? 0) - (a.lastFinishedAt?.getTime() ?? 0))
      .slice(0, limit);
    return { items: items.map(toItem), total: total + retiredTotal };
  }

  private finished() {
    return this.engine.db.collection<AgendaJobDoc>(FINISHED_JOBS);
  }

  async show(id: string): Promise<JobItem & { payload: unknown; runs: JobRunDoc[]; schedule: string | null }> {
    const _id = jobObjectId(id);
    const j = (await this.cols.agendaJobs.findOne({ _id })) ?? (await this.finished().findOne({ _id }));
    if (!j) throw new OpsError('not_found', `No job ${id}.`);
    const runs = await this.cols.jobRuns.find({ jobId: id }).sort({ startedAt: -1 }).limit(5).toArray();
    const secretPaths = (this.secretFieldsOf(j.name) ?? []).map((p) => `payload.${p}`);
    return maskSecrets({ ...toItem(j), payload: j.data, runs, schedule: j.repeatInterval ? String(j.repeatInterval) : null }, { secretPaths });
  }

  /** The job types this process defines, sorted. */
  names(): string[] {
    return this.engine.jobs.names();
  }

  /** The payload fields a job masks beyond the key rules (its secretFields); none for a job not defined here. */
  secretFieldsOf(name: string): readonly string[] | undefined {
    return this.engine.jobs.get(name)?.secretFields;
  }

  /** A payload of job `name` as views and the audit trail show it: its secrets masked. */
  maskPayload<T>(name: string, payload: T): T {
    return maskSecrets(payload, { secretPaths: this.secretFieldsOf(name) });
  }

  /** Validates and enqueues; a bad payload or unknown job is a usage error naming the field. */
  async run(
    name: string,
    payload: unknown,
    opts: RunOptions = {},
  ): Promise<{ id: string; job: string; status: 'queued' | 'scheduled' | 'skipped'; nextRunAt: Date | null; duplicateOf?: { id: string; at: Date } }> {
    requireJob(this.engine.jobs, name);
    try {
      // Before the dedupe key is taken: a refused payload must not hold the key for its window.
      this.engine.checkPayload(name, payload);
      if (opts.dedupeKey) {
        const dup = await this.dedupe(name, opts.dedupeKey, opts.dedupeWindowMs ?? DEFAULT_DEDUPE_WINDOW_MS);
        if (dup) return { id: dup.jobId, job: name, status: 'skipped', nextRunAt: null, duplicateOf: { id: dup.jobId, at: dup.at } };
      }
      const { id, nextRunAt } = await this.engine.enqueue(name, payload, opts);
      if (opts.dedupeKey) await this.db().collection<DedupeDoc>('dedupeKeys').updateOne({ _id: `${name}:${opts.dedupeKey}` }, { $set: { jobId: id } });
      const status = nextRunAt && nextRunAt.getTime() > Date.now() + 1000 ? 'scheduled' : 'queued';
      return { id, job: name, status, nextRunAt };
    } catch (err) {
      if (err instanceof PayloadError) throw new UsageError(`Payload refused: ${err.message}.`);
      throw err;
    }
  }

  private db() {
    return this.engine.db;
  }

  /**
   * The enqueue this one duplicates, if the key was used within the window. Taking a fresh key is
   * a unique insert (atomic everywhere), so two simultaneous enqueues with one key make one job.
   */
  private async dedupe(job: string, key: string, windowMs: number): Promise<DedupeDoc | undefined> {
    const col = this.db().collection<DedupeDoc>('dedupeKeys');
    const _id = `${job}:${key}`;
    const now = this.clock.now();
    if (await insertOnce(col, { _id, jobId: '', at: now })) return undefined;
    const existing = await col.findOne({ _id });
    if (existing && now.getTime() - existing.at.getTime() < windowMs) return existing;
    // The window has passed: this enqueue starts a new one.
    await col.updateOne({ _id, at: existing?.at ?? now }, { $set: { at: now, jobId: '' } });
    return undefined;
  }

  /**
   * Waits for a job's last attempt: success, or the failure that dead-lettered it (a failed
   * attempt that will be retried is followed by the next), polling its run records. `onRun` hears
   * each attempt as it starts and as it ends; errors and telemetry come masked. Undefined on timeout.
   */
  async waitForOutcome(id: string, timeoutMs: number, opts: { onRun?: (run: JobRunDoc) => void; signal?: AbortSignal } = {}): Promise<JobRunDoc | undefined> {
    const deadline = Date.now() + timeoutMs;
    const told = new Map<string, JobRunDoc['outcome']>();
    while (Date.now() < deadline && !opts.signal?.aborted) {
      const runs = await this.cols.jobRuns.find({ jobId: id }).sort({ startedAt: 1 }).toArray();
      for (const run of runs) {
        const key = String(run._id);
        if (told.get(key) === run.outcome) continue;
        if (run.outcome !== 'running' && !told.has(key)) opts.onRun?.(maskSecrets({ ...run, outcome: 'running', error: undefined, finishedAt: undefined }));
        told.set(key, run.outcome);
        opts.onRun?.(maskSecrets(run));
        if (run.outcome === 'success' || run.outcome === 'dead') return maskSecrets(run);
      }
      await new Promise((r) => setTimeout(r, 200));
    }
    return undefined;
  }

  /** Removes a job that is not running. */
  async cancel(id: string): Promise<{ id: string; job: string }> {
    const r = await cancelJob(this.engine, jobObjectId(id));
    if (r === 'not_found') throw new OpsError('not_found', `No job ${id}.`);
    if (r === 'running') throw new OpsError('conflict', `Job ${id} is running; it cannot be cancelled until the attempt ends.`);
    return { id, job: r.job };
  }

  /** Pauses or resumes a job type in every process; returns the state before. */
  async setPaused(name: string, active: boolean, reason: string, by: Actor): Promise<{ before: SwitchState; after: SwitchState }> {
    requireJob(this.engine.jobs, name);
    const before = this.engine.settings.pause(name);
    if (before.active === active) return { before, after: before };
    const after: SwitchState = { active, reason, by, at: this.clock.now() };
    await this.engine.settings.set(pauseKey(name), after, by, reason);
    return { before, after };
  }
}
