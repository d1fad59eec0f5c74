/**
 * What every command returns, whatever front end asked: adapters render it (Block Kit, Telegram
 * HTML, terminal text, JSON) and never decide anything themselves.
 */

export interface ReplyField {
  label: string;
  value: string;
}

export interface ReplyTable {
  columns: string[];
  rows: string[][];
}

export interface ReplyAction {
  label: string;
  /** The command text a click runs, as the user who clicked, through the same role check. */
  command: string;
  style?: 'primary' | 'danger';
  /** Asked before a destructive action runs. */
  confirm?: { title: string; text: string; confirm?: string; deny?: string };
  /** Single-use token, filled in by the dispatcher; adapters put it in the button. */
  token?: string;
}

/** What a command acted on: `done` targets, and the named ones it skipped with the reason. */
export interface Outcome {
  done: number;
  skipped: Array<{ target: string; reason: string }>;
}

export interface Reply {
  /** Always present: the plain-text fallback. */
  text: string;
  title?: string;
  fields?: ReplyField[];
  table?: ReplyTable;
  actions?: ReplyAction[];
  /** Only the asker sees it (Slack); the default for command answers. */
  ephemeral?: boolean;
  /** What `--json` prints. */
  data?: unknown;
  /**
   * A document too large for a message (a CSV export): the CLI streams its lines to stdout; chat
   * front ends show `text`, which says how to get it.
   */
  file?: { name: string; mime: string; lines: () => AsyncIterable<string> };
  /**
   * For commands that act on named targets: how many were acted on and why each other one was
   * not. None acted on while some were named makes the dispatch an error (exit 1, audit `error`);
   * built by `actedOn` (src/chat/outcome.ts).
   */
  outcome?: Outcome;
  /** Filled by commands for the audit entry of this invocation. */
  audit?: { target?: string; reason?: string; detail?: Record<string, unknown> };
}

/** Formats a date for chat: ISO without milliseconds, or "—". */
export function fmtDate(d: Date | null | undefined): string {
  return d ? d.toISOString().replace(/\.\d{3}Z$/, 'Z') : '—';
}

/** Shortens text for a table cell or a summary. */
export function truncate(text: string, max: number): string {
  const clean = text.replace(/\s+/g, ' ').trim();
  return clean.length <= max ? clean : `${clean.slice(0, Math.max(0, max - 1))}…`;
}

/** Renders a Reply as plain text: title, fields, table, then the action labels. */
export function replyToPlainText(reply: Reply): string {
  const out: string[] = [];
  if (reply.title) out.push(reply.title);
  if (reply.text && reply.text !== reply.title) out.push(reply.text);
  if (reply.fields?.length) {
    const width = Math.max(...reply.fields.map((f) => f.label.length));
    for (const f of reply.fields) out.push(`${f.label.padEnd(width)}  ${f.value}`);
  }
  if (reply.table && reply.table.rows.length) out.push(renderTable(reply.table));
  return out.join('\n');
}

/** A monospace table with padded columns. */
export function renderTable(table: ReplyTable): string {
  const widths = table.columns.map((c, i) => Math.max(c.length, ...table.rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) => cells.map((c, i) => (c ?? '').padEnd(widths[i])).join('  ').trimEnd();
  return [line(table.columns), ...table.rows.map(line)].join('\n');
}
