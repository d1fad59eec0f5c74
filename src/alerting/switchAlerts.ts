/**
 * The kill switch and paused job types as alert sources of the one pipeline: a setting change
 * (seen by every process within GUARD_REFRESH_MS) opens or resolves the alert `killswitch` /
 * `pause:<job>` in the alert store and announces it at once, not at the next evaluation tick, and
 * notes the change in the threads of the firing alerts it concerns (every alert of a job for the
 * kill switch, that job's alerts for a pause). Every serving process sees the change; the notice's
 * unique id (named from the setting's write time) lets exactly one of them write and announce.
 */
import type { Logger } from '../log.ts';
import { isKillSwitchKey, pausedJobOf, type SettingChange, type SwitchState } from '../engine/settings.ts';
import { noticeId, type Announcer } from './announce.ts';
import { operatorState } from './lifecycle.ts';
import { isSwitchRule } from './rule.ts';
import type { AlertDoc, AlertFields, AlertStore } from './store.ts';

/** What a change of one switch means for its alert, or undefined for other settings. */
interface SwitchFlip {
  key: string;
  rule: string;
  subject: string;
  job?: string;
  on: boolean;
  state: SwitchState | undefined;
  /** "ana: deploy in progress". */
  who: string;
  title: string;
  summary: string;
  /** The line for the threads it concerns, and for the resolve. */
  note: string;
}

function flipOf(c: SettingChange): SwitchFlip | undefined {
  const job = pausedJobOf(c.key);
  if (job === undefined && !isKillSwitchKey(c.key)) return undefined;
  const now = c.value as SwitchState | undefined;
  const was = c.old as SwitchState | undefined;
  const on = Boolean(now?.active);
  if (on === Boolean(was?.active)) return undefined;
  const who = `${now?.by?.name ?? c.by?.name ?? 'someone'}${now?.reason ? `: ${now.reason}` : ''}`;
  if (job === undefined) {
    return { key: c.key, rule: 'killswitch', subject: 'global', on, state: now, who, title: 'Kill switch ON', summary: 'No new attempt starts anywhere; running attempts finish.', note: `Kill switch ${on ? 'ON' : 'off'} by ${who}` };
  }
  return { key: c.key, rule: 'pause', subject: job, job, on, state: now, who, title: `Job type paused: ${job}`, summary: `New attempts of ${job} are held; queued jobs wait.`, note: `${job} ${on ? 'paused' : 'resumed'} by ${who}` };
}

/** The alert document of a switch turned on. */
function openedFields(f: SwitchFlip, before: AlertDoc | null, at: Date): AlertFields {
  const s = f.state;
  return {
    rule: f.rule,
    subject: f.subject,
    ...(f.job ? { job: f.job } : {}),
    state: 'firing',
    episode: (before?.episode ?? 0) + 1,
    title: f.title,
    summary: f.summary,
    facts: [
      { label: 'By', value: s?.by?.name ?? 'unknown' },
      { label: 'Reason', value: s?.reason ?? '—' },
    ],
    count: 1,
    peak: 1,
    seen: 1,
    notifiedCount: 1,
    firstSeenAt: at,
    lastSeenAt: at,
    clearSince: null,
    resolvedAt: null,
    resolvedBy: null,
    resolveReason: null,
    quietUntil: null,
    updatedAt: at,
  };
}

/** Turns kill-switch and pause changes into alerts of the store; `onChange` is the settings listener. */
export class SwitchAlerts {
  private readonly store: AlertStore;
  private readonly announcer: Announcer;
  private readonly log: Logger;

  constructor(deps: { store: AlertStore; announcer: Announcer; log: Logger }) {
    this.store = deps.store;
    this.announcer = deps.announcer;
    this.log = deps.log;
  }

  /** Applies one setting change (other settings are ignored); never throws. */
  async onChange(c: SettingChange): Promise<void> {
    const flip = flipOf(c);
    if (!flip) return;
    // The setting's write time is the same in every process: it names the change.
    const at = c.at ?? new Date();
    try {
      await this.noteConcerned(flip, c.key, at);
      if (flip.on) await this.open(flip, at);
      else await this.resolve(flip, at);
    } catch (err) {
      this.log.error({ err, key: c.key }, 'switch alert failed');
    }
  }

  private async open(f: SwitchFlip, at: Date): Promise<void> {
    const before = await this.store.get(f.key);
    const doc: AlertDoc = { _id: f.key, ...openedFields(f, before, at) };
    if (!(await this.announcer.claim(doc, 'opened', noticeId.setting(f.key, f.key, at), at))) return;
    const { _id, ...fields } = doc;
    await this.store.save(_id, fields);
    await this.announcer.publish(doc, {}, 'opened', at);
  }

  private async resolve(f: SwitchFlip, at: Date): Promise<void> {
    const before = await this.store.get(f.key);
    if (before?.state !== 'firing') return;
    const set: Partial<AlertFields> = { state: 'resolved', resolvedAt: at, resolvedBy: f.who, resolveReason: f.state?.reason ?? null, lastSeenAt: at, updatedAt: at };
    const doc: AlertDoc = { ...before, ...set };
    if (!(await this.announcer.claim(doc, 'resolved', noticeId.setting(f.key, f.key, at), at, f.note))) return;
    await this.store.save(f.key, set);
    await this.announcer.publish(doc, {}, 'resolved', at, f.note);
  }

  /** Notes the change in the firing alerts it concerns, once each across processes. */
  private async noteConcerned(f: SwitchFlip, setting: string, at: Date): Promise<void> {
    const concerned = (await this.store.list('firing', 500)).filter((d) => !isSwitchRule(d.rule) && d.job && (!f.job || d.job === f.job));
    const controls = await this.store.controlsFor(concerned.map((d) => d._id));
    for (const doc of concerned) {
      const op = operatorState(controls.filter((c) => c.key === doc._id), doc.episode);
      await this.announcer.announce(doc, op, 'note', noticeId.setting(doc._id, setting, at), at, f.note);
    }
  }
}
