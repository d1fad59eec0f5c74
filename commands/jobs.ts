/** `jobs list|show|run|retry-failed|cancel|pause|resume`. */
import { z } from 'zod';
import { command } from './define.ts';
import { reason, duration as durationArg, when } from './args.ts';
import { actedOn, asTargets } from '../src/chat/outcome.ts';
import { fmtDate, truncate } from '../src/chat/reply.ts';
import { quoteArg } from '../src/chat/grammar.ts';
import { formatDuration } from '../src/util/duration.ts';
import { UsageError } from '../src/errors.ts';
import type { JobRunDoc } from '../src/db/collections.ts';

const duration = durationArg();

/** One progress line of `jobs run --wait`: an attempt started, failed (and will be retried), or ended. */
function attemptLine(r: JobRunDoc): string {
  const err = r.error ? `: ${truncate(r.error.message, 200)}` : '';
  switch (r.outcome) {
    case 'running':
      return `Attempt ${r.attempt} started at ${fmtDate(r.startedAt)}.`;
    case 'failed':
      return `Attempt ${r.attempt} failed after ${formatDuration(r.durationMs ?? 0)}${err}; it will be retried.`;
    case 'aborted':
      return `Attempt ${r.attempt} did not count${err}; it will run again.`;
    default:
      return `Attempt ${r.attempt} ended: ${r.outcome} in ${formatDuration(r.durationMs ?? 0)}${err}.`;
  }
}
const STATES = ['queued', 'running', 'scheduled', 'failed', 'completed'] as const;

export const jobsCommands = [
  command({
    path: ['jobs', 'list'],
    summary: 'Jobs by type and state, newest first',
    usage: 'jobs list [--job NAME] [--state queued|running|scheduled|failed|completed] [--limit N]',
    examples: ['jobs list --state failed', 'jobs list --job http.invoke --limit 50'],
    role: 'viewer',
    args: z.object({ job: z.string().optional(), state: z.enum(STATES).optional(), limit: z.coerce.number().int().min(1).max(500).default(20) }),
    async run(a, { ops }) {
      const { items, total } = await ops.jobs.list(a);
      return {
        text: `${total} job${total === 1 ? '' : 's'}${a.state ? ` ${a.state}` : ''}${a.job ? ` of ${a.job}` : ''}; showing ${items.length}.`,
        table: {
          columns: ['id', 'job', 'state', 'next run', 'last run', 'fails', 'last error'],
          rows: items.map((i) => [i.id, i.job, i.state, fmtDate(i.nextRunAt), fmtDate(i.lastRunAt), String(i.failCount), truncate(i.lastError ?? '', 50)]),
        },
        data: { items, total },
      };
    },
  }),
  command({
    path: ['jobs', 'show'],
    summary: 'One job: state, payload, last runs',
    usage: 'jobs show ID',
    examples: ['jobs show 6b06fd57a0c7f55c4d0f6ad6'],
    role: 'viewer',
    positionals: ['id'],
    args: z.object({ id: z.string({ error: 'give the job ID' }) }),
    async run({ id }, { ops }) {
      const j = await ops.jobs.show(id);
      return {
        title: `${j.job} ${j.id}`,
        text: `${j.job} is ${j.state}.`,
        fields: [
          { label: 'State', value: j.state },
          { label: 'Next run', value: fmtDate(j.nextRunAt) },
          { label: 'Last run', value: fmtDate(j.lastRunAt) },
          { label: 'Attempts', value: String(j.attempts) },
          { label: 'Last error', value: j.lastError ?? '—' },
          { label: 'Payload', value: truncate(JSON.stringify(j.payload) ?? '', 500) },
        ],
        table: {
          columns: ['attempt', 'started', 'outcome', 'ms', 'error'],
          rows: j.runs.map((r) => [String(r.attempt), fmtDate(r.startedAt), r.outcome, String(r.durationMs ?? ''), truncate(r.error?.message ?? '', 60)]),
        },
        data: j,
        audit: { target: id },
      };
    },
  }),
  command({
    path: ['jobs', 'run'],
    summary: 'Enqueue a job with a JSON payload (checked against its schema)',
    usage: 'jobs run NAME [PAYLOAD_JSON] [--at WHEN] [--wait] [--timeout DURATION] [--dedupe-key KEY --dedupe-window DURATION]',
    description: 'With --wait, follows the job through its retries (one line as each attempt starts and fails) and prints how it ended: success, or dead (in the DLQ). WHEN is an ISO date (2025-06-01T09:30Z) or "in" and a duration ("in 10 minutes").',
    examples: ['jobs run http.invoke {"url":"https://example.com/hook"}', 'jobs run http.invoke {"url":"https://example.com"} --wait', 'jobs run maintenance.cleanup --at "in 10 minutes"'],
    role: 'operator',
    positionals: ['name'],
    payloadArg: 'payload',
    booleanFlags: ['wait'],
    args: z.object({
      name: z.string({ error: 'give the job name' }),
      payload: z.record(z.string(), z.unknown()).default({}),
      at: when.optional(),
      wait: z.boolean().default(false),
      timeout: duration.default(5 * 60_000),
      dedupeKey: z.string().min(1).optional(),
      dedupeWindow: duration.optional(),
    }),
    async run(a, { ops, actor, progress }) {
      if (a.dedupeWindow !== undefined && !a.dedupeKey) throw new UsageError('--dedupe-window needs --dedupe-key.');
      if (a.wait && a.dedupeKey) throw new UsageError('--wait and --dedupe-key do not go together.');
      const queued = await ops.jobs.run(a.name, a.payload, { at: a.at, dedupeKey: a.dedupeKey, dedupeWindowMs: a.dedupeWindow, enqueuedBy: `${actor.platform}:${actor.id}` });
      // The audit trail records what was run, not the credentials it was run with.
      const payload = ops.jobs.maskPayload(a.name, a.payload);
      const audit = { target: `${a.name} ${queued.id}`, detail: { payload } };
      if (queued.duplicateOf) {
        return {
          text: `Skipped: ${a.name} with dedupe key "${a.dedupeKey}" was enqueued at ${fmtDate(queued.duplicateOf.at)} as ${queued.duplicateOf.id || '(being enqueued)'}, within the window.`,
          data: { id: queued.id, job: a.name, status: 'skipped', duplicateOf: queued.duplicateOf },
          audit: { ...audit, detail: { ...audit.detail, skipped: true } },
        };
      }
      if (!a.wait) {
        return {
          text: `Enqueued ${a.name} as ${queued.id}${queued.status === 'scheduled' ? ` for ${fmtDate(queued.nextRunAt)}` : ''}.`,
          data: { id: queued.id, job: a.name, status: queued.status },
          actions: [{ label: 'Show', command: `jobs show ${queued.id}` }],
          audit,
        };
      }
      progress(`Enqueued ${a.name} as ${queued.id}; waiting up to ${formatDuration(a.timeout)} for it to finish.`);
      const run = await ops.jobs.waitForOutcome(queued.id, a.timeout, { onRun: (r) => progress(attemptLine(r)) });
      if (!run) {
        return {
          text: `Enqueued ${a.name} as ${queued.id}, but no worker finished an attempt within ${formatDuration(a.timeout)}; is \`switchboard serve\` running?`,
          data: { id: queued.id, job: a.name, outcome: 'pending', durationMs: null, counts: {}, error: null },
          audit,
        };
      }
      const error = run.error?.message ?? null;
      return {
        text: `${a.name} ${queued.id}: ${run.outcome} in ${formatDuration(run.durationMs ?? 0)}${Object.keys(run.counts).length ? `, ${Object.entries(run.counts).map(([k, v]) => `${k} ${v}`).join(', ')}` : ''}${error ? `: ${error}` : ''}.`,
        data: { id: queued.id, job: a.name, outcome: run.outcome, durationMs: run.durationMs ?? null, counts: run.counts, error },
        audit,
      };
    },
  }),
  command({
    path: ['jobs', 'retry-failed'],
    summary: 'Retry dead-lettered jobs, optionally of one type and failed within a window',
    usage: 'jobs retry-failed [--job NAME] [--since DURATION]',
    examples: ['jobs retry-failed --job http.invoke --since 1h'],
    role: 'operator',
    args: z.object({ job: z.string().optional(), since: duration.optional() }),
    async run({ job, since }, { ops, actor }) {
      const res = await ops.deadLetters.retry({ all: true, job, since: since === undefined ? undefined : new Date(Date.now() - since) }, actor);
      return {
        ...actedOn({ done: res.done.length, skipped: asTargets(res.skipped), verb: 'Retried', noun: `failed job${job ? ` of ${job}` : ''}`, nothing: `nothing to retry${job ? ` of ${job}` : ''}` }),
        data: { retried: res.done, skipped: res.skipped },
        audit: { target: job ?? 'all', detail: { retried: res.done.length } },
      };
    },
  }),
  command({
    path: ['jobs', 'cancel'],
    summary: 'Remove a job that is not running',
    usage: 'jobs cancel ID',
    examples: ['jobs cancel 6b06fd57a0c7f55c4d0f6ad6'],
    role: 'operator',
    positionals: ['id'],
    args: z.object({ id: z.string({ error: 'give the job ID' }) }),
    async run({ id }, { ops }) {
      const res = await ops.jobs.cancel(id);
      return { text: `Cancelled ${res.job} ${id}.`, data: res, audit: { target: `${res.job} ${id}` } };
    },
  }),
  ...(['pause', 'resume'] as const).map((mode) =>
    command({
      path: ['jobs', mode],
      summary: mode === 'pause' ? 'Hold every new attempt of a job type (queued jobs wait)' : 'Let a paused job type run again',
      usage: `jobs ${mode} NAME --reason TEXT`,
      examples: [`jobs ${mode} http.invoke --reason "${mode === 'pause' ? 'partner API migration' : 'migration done'}"`],
      role: 'operator',
      positionals: ['name'],
      args: z.object({ name: z.string({ error: 'give the job name' }), reason }),
      async run({ name, reason: why }, { ops, actor }) {
        const { before, after } = await ops.jobs.setPaused(name, mode === 'pause', why, actor);
        const changed = before.active !== after.active;
        return {
          text: changed ? `${name} ${mode === 'pause' ? 'paused' : 'resumed'}.` : `${name} was already ${mode === 'pause' ? 'paused' : 'running'}; nothing changed.`,
          ephemeral: false,
          data: { job: name, paused: after.active, reason: after.reason ?? null, changed },
          actions: mode === 'pause' && changed ? [{ label: 'Resume', command: `jobs resume ${quoteArg(name)} --reason "resumed from chat"`, style: 'primary' }] : [],
          audit: { target: name, reason: why, detail: { changed } },
        };
      },
    }),
  ),
];
