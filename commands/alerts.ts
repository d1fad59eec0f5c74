/** `alerts list|show|explain|ack|snooze|resolve`: alerts and what operators do with them. */
import { z } from 'zod';
import { command } from './define.ts';
import { duration, reason } from './args.ts';
import { fmtDate, truncate, type Reply } from '../src/chat/reply.ts';
import type { AlertView } from '../src/alerting/types.ts';
import { formatDuration } from '../src/util/duration.ts';

const STATES = ['firing', 'acknowledged', 'snoozed', 'resolved'] as const;
const key = z.string({ error: 'give the alert KEY (see `alerts list`)' }).trim().min(1, 'give the alert KEY (see `alerts list`)');
const MAX_SNOOZE_MS = 30 * 24 * 3600_000;
const snoozeFor = duration({ min: 60_000, max: MAX_SNOOZE_MS, hint: 'expected a duration from 1m to 30d, like 1h', missing: 'give a DURATION like 1h' });

/** The fields of an alert, as show and explain print them. */
function alertFields(v: AlertView): Reply['fields'] {
  return [
    { label: 'State', value: `${v.state}${v.by ? ` (by ${v.by})` : ''}${v.snoozedUntil ? ` until ${fmtDate(v.snoozedUntil)}` : ''}` },
    { label: 'Rule', value: v.rule },
    { label: 'Subject', value: v.subject },
    ...v.facts,
    { label: 'Count', value: String(v.count) },
    { label: 'First seen', value: fmtDate(v.firstSeenAt) },
    { label: 'Last seen', value: fmtDate(v.lastSeenAt) },
    ...(v.hint ? [{ label: 'Next step', value: v.hint }] : []),
  ];
}

/** The reply of an action on one alert. */
function actionReply(text: string, v: AlertView, audit: Reply['audit']): Reply {
  return { text, ephemeral: false, data: v, audit };
}

/** The `alerts` command family (register in commands/index.ts). */
export const alertsCommands = [
  command({
    path: ['alerts', 'list'],
    summary: 'Alerts by state (default: all that are not resolved), newest first',
    usage: 'alerts list [--state firing|acknowledged|snoozed|resolved] [--limit N]',
    examples: ['alerts list', 'alerts list --state resolved'],
    role: 'viewer',
    args: z.object({ state: z.enum(STATES).optional(), limit: z.coerce.number().int().min(1).max(200).default(50) }),
    async run(a, { ops }) {
      const { items, total } = await ops.alerts.list(a.state, a.limit);
      const what = a.state ? `${a.state} ` : 'active ';
      return {
        text: total ? `${total} ${what}alert${total === 1 ? '' : 's'}${items.length < total ? `; showing ${items.length}` : ''}.` : `No ${what}alerts.`,
        table: {
          columns: ['key', 'state', 'count', 'first seen', 'last seen', 'summary'],
          rows: items.map((v) => [v.key, v.state, String(v.count), fmtDate(v.firstSeenAt), fmtDate(v.lastSeenAt), truncate(v.summary, 70)]),
        },
        data: { items, total },
      };
    },
  }),
  command({
    path: ['alerts', 'show'],
    summary: 'One alert: state, facts, counters and its buttons',
    usage: 'alerts show KEY',
    examples: ['alerts show failure-rate:http.invoke'],
    role: 'viewer',
    positionals: ['key'],
    args: z.object({ key }),
    async run(a, { ops }) {
      const { view } = await ops.alerts.show(a.key);
      return { title: view.title, text: view.summary, fields: alertFields(view), actions: view.actions.map((x) => ({ ...x })), data: view, audit: { target: a.key } };
    },
  }),
  command({
    path: ['alerts', 'explain'],
    summary: 'Why an alert fires: its rule, parameters in effect, lifecycle and latest events',
    usage: 'alerts explain KEY',
    examples: ['alerts explain backlog:feeds.sync'],
    role: 'viewer',
    positionals: ['key'],
    args: z.object({ key }),
    async run(a, { ops }) {
      const x = await ops.alerts.explain(a.key);
      const lines = [
        `${x.view.title}: ${x.view.summary}`,
        `Rule ${x.doc.rule}: ${x.description}`,
        ...x.lifecycle,
        ...(x.history.length ? ['Latest events:', ...x.history.map((h) => `  ${fmtDate(h.at)} ${h.kind}${h.note ? `: ${truncate(h.note, 120)}` : ''}`)] : []),
      ];
      return {
        title: `Why ${x.view.key} is ${x.view.state}`,
        text: lines.join('\n'),
        fields: alertFields(x.view),
        table: { columns: ['parameter', 'value', 'default', 'config key'], rows: x.params.map((p) => [p.param, p.value, p.default, p.key]) },
        data: { alert: x.view, rule: x.doc.rule, description: x.description, params: x.params, lifecycle: x.lifecycle, history: x.history },
        audit: { target: a.key },
      };
    },
  }),
  command({
    path: ['alerts', 'ack'],
    summary: 'Acknowledge an alert: no more thread noise unless its count doubles or it resolves',
    usage: 'alerts ack KEY',
    examples: ['alerts ack failure-rate:http.invoke'],
    role: 'operator',
    positionals: ['key'],
    args: z.object({ key }),
    async run(a, { ops, actor }) {
      const v = await ops.alerts.ack(a.key, actor);
      return actionReply(`Acknowledged ${a.key}.`, v, { target: a.key });
    },
  }),
  command({
    path: ['alerts', 'snooze'],
    summary: 'Silence an alert for a while (from 1m to 30d)',
    usage: 'alerts snooze KEY DURATION',
    examples: ['alerts snooze backlog:feeds.sync 1h'],
    role: 'operator',
    positionals: ['key', 'duration'],
    args: z.object({ key, duration: snoozeFor }),
    async run(a, { ops, actor }) {
      const v = await ops.alerts.snooze(a.key, a.duration, actor);
      return actionReply(`Snoozed ${a.key} for ${formatDuration(a.duration)}, until ${fmtDate(v.snoozedUntil)}.`, v, { target: a.key, detail: { ms: a.duration } });
    },
  }),
  command({
    path: ['alerts', 'resolve'],
    summary: 'Resolve an alert by hand; it may fire again after its window if still breached',
    usage: 'alerts resolve KEY --reason TEXT',
    examples: ['alerts resolve stuck:feeds.sync --reason "worker restarted"'],
    role: 'operator',
    positionals: ['key'],
    args: z.object({ key, reason }),
    async run(a, { ops, actor }) {
      const v = await ops.alerts.resolve(a.key, a.reason, actor);
      return actionReply(`Resolved ${a.key}.`, v, { target: a.key, reason: a.reason });
    },
  }),
];
