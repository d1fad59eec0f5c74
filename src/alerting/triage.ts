/**
 * Triage of a failure alert: the recent errors of the job type (the per-minute rollups' error
 * samples, else its open dead letters; never a scan of the run records),
 * grouped by cause class with counts and samples, the runbook's next step, and, when the AI is
 * configured and answers well, its summary and suggested action marked as AI-written.
 */
import type { ErrorInfo, SwitchboardCollections } from '../db/collections.ts';
import { recentErrors } from '../engine/rollupStore.ts';
import type { AiSummarizer } from './aiSummary.ts';
import { classifyError, runbookStep, type CauseClass } from './classifier.ts';
import { redactSecrets } from './redact.ts';

/** Errors looked at per triage. */
const SAMPLE_LIMIT = 300;

/** Failures of one cause class. */
export interface TriageGroup {
  cls: CauseClass;
  count: number;
  /** Up to three distinct messages, most frequent first. */
  samples: string[];
}

/** The failures of one job type, grouped. */
export interface Triage {
  job: string;
  total: number;
  groups: TriageGroup[];
  /** The largest group's class and its runbook step. */
  top?: { cls: CauseClass; count: number; step: string };
}

/**
 * The recent failures of several job types at once (one query, not one per alert), newest first:
 * failed/dead attempts in [since, until] as the rollups sampled them, else the types' pending
 * dead letters.
 */
export async function recentErrorsByJob(cols: SwitchboardCollections, jobs: string[], since: Date, until: Date): Promise<Map<string, ErrorInfo[]>> {
  if (!jobs.length) return new Map();
  const out = await recentErrors(cols, jobs, since, until, SAMPLE_LIMIT);
  const add = (job: string, e: ErrorInfo | undefined) => {
    const list = out.get(job);
    if (e && list && list.length < SAMPLE_LIMIT) list.push(e);
  };
  const missing = jobs.filter((j) => !out.get(j)!.length);
  if (missing.length) {
    const dead = await cols.deadLetters
      .find({ status: 'pending', jobName: { $in: missing }, lastFailedAt: { $gte: since } }, { projection: { jobName: 1, error: 1 } })
      .sort({ lastFailedAt: -1 })
      .limit(SAMPLE_LIMIT * missing.length)
      .toArray();
    for (const d of dead) add(d.jobName, d.error);
  }
  return out;
}

/** Failures grouped by cause class, largest group first. */
export function groupErrors(job: string, errors: ErrorInfo[]): Triage {
  const groups = new Map<CauseClass, { count: number; messages: Map<string, number> }>();
  for (const e of errors) {
    const { cls } = classifyError(e);
    const g = groups.get(cls) ?? { count: 0, messages: new Map() };
    g.count++;
    const msg = redactSecrets(`${e.class && e.class !== 'Error' ? `${e.class}: ` : ''}${(e.message ?? '').replace(/\s+/g, ' ').trim().slice(0, 300)}`);
    g.messages.set(msg, (g.messages.get(msg) ?? 0) + 1);
    groups.set(cls, g);
  }
  const list: TriageGroup[] = [...groups.entries()]
    .map(([cls, g]) => ({ cls, count: g.count, samples: [...g.messages.entries()].sort((a, b) => b[1] - a[1]).slice(0, 3).map(([m]) => m) }))
    .sort((a, b) => b.count - a.count || a.cls.localeCompare(b.cls));
  const first = list[0];
  return { job, total: errors.length, groups: list, ...(first ? { top: { cls: first.cls, count: first.count, step: runbookStep(first.cls, job) } } : {}) };
}

/** The deterministic note: one line per cause class with its count, sample and next step. */
export function deterministicNote(t: Triage): string {
  if (!t.total) return `Triage: no recent error messages of ${t.job} on record.`;
  const lines = [`Triage of ${t.total} recent failure${t.total === 1 ? '' : 's'} of ${t.job}:`];
  for (const g of t.groups) {
    lines.push(`• ${g.cls} — ${g.count} failure${g.count === 1 ? '' : 's'}, e.g. "${g.samples[0]?.slice(0, 160) ?? ''}"`);
    lines.push(`  Next: ${runbookStep(g.cls, t.job)}`);
  }
  return lines.join('\n');
}

/** The full note: deterministic text, plus the AI's summary and action when it answered well. */
export async function triageNote(t: Triage, rule: string, ai?: AiSummarizer): Promise<{ text: string; ai: boolean }> {
  const text = deterministicNote(t);
  if (!ai || !t.total) return { text, ai: false };
  const answer = await ai.summarize({ rule, job: t.job, groups: t.groups });
  if (!answer) return { text, ai: false };
  return { text: `${text}\n\n🤖 AI-written summary (may be wrong): ${answer.summary}\nSuggested action (AI-written): ${answer.action}`, ai: true };
}
