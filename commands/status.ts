/** `status`: kill switch, pauses, per-job counts, DLQ, recurring jobs. */
import { z } from 'zod';
import { command } from './define.ts';
import { fmtDate, truncate } from '../src/chat/reply.ts';

const pct = (r: number | null) => (r === null ? '—' : `${Math.round(r * 1000) / 10}%`);

export const statusCommand = command({
  path: ['status'],
  summary: 'Kill switch, paused jobs, queue counts per job type, DLQ, recurring jobs',
  usage: 'status',
  examples: ['status', 'status --json'],
  role: 'viewer',
  args: z.object({}),
  async run(_args, { ops }) {
    const s = await ops.status();
    const ks = s.killSwitch.active ? `ON since ${fmtDate(s.killSwitch.at)} by ${s.killSwitch.by}: ${s.killSwitch.reason}` : 'off';
    const fields = [
      { label: 'Kill switch', value: ks },
      { label: 'Paused', value: s.pausedJobs.length ? s.pausedJobs.join(', ') : 'none' },
      { label: 'DLQ', value: `${s.dlq.pending} pending, ${s.dlq.retry_scheduled} retry scheduled` },
    ];
    if (s.breakers.length) fields.push({ label: 'Breakers', value: s.breakers.map((b) => `${b.provider}: ${b.state}`).join(', ') });
    fields.push({ label: 'As of', value: fmtDate(s.at) });
    for (const r of s.recurring) {
      fields.push({ label: `⟳ ${r.job}`, value: `next ${fmtDate(r.nextRunAt)}${r.lastError ? `, last error: ${truncate(r.lastError, 80)}` : ''}` });
    }
    const rows = s.jobs.map((j) => [
      j.job,
      String(j.queued),
      String(j.running),
      String(j.scheduled),
      String(j.failedLastHour),
      pct(j.successRate15m),
      j.oldestOverdueAt ? fmtDate(j.oldestOverdueAt) : '—',
    ]);
    const actions = s.killSwitch.active
      ? [{ label: 'Kill switch off', command: 'killswitch off --reason "resumed from status"', style: 'primary' as const }]
      : s.dlq.pending
        ? [{ label: 'Show DLQ', command: 'dlq list' }]
        : [];
    return {
      title: s.killSwitch.active ? 'Switchboard: KILL SWITCH ON' : 'Switchboard status',
      text: `Kill switch ${s.killSwitch.active ? 'ON' : 'off'}; ${s.jobs.reduce((n, j) => n + j.queued, 0)} queued, ${s.jobs.reduce((n, j) => n + j.running, 0)} running; DLQ ${s.dlq.pending} pending.`,
      fields,
      table: { columns: ['job', 'queued', 'running', 'scheduled', 'failed 1h', 'ok 15m', 'oldest overdue'], rows },
      actions,
      data: s,
    };
  },
});
