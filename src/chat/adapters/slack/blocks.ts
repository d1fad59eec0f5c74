/**
 * Reply → Block Kit, inside Slack's limits: 50 blocks, 3 000 characters per section text, 10 fields
 * per section, 150-character headers, 75-character button labels, 255-character action ids,
 * 2 000-character button values, and about 12 000 characters of block JSON in all (Slack rejects
 * messages well below the documented totals). What does not fit is cut with a note, never sent.
 */
import type { Reply, ReplyAction, ReplyField, ReplyTable } from '../../reply.ts';

export interface TextObject {
  type: 'plain_text' | 'mrkdwn';
  text: string;
  emoji?: boolean;
}

/** One Block Kit block (the subset we send). */
export interface SlackBlock {
  type: string;
  block_id?: string;
  text?: TextObject;
  fields?: TextObject[];
  elements?: Array<Record<string, unknown> | TextObject>;
}

export const LIMITS = {
  blocks: 50,
  sectionText: 3000,
  fieldsPerSection: 10,
  fieldText: 2000,
  headerText: 150,
  buttonText: 75,
  buttonsPerActions: 25,
  actionId: 255,
  buttonValue: 2000,
  /** Total JSON of the blocks array, with headroom under Slack's ~12 000. */
  json: 11_500,
  /** Top-level `text` (notification fallback). */
  fallbackText: 3000,
} as const;

/** Prefix of every Switchboard button's action_id; the rest is its position. */
export const ACTION_ID_PREFIX = 'sb:';

/** Escapes the three characters Slack's mrkdwn reserves. */
export function escapeMrkdwn(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** Cuts text to `max` characters with an ellipsis. */
export function clip(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, Math.max(0, max - 1))}…`;
}

const plain = (text: string, max: number): TextObject => ({ type: 'plain_text', text: clip(text || ' ', max), emoji: true });
const mrkdwn = (text: string): TextObject => ({ type: 'mrkdwn', text });
const size = (x: unknown) => JSON.stringify(x).length;

/** A section of mrkdwn text (escaped, clipped to 3 000 characters). */
export function textSection(text: string, blockId?: string): SlackBlock {
  return { type: 'section', ...(blockId ? { block_id: blockId } : {}), text: mrkdwn(clip(escapeMrkdwn(text), LIMITS.sectionText)) };
}

/** A context line of mrkdwn that is already escaped (mentions and dates stay live). */
export function contextLine(mrkdwnText: string): SlackBlock {
  return { type: 'context', elements: [mrkdwn(clip(mrkdwnText, LIMITS.sectionText))] };
}

/** A header block (plain text, 150 characters). */
export function headerBlock(text: string, blockId?: string): SlackBlock {
  return { type: 'header', ...(blockId ? { block_id: blockId } : {}), text: plain(text, LIMITS.headerText) };
}

/** One button for an action that carries its token; confirmable actions get danger style and a dialog. */
export function button(action: ReplyAction, index: number): Record<string, unknown> {
  const el: Record<string, unknown> = {
    type: 'button',
    action_id: `${ACTION_ID_PREFIX}${index}`.slice(0, LIMITS.actionId),
    text: plain(action.label, LIMITS.buttonText),
    value: (action.token ?? '').slice(0, LIMITS.buttonValue),
  };
  const style = action.confirm ? 'danger' : action.style;
  if (style) el.style = style;
  if (action.confirm) {
    el.confirm = {
      title: plain(action.confirm.title, 100),
      text: plain(action.confirm.text, 300),
      confirm: plain(action.confirm.confirm ?? action.label, 30),
      deny: plain(action.confirm.deny ?? 'Cancel', 30),
      style: 'danger',
    };
  }
  return el;
}

/** Actions blocks (25 buttons each) for the actions that have a token. */
export function actionBlocks(actions: ReplyAction[] | undefined): SlackBlock[] {
  const buttons = (actions ?? []).filter((a) => a.token).map((a, i) => button(a, i));
  const out: SlackBlock[] = [];
  for (let i = 0; i < buttons.length; i += LIMITS.buttonsPerActions) {
    out.push({ type: 'actions', block_id: `sb-actions-${out.length}`, elements: buttons.slice(i, i + LIMITS.buttonsPerActions) });
  }
  return out;
}

/** Splits text into chunks of at most `max` characters, preferring line breaks. */
export function splitText(text: string, max: number): string[] {
  const out: string[] = [];
  let rest = text;
  while (rest.length > max) {
    const cut = rest.lastIndexOf('\n', max);
    const at = cut > max / 2 ? cut : max;
    out.push(rest.slice(0, at));
    rest = rest.slice(at).replace(/^\n/, '');
  }
  if (rest) out.push(rest);
  return out;
}

/** Lines of a monospace table, padded to the widest cell of each column. */
export function tableLines(table: ReplyTable): string[] {
  const widths = table.columns.map((c, i) => Math.max(c.length, ...table.rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) => cells.map((c, i) => (c ?? '').padEnd(widths[i])).join('  ').trimEnd();
  return [line(table.columns), ...table.rows.map(line)];
}

/** Builds a blocks list while keeping the block count and JSON size within a budget. */
class BlockBudget {
  readonly blocks: SlackBlock[] = [];
  private used = 2;
  private readonly maxJson: number;
  private readonly maxBlocks: number;

  constructor(maxJson: number, maxBlocks: number) {
    this.maxJson = maxJson;
    this.maxBlocks = maxBlocks;
  }

  fits(block: SlackBlock): boolean {
    return this.blocks.length < this.maxBlocks && this.used + size(block) + 1 <= this.maxJson;
  }

  push(block: SlackBlock): boolean {
    if (!this.fits(block)) return false;
    this.blocks.push(block);
    this.used += size(block) + 1;
    return true;
  }
}

const fieldText = (f: ReplyField) => mrkdwn(clip(`*${escapeMrkdwn(f.label)}*\n${escapeMrkdwn(f.value)}`, LIMITS.fieldText));
const codeSection = (lines: string[]): SlackBlock => ({ type: 'section', text: mrkdwn(`\`\`\`\n${lines.join('\n')}\n\`\`\``) });

/** Adds field sections, ten per section, until the budget ends; returns how many did not fit. */
function addFields(budget: BlockBudget, fields: ReplyField[]): number {
  let i = 0;
  while (i < fields.length) {
    const section: SlackBlock = { type: 'section', fields: [] };
    while (i < fields.length && section.fields!.length < LIMITS.fieldsPerSection) {
      const candidate = { ...section, fields: [...section.fields!, fieldText(fields[i])] };
      if (!budget.fits(candidate)) break;
      section.fields = candidate.fields;
      i++;
    }
    if (section.fields!.length === 0 || !budget.push(section)) break;
  }
  return fields.length - i;
}

/** Adds the table as monospace sections (each under 3 000 characters); returns rows left out. */
function addTable(budget: BlockBudget, table: ReplyTable): number {
  const [head, ...rows] = tableLines(table).map((l) => clip(escapeMrkdwn(l), LIMITS.sectionText - 10));
  let i = 0;
  while (i < rows.length) {
    const lines = i === 0 ? [head] : [];
    const first = i;
    while (i < rows.length) {
      const candidate = codeSection([...lines, rows[i]]);
      if (candidate.text!.text.length > LIMITS.sectionText || !budget.fits(candidate)) break;
      lines.push(rows[i++]);
    }
    if (i === first || !budget.push(codeSection(lines))) return rows.length - first;
  }
  return 0;
}

export interface RenderedMessage {
  text: string;
  blocks: SlackBlock[];
}

/** Renders a Reply as Block Kit plus a plain fallback `text`; never exceeds Slack's limits. */
export function replyToBlocks(reply: Reply, opts: { extra?: SlackBlock[]; maxJson?: number } = {}): RenderedMessage {
  const maxJson = opts.maxJson ?? LIMITS.json;
  const notes: string[] = [];
  // Buttons come first, but may take at most 60% of the room; the rest is dropped with a note.
  const withToken = (reply.actions ?? []).filter((a) => a.token);
  let kept = withToken.length;
  let tail = [...(opts.extra ?? []), ...actionBlocks(withToken)];
  while (kept > 0 && (size(tail) > maxJson * 0.6 || tail.length > LIMITS.blocks / 2)) {
    tail = [...(opts.extra ?? []), ...actionBlocks(withToken.slice(0, --kept))];
  }
  if (kept < withToken.length) notes.push(`… ${withToken.length - kept} more button${withToken.length - kept === 1 ? '' : 's'} not shown`);
  const noteReserve = 400;
  const budget = new BlockBudget(maxJson - size(tail) - noteReserve, LIMITS.blocks - tail.length - 1);
  if (reply.title) budget.push(headerBlock(reply.title));
  if (reply.text && reply.text !== reply.title) {
    const chunks = splitText(escapeMrkdwn(reply.text), LIMITS.sectionText);
    for (const [i, chunk] of chunks.entries()) {
      if (!budget.push({ type: 'section', text: mrkdwn(chunk) })) {
        notes.push(`… ${chunks.length - i} more part${chunks.length - i === 1 ? '' : 's'} of the text not shown`);
        break;
      }
    }
  }
  if (reply.fields?.length) {
    const left = addFields(budget, reply.fields);
    if (left) notes.push(`… ${left} more field${left === 1 ? '' : 's'} not shown`);
  }
  if (reply.table && reply.table.rows.length) {
    const left = addTable(budget, reply.table);
    if (left) notes.push(`… ${left} more row${left === 1 ? '' : 's'} not shown (too long for one Slack message); narrow it with options, or use a smaller --limit and --page`);
  }
  const blocks = [...budget.blocks];
  if (notes.length) blocks.push(contextLine(escapeMrkdwn(notes.join('; '))));
  blocks.push(...tail);
  return { text: fallbackText(reply), blocks };
}

/** The notification / fallback text: title and text, escaped and clipped. */
export function fallbackText(reply: Reply): string {
  const head = reply.title && reply.title !== reply.text ? `${reply.title}: ` : '';
  return clip(escapeMrkdwn(`${head}${reply.text || ' '}`), LIMITS.fallbackText);
}
