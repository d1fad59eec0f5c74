/**
 * The first alert sources, until the alert rules arrive: engine/ops events become AlertEvents
 * for the notifiers. A job entering the DLQ (grouped per job type, key `dlq:<job>`, resolved when
 * that job has no pending dead letter left), the kill switch (`killswitch`), and paused job types
 * (`pause:<job>`); pauses and the kill switch are also noted in the open DLQ threads.
 */
import { quoteArg } from '../chat/grammar.ts';
import { truncate } from '../chat/reply.ts';
import type { DeadLetterDoc } from '../db/collections.ts';
import type { SettingChange, SwitchState } from '../engine/settings.ts';
import { maskSecrets } from '../util/secrets.ts';
import type { Logger } from '../log.ts';
import type { Ops } from '../ops/index.ts';
import { summarizePayload } from '../ops/deadLetters.ts';
import type { AlertEvent, AlertView, Notifier } from './types.ts';
import { insertOnce } from '../db/insertOnce.ts';

export interface FirstSourcesOptions {
  /** How often open DLQ alerts check whether their job's DLQ is empty (default 30 s). */
  dlqCheckEveryMs?: number;
  /**
   * Alert on DLQ arrivals (default true). `serve` turns it off when the alert rules run: their
   * `dlq-growth` rule owns DLQ alerts, with lifecycle and triage, and two threads per job would be noise.
   */
  deadLetters?: boolean;
}

/** The AlertView of DLQ arrivals for one job type, after one more arrival. */
export function dlqAlert(d: DeadLetterDoc, before: AlertView | undefined, now = new Date()): AlertView {
  const job = d.jobName;
  const count = (before?.count ?? 0) + 1;
  const firstSeenAt = before?.firstSeenAt ?? now;
  const q = quoteArg(job);
  return {
    key: `dlq:${job}`,
    rule: 'dlq',
    subject: job,
    state: 'firing',
    title: `Dead letters: ${job}`,
    summary: `${count} job${count === 1 ? '' : 's'} of ${job} entered the DLQ; latest: ${truncate(d.error.message, 160)}`,
    facts: [
      { label: 'Job', value: job },
      { label: 'Latest error', value: truncate(`${d.error.class}: ${d.error.message}`, 300) },
      { label: 'Attempts', value: String(d.attempts) },
      { label: 'Why', value: d.reason === 'invalid_payload' ? 'payload failed its schema' : d.reason === 'reconciled' ? 'found exhausted at start-up' : 'retries exhausted' },
      { label: 'Latest payload', value: summarizePayload(d.payload, 200) },
    ],
    count,
    firstSeenAt,
    lastSeenAt: now,
    hint: 'Read the latest error; once the cause is fixed, Retry all. Pause the job type to stop new failures meanwhile.',
    actions: [
      { label: 'Retry all in DLQ', command: `dlq retry --all --job ${q}`, style: 'primary', confirm: { title: `Retry ${job}?`, text: `Requeue every pending dead letter of ${job} with a fresh attempt budget.` } },
      { label: 'Show DLQ', command: `dlq list --job ${q}` },
      { label: 'Pause this job type', command: `jobs pause ${q} --reason "paused from alert"` },
      { label: 'Kill switch', command: 'killswitch on --reason "from alert"', style: 'danger', confirm: { title: 'Turn the kill switch on?', text: 'No new attempt of any job starts anywhere until it is turned off.', confirm: 'Kill switch on' } },
    ],
  };
}

function switchAlert(key: string, title: string, s: SwitchState, summary: string, actions: AlertView['actions']): AlertView {
  const at = s.at ? new Date(s.at) : new Date();
  return {
    key,
    rule: key.split(':')[0],
    subject: key.split(':')[1] ?? 'global',
    state: 'firing',
    title,
    summary,
    facts: [
      { label: 'By', value: s.by?.name ?? 'unknown' },
      { label: 'Reason', value: s.reason ?? '—' },
    ],
    count: 1,
    firstSeenAt: at,
    lastSeenAt: at,
    actions,
  };
}

/** True for the one process whose insert of `id` into `alertNotices` succeeds (atomic everywhere). */
function announceOnce(ops: Ops, id: string): Promise<boolean> {
  return insertOnce(ops.engine.db.collection<{ _id: string; at: Date }>('alertNotices'), { _id: id, at: new Date() });
}

/** Subscribes to `ops` and feeds the notifiers; call `stop()` at shutdown. */
export function startFirstSources(ops: Ops, notifiers: Notifier[], log: Logger, opts: FirstSourcesOptions = {}): { stop(): void } {
  const open = new Map<string, AlertView>();
  const send = (unmasked: AlertEvent) => {
    // Reasons and DLQ errors may quote a secret, as everything the notifiers show.
    const event = maskSecrets(unmasked);
    if (event.kind === 'resolved') open.delete(event.alert.key);
    else open.set(event.alert.key, event.alert);
    for (const n of notifiers) n.notify(event).catch((err: unknown) => log.error({ err, notifier: n.name, key: event.alert.key }, 'notifier failed'));
  };
  const resolve = (key: string, by: string, note?: string) => {
    const alert = open.get(key);
    if (alert) send({ kind: 'resolved', alert: { ...alert, state: 'resolved', by, lastSeenAt: new Date() }, ...(note ? { note } : {}) });
  };
  const noteDlqThreads = (note: string, job?: string) => {
    for (const a of open.values()) if (a.rule === 'dlq' && (!job || a.subject === job)) send({ kind: 'note', alert: a, note });
  };

  const onDeadLetter = (d: DeadLetterDoc) => {
    const before = open.get(`dlq:${d.jobName}`);
    send({ kind: before ? 'updated' : 'opened', alert: dlqAlert(d, before) });
  };
  const onSetting = async (c: SettingChange) => {
    const now = c.value as SwitchState | undefined;
    const was = c.old as SwitchState | undefined;
    if (Boolean(now?.active) === Boolean(was?.active)) return;
    // Every serving process sees the change; the first to record it announces it.
    if (c.at && !(await announceOnce(ops, `setting:${c.key}:${c.at.getTime()}`))) return;
    const who = `${now?.by?.name ?? c.by?.name ?? 'someone'}${now?.reason ? `: ${now.reason}` : ''}`;
    if (c.key === 'killswitch') {
      noteDlqThreads(`Kill switch ${now?.active ? 'ON' : 'off'} by ${who}`);
      if (now?.active) {
        send({ kind: 'opened', alert: switchAlert('killswitch', 'Kill switch ON', now, 'No new attempt starts anywhere; running attempts finish.', [
          { label: 'Turn off', command: 'killswitch off --reason "resolved from alert"', style: 'primary', confirm: { title: 'Turn the kill switch off?', text: 'Held jobs resume in every process.' } },
        ]) });
      } else resolve('killswitch', who, `Kill switch off by ${who}`);
    } else if (c.key.startsWith('pause:')) {
      const job = c.key.slice('pause:'.length);
      noteDlqThreads(`${job} ${now?.active ? 'paused' : 'resumed'} by ${who}`, job);
      if (now?.active) {
        send({ kind: 'opened', alert: switchAlert(`pause:${job}`, `Job type paused: ${job}`, now, `New attempts of ${job} are held; queued jobs wait.`, [
          { label: 'Resume', command: `jobs resume ${quoteArg(job)} --reason "resumed from alert"`, style: 'primary' },
        ]) });
      } else resolve(`pause:${job}`, who, `${job} resumed by ${who}`);
    }
  };
  const checkDlqs = async () => {
    for (const a of [...open.values()].filter((x) => x.rule === 'dlq')) {
      const { total } = await ops.deadLetters.list({ status: 'pending', job: a.subject, limit: 1 });
      if (total === 0) resolve(a.key, 'Switchboard (no pending dead letters left)');
    }
  };

  if (opts.deadLetters !== false) ops.on('dead-letter', onDeadLetter);
  const onSettingSafe = (c: SettingChange) => void onSetting(c).catch((err: unknown) => log.error({ err, key: c.key }, 'setting alert failed'));
  ops.on('setting', onSettingSafe);
  // One check at a time: the next is scheduled when the last one has finished.
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  const loop = () => {
    timer = setTimeout(() => {
      checkDlqs()
        .catch((err: unknown) => log.warn({ err }, 'DLQ alert check failed'))
        .finally(() => !stopped && loop());
    }, opts.dlqCheckEveryMs ?? 30_000);
    timer.unref();
  };
  loop();
  return {
    stop() {
      stopped = true;
      clearTimeout(timer);
      ops.off('dead-letter', onDeadLetter);
      ops.off('setting', onSettingSafe);
    },
  };
}
