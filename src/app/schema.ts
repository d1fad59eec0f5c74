/**
 * What the modules of a process declare about the database and its runtime keys, collected in
 * one place: the index plan of every collection outside the engine's own (the engine adds
 * those), the retention rule of every collection that `maintenance.cleanup` prunes, and the
 * runtime config key families beyond flow control's. Modules export their declarations; nothing
 * registers itself when imported.
 */
import type { IndexPlan } from '../db/collections.ts';
import type { RetentionRule } from '../db/retention.ts';
import { actionRetention } from '../chat/actions.ts';
import { slackAlertThreadRetention } from '../chat/adapters/slack/alertThreads.ts';
import { telegramAlertMessageRetention } from '../chat/adapters/telegram/notifier.ts';
import { alertStoreRetention } from '../alerting/store.ts';
import { claimRetention } from '../engine/claims.ts';
import { runRetention } from '../engine/records.ts';
import { jobRetention } from '../engine/retirement.ts';
import { rollupRetention } from '../engine/rollups.ts';
import { hourlyRollupRetention } from '../engine/rollupStore.ts';
import { breakerTrialRetention } from '../flow/breakers.ts';
import { limitRetention } from '../flow/limits.ts';
import { dedupeRetention } from '../ops/jobs.ts';
import type { ConfigKeyDecl } from '../flow/runtimeConfig.ts';
import type { AlertRule } from '../alerting/rule.ts';
import { alertConfigKeys } from '../alerting/rules.ts';
import { alertStoreIndexes } from '../alerting/store.ts';
import { identityIndexes } from '../auth/identities.ts';
import { signupIndexes } from '../auth/signup.ts';
import { actionIndexes } from '../chat/actions.ts';
import { slackDeliveryIndexes } from '../chat/adapters/slack/deliveries.ts';
import { slackAlertThreadIndexes } from '../chat/adapters/slack/alertThreads.ts';
import { telegramAlertMessageIndexes } from '../chat/adapters/telegram/notifier.ts';
import { bindCodeIndexes } from '../auth/bindCodes.ts';
import { leaseIndexes } from '../chat/adapters/telegram/lease.ts';
import { telegramMessageIndexes } from '../chat/adapters/telegram/sender.ts';
import { telegramUpdateIndexes } from '../chat/adapters/telegram/updates.ts';
import { backfillIndexes } from '../ops/backfills.ts';
import { limitIndexes } from '../flow/limits.ts';
import { inboxIndexes } from '../../jobs/inboxGenerate.ts';
import { dashboardSessionIndexes } from '../dashboard/sessions.ts';

/** The index plans of every collection this process owns beyond the engine's. */
export const APP_INDEXES: readonly IndexPlan[] = [
  limitIndexes,
  backfillIndexes,
  identityIndexes,
  signupIndexes,
  actionIndexes,
  alertStoreIndexes,
  slackDeliveryIndexes,
  slackAlertThreadIndexes,
  telegramAlertMessageIndexes,
  telegramUpdateIndexes,
  telegramMessageIndexes,
  leaseIndexes,
  bindCodeIndexes,
  inboxIndexes,
  dashboardSessionIndexes,
];

/** What `maintenance.cleanup` deletes, collection by collection, each rule its owner's. */
export const RETENTION: readonly RetentionRule[] = [
  runRetention,
  rollupRetention,
  hourlyRollupRetention,
  claimRetention,
  ...jobRetention,
  actionRetention,
  ...limitRetention,
  breakerTrialRetention,
  dedupeRetention,
  ...alertStoreRetention,
  slackAlertThreadRetention,
  telegramAlertMessageRetention,
];

/** Runtime key families beyond flow control's: the parameters of the alert rules in force. */
export function appConfigKeys(rules: readonly AlertRule[]): ConfigKeyDecl[] {
  return alertConfigKeys(rules);
}
