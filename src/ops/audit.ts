/** The audit log: who did what, to what, why, and how it ended. */
import type { Collection, Db, Filter } from 'mongodb';
import { parseCommandLine, quoteArg } from '../chat/grammar.ts';
import type { Actor, AuditDoc } from '../db/collections.ts';
import { isSecretKey, MASK, maskSecrets, maskText } from '../util/secrets.ts';

export interface AuditQuery {
  limit?: number;
  action?: string;
  since?: Date;
}

/** The fields a job declares secret (JobDefinition.secretFields), by job name; undefined for no such job. */
export type SecretFieldsOf = (job: string) => readonly string[] | undefined;

/** How an entry is masked beyond the shared rules. */
export interface AuditMaskOptions {
  /** Looks up the secretFields of any job a command names, to mask them in its JSON payload. */
  secretFieldsOf?: SecretFieldsOf;
}

/** `--name VALUE` (a space, not `=`: maskText masks `name=value` already) where the name is a secret key. */
const SECRET_OPTION = /(?<!\S)(--|[—–])([a-z][a-z0-9-]*)(\s+)("(?:[^"\\]|\\.)*"|“[^”]*”|'[^']*'|‘[^’]*’|(?!--)\S+)/gi;

/**
 * Command text fit for the audit log: its JSON payload masked as a payload view masks it (secret
 * keys at any depth, and the secretFields of every job the command names), the value of an option
 * named like a secret (`--token VALUE`), and secrets anywhere else in the text (maskText).
 */
export function redactCommand(text: string, opts: AuditMaskOptions = {}): string {
  return maskText(maskPayload(text, opts.secretFieldsOf)).replace(SECRET_OPTION, (whole, dash: string, name: string, space: string) =>
    isSecretKey(name) ? `${dash}${name}${space}${MASK}` : whole,
  );
}

/** The text with its JSON payload replaced by the masked payload (the rest left as typed). */
function maskPayload(text: string, secretFieldsOf?: SecretFieldsOf): string {
  const parsed = parseCommandLine(text);
  if (!parsed.ok || parsed.value.payload === undefined) return text;
  const { words, options, payload } = parsed.value;
  const named = [...words, ...Object.values(options).flat()].filter((w): w is string => typeof w === 'string');
  const secretPaths = secretFieldsOf ? [...new Set(named.flatMap((w) => secretFieldsOf(w) ?? []))] : [];
  const masked = JSON.stringify(maskSecrets(payload, { secretPaths }));
  const span = payloadSpan(text, JSON.stringify(payload));
  if (span) return text.slice(0, span[0]) + masked + text.slice(span[1]);
  // Not found as typed (unusual quoting): the command as parsed, which says the same.
  const opts = Object.entries(options).flatMap(([k, v]) => (Array.isArray(v) ? v : [v]).map((x) => (x === true ? `--${k}` : `--${k} ${quoteArg(x)}`)));
  return [...words.map(quoteArg), masked, ...opts].join(' ');
}

/**
 * Where the payload (`want`, as JSON.stringify gives it) is in the text: a `{` or `[` that starts a
 * token outside quotes (the text before it parses, without a payload), up to the JSON value's end.
 */
function payloadSpan(text: string, want: string): [number, number] | undefined {
  for (let start = 0; start < text.length; start++) {
    if ((text[start] !== '{' && text[start] !== '[') || (start > 0 && !/\s/.test(text[start - 1]))) continue;
    const before = parseCommandLine(text.slice(0, start));
    if (!before.ok || before.value.payload !== undefined) continue;
    for (let end = text.length; end > start; end--) {
      if (text[end - 1] !== '}' && text[end - 1] !== ']') continue;
      const json = text.slice(start, end);
      if (sameJson(json, want) || sameJson(json.replace(/[“”„]/g, '"'), want)) return [start, end];
    }
  }
  return undefined;
}

function sameJson(json: string, want: string): boolean {
  try {
    return JSON.stringify(JSON.parse(json)) === want;
  } catch {
    return false;
  }
}

export class AuditLog {
  private readonly col: Collection<AuditDoc>;
  private readonly mask: AuditMaskOptions;

  /** `mask.secretFieldsOf`: a job's secretFields, so every writer audits a payload as masked as the job's views. */
  constructor(db: Db, mask: AuditMaskOptions = {}) {
    this.col = db.collection<AuditDoc>('auditLog');
    this.mask = mask;
  }

  /** Writes one entry, masked: the command text (redactCommand), reason, error and detail. */
  async record(entry: Omit<AuditDoc, 'at' | '_id'> & { at?: Date }): Promise<void> {
    const doc: AuditDoc = { ...entry, at: entry.at ?? new Date() };
    if (doc.command) doc.command = redactCommand(doc.command, this.mask);
    if (doc.reason) doc.reason = maskText(doc.reason);
    if (doc.error) doc.error = maskText(doc.error);
    if (doc.detail) doc.detail = maskSecrets(doc.detail);
    await this.col.insertOne(doc);
  }

  /** Newest first. */
  async list(q: AuditQuery = {}): Promise<AuditDoc[]> {
    const filter: Filter<AuditDoc> = {};
    if (q.action) filter.action = q.action;
    if (q.since) filter.at = { $gte: q.since };
    return this.col
      .find(filter)
      .sort({ at: -1 })
      .limit(Math.min(Math.max(q.limit ?? 20, 1), 500))
      .toArray();
  }
}

/** The actor for the engine's own actions. */
export const SYSTEM_ACTOR: Actor = { platform: 'system', id: 'switchboard', name: 'Switchboard' };
