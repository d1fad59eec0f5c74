/**
 * The guard pipeline every attempt passes, in order: kill switch (global, then job type) →
 * breaker of its provider → rate limit → concurrency. A guard that says no defers the job: it
 * is not failed, not lost, and spends no attempt.
 */
import type { JobDefinition } from './defineJob.ts';
import type { SettingsStore } from './settings.ts';

export interface GuardInput {
  def: JobDefinition;
  jobId: string;
}

export type GuardDecision =
  | {
      ok: true;
      /** Called, in memory and at once, when the handler settles (a breaker counts a failure). */
      note?: (outcome: AttemptOutcome) => void;
      /** Called once the attempt ends and its outcome is recorded (a concurrency slot, a half-open trial). */
      release?: (outcome: AttemptOutcome) => Promise<void>;
    }
  | { ok: false; delayMs: number; reason: string };

/** What the guards learn of an attempt they let through. */
export interface AttemptOutcome {
  ok: boolean;
  /** False for errors that are not the provider's fault (payload errors and the like). */
  providerFault: boolean;
  /** The attempt did not really happen (shutdown, deferral by the handler). */
  void: boolean;
}

export interface Guard {
  name: string;
  /** Cheap, cached answer used before a job is even locked: true = do not take jobs of this type now. */
  heldBeforeLock?(def: JobDefinition): boolean;
  check(input: GuardInput): GuardDecision | Promise<GuardDecision>;
}

/** Kill switch first, then the job type's pause: both from the settings cache. */
export function holdGuard(settings: SettingsStore, retryMs: number): Guard {
  const held = (def: JobDefinition): string | undefined => {
    const ks = settings.killSwitch();
    if (ks.active) return `kill switch on${ks.reason ? ` (${ks.reason})` : ''}`;
    const pause = settings.pause(def.name);
    if (pause.active) return `job type paused${pause.reason ? ` (${pause.reason})` : ''}`;
    return undefined;
  };
  return {
    name: 'hold',
    heldBeforeLock: (def) => held(def) !== undefined,
    check: ({ def }) => {
      const reason = held(def);
      return reason ? { ok: false, delayMs: retryMs, reason } : { ok: true };
    },
  };
}

/**
 * Runs the guards in order; on the first "no", releases what earlier guards granted and returns it.
 */
export async function passGuards(
  guards: readonly Guard[],
  input: GuardInput,
): Promise<
  | { ok: true; note: (o: AttemptOutcome) => void; release: (o: AttemptOutcome) => Promise<void> }
  | { ok: false; delayMs: number; reason: string; guard: string }
> {
  const notes: Array<(o: AttemptOutcome) => void> = [];
  const releases: Array<(o: AttemptOutcome) => Promise<void>> = [];
  const releaseAll = async (o: AttemptOutcome) => {
    const results = await Promise.allSettled(releases.splice(0).reverse().map((r) => r(o)));
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;
  };
  for (const guard of guards) {
    const d = await guard.check(input);
    if (!d.ok) {
      await releaseAll({ ok: false, providerFault: false, void: true });
      return { ok: false, delayMs: d.delayMs, reason: d.reason, guard: guard.name };
    }
    if (d.note) notes.push(d.note);
    if (d.release) releases.push(d.release);
  }
  return { ok: true, note: (o) => notes.forEach((n) => n(o)), release: releaseAll };
}
