/**
 * The collections Switchboard owns, their document shapes and their indexes. `ensureIndexes()`
 * is idempotent and runs at every start. FerretDB v1 has no TTL or partial indexes: retention is
 * the `maintenance.cleanup` job's work.
 */
import type { Collection, Db, IndexDescription, ObjectId } from 'mongodb';
import type { RunRollupDoc } from '../engine/rollups.ts';

/** Who did something: a chat user, the CLI, or the engine itself. */
export interface Actor {
  platform: 'cli' | 'console' | 'slack' | 'telegram' | 'http' | 'system';
  id: string;
  name: string;
}

export interface ErrorInfo {
  message: string;
  class: string;
  code?: string;
  stackHead?: string;
}

export type DeadLetterStatus = 'pending' | 'retry_scheduled' | 'retried' | 'deleted';

export interface DeadLetterDoc {
  _id: ObjectId;
  jobId: string;
  /** How many times this job had been dead-lettered before: with jobId, the idempotency key. */
  generation: number;
  jobName: string;
  payload: unknown;
  error: ErrorInfo;
  attempts: number;
  reason: 'retries_exhausted' | 'invalid_payload' | 'reconciled';
  firstFailedAt: Date;
  lastFailedAt: Date;
  status: DeadLetterStatus;
  createdAt: Date;
  actedBy?: Actor;
  actedAt?: Date;
  actionReason?: string;
  /** Set when a retry had to enqueue a new job (the original document was gone). */
  retryJobId?: string;
}

export type RunOutcome = 'running' | 'success' | 'failed' | 'dead' | 'aborted';

export interface JobRunDoc {
  _id: ObjectId;
  jobId: string;
  jobName: string;
  attempt: number;
  /** The job's DLQ generation (its budget); absent on records written before it was kept. */
  generation?: number;
  startedAt: Date;
  finishedAt?: Date;
  durationMs?: number;
  outcome: RunOutcome;
  error?: ErrorInfo;
  counts: Record<string, number>;
  telemetry: Array<{ tool: string; at: Date; data: Record<string, unknown> }>;
  progress?: number;
  worker: string;
  timeoutMs: number;
}

export interface AuditDoc {
  _id?: ObjectId;
  at: Date;
  action: string;
  actor: Actor;
  command?: string;
  target?: string;
  reason?: string;
  outcome: 'ok' | 'denied' | 'error';
  error?: string;
  detail?: Record<string, unknown>;
}

export interface SettingDoc {
  _id: string;
  value: unknown;
  updatedAt: Date;
  updatedBy?: Actor;
  reason?: string;
}

export interface SwitchboardCollections {
  deadLetters: Collection<DeadLetterDoc>;
  /** Closed dead letters (`retried`, `deleted`), moved out of `deadLetters` so they never slow its counts. */
  deadLetterHistory: Collection<DeadLetterDoc>;
  jobRuns: Collection<JobRunDoc>;
  runRollups: Collection<RunRollupDoc>;
  /** Rollups of whole hours, folded from `runRollups` (src/engine/rollupStore.ts). */
  runRollupsHourly: Collection<RunRollupDoc>;
  auditLog: Collection<AuditDoc>;
  settings: Collection<SettingDoc>;
  agendaJobs: Collection<AgendaJobDoc>;
}

/** The fields of Agenda's job documents that we read, plus our own `sb` bookkeeping. */
export interface AgendaJobDoc {
  _id: ObjectId;
  name: string;
  data: unknown;
  priority?: number;
  type?: 'normal' | 'single';
  nextRunAt: Date | null;
  lockedAt?: Date | null;
  lastRunAt?: Date | null;
  lastFinishedAt?: Date | null;
  failedAt?: Date | null;
  failCount?: number | null;
  failReason?: string | null;
  repeatInterval?: string | number;
  disabled?: boolean;
  /** Switchboard's bookkeeping: attempts of the current budget, DLQ generation, dedupe key. */
  sb?: {
    attempts?: number;
    generation?: number;
    dedupeKey?: string;
    enqueuedBy?: string;
    /** The dead letter whose retry queued this run: its success marks the entry `retried`. */
    retriedFrom?: string;
  };
}

/** Agenda's job parameters (or a Job's attrs) carry our `sb` bookkeeping through its saves. */
export type WithBookkeeping = { sb?: AgendaJobDoc['sb'] };

export function collections(db: Db): SwitchboardCollections {
  return {
    deadLetters: db.collection<DeadLetterDoc>('deadLetters'),
    deadLetterHistory: db.collection<DeadLetterDoc>('deadLetterHistory'),
    jobRuns: db.collection<JobRunDoc>('jobRuns'),
    runRollups: db.collection<RunRollupDoc>('runRollups'),
    runRollupsHourly: db.collection<RunRollupDoc>('runRollupsHourly'),
    auditLog: db.collection<AuditDoc>('auditLog'),
    settings: db.collection<SettingDoc>('settings'),
    agendaJobs: db.collection<AgendaJobDoc>('agendaJobs'),
  };
}

export const coreIndexes: IndexPlan = {
  // One-off jobs that succeeded, moved out of agendaJobs (src/engine/retirement.ts).
  finishedJobs: [
    { key: { name: 1, lastFinishedAt: -1 }, name: 'name_lastFinishedAt' },
    { key: { lastFinishedAt: -1 }, name: 'lastFinishedAt' },
  ],
  deadLetters: [
    { key: { status: 1, jobName: 1, lastFailedAt: -1 }, name: 'status_job_lastFailed' },
    { key: { jobId: 1, generation: 1 }, name: 'job_generation_unique', unique: true },
    { key: { createdAt: -1 }, name: 'createdAt' },
  ],
  deadLetterHistory: [
    { key: { status: 1, jobName: 1, lastFailedAt: -1 }, name: 'status_job_lastFailed' },
    { key: { jobId: 1, generation: 1 }, name: 'job_generation' },
  ],
  jobRuns: [
    { key: { jobName: 1, startedAt: -1 }, name: 'job_startedAt' },
    { key: { startedAt: -1 }, name: 'startedAt' },
    { key: { jobId: 1, attempt: -1 }, name: 'jobId_attempt' },
    { key: { outcome: 1, startedAt: -1 }, name: 'outcome_startedAt' },
  ],
  auditLog: [
    { key: { at: -1 }, name: 'at' },
    { key: { action: 1, at: -1 }, name: 'action_at' },
  ],
  agendaJobs: [
    { key: { name: 1, nextRunAt: 1 }, name: 'sb_name_nextRunAt' },
    { key: { nextRunAt: 1 }, name: 'sb_nextRunAt' },
    { key: { lockedAt: 1 }, name: 'sb_lockedAt' },
    { key: { name: 1, failedAt: -1 }, name: 'sb_name_failedAt' },
    { key: { 'sb.dedupeKey': 1, name: 1 }, name: 'sb_dedupeKey' },
  ],
};

/**
 * The indexes of collections a module owns. Each owning module exports its plan; the composition
 * root (src/app/schema.ts) collects them, so nothing is registered when a module is imported.
 */
export type IndexPlan = Record<string, IndexDescription[]>;

/**
 * Creates the indexes of every plan that the server does not have yet: one `listIndexes` per
 * collection, then one `createIndexes` per missing index. Safe to run on every start and from
 * several processes (creating an index that exists is a no-op).
 */
export async function ensureIndexes(db: Db, plans: readonly IndexPlan[]): Promise<void> {
  const wanted = new Map<string, Map<string, IndexDescription>>();
  for (const plan of plans) {
    for (const [name, list] of Object.entries(plan)) {
      const byName = wanted.get(name) ?? new Map<string, IndexDescription>();
      for (const index of list) if (!byName.has(String(index.name))) byName.set(String(index.name), index);
      wanted.set(name, byName);
    }
  }
  for (const [name, indexes] of wanted) {
    const existing = new Set((await db.collection(name).listIndexes().toArray().catch(() => [])).map((i) => String(i.name)));
    // One index per command: FerretDB v1 drops the connection (a server panic) when one
    // createIndexes command names two or more indexes that all exist already.
    for (const index of indexes.values()) if (!existing.has(String(index.name))) await db.collection(name).createIndexes([index]);
  }
}
