/** The alert rules Switchboard evaluates; one file per rule in this folder. Add yours to `builtinRules`. */
import type { AlertRule } from '../src/alerting/rule.ts';
import backlog from './backlog.ts';
import breakerOpen from './breakerOpen.ts';
import dlqGrowth from './dlqGrowth.ts';
import failureCount from './failureCount.ts';
import failureRate from './failureRate.ts';
import staleRecurring from './staleRecurring.ts';
import stuck from './stuck.ts';

/** Every rule, evaluated by the `alerts.evaluate` job; in name order (as `config get alerts` lists them). */
export const builtinRules: readonly AlertRule[] = [failureRate, failureCount, backlog, stuck, dlqGrowth, breakerOpen, staleRecurring].sort((a, b) => a.name.localeCompare(b.name));
