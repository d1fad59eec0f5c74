/**
 * The kill switch as operators see it (`killswitch status`, `status`): one view of the stored
 * switch (src/engine/settings.ts), with the actor reduced to a name.
 */
import type { SwitchState } from '../engine/settings.ts';

export interface KillSwitchView {
  active: boolean;
  reason: string | null;
  by: string | null;
  at: Date | null;
}

/** The view of a stored switch state. */
export function viewSwitch(s: SwitchState): KillSwitchView {
  return { active: s.active, reason: s.reason ?? null, by: s.by?.name ?? null, at: s.at ? new Date(s.at) : null };
}
