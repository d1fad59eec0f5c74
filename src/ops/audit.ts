/** The audit log: who did what, to what, why, and how it ended. */
import type { Collection, Db, Filter } from 'mongodb';
import type { Actor, AuditDoc } from '../db/collections.ts';
import { redactText } from '../log.ts';

export interface AuditQuery {
  limit?: number;
  action?: string;
  since?: Date;
}

/** Masks secrets in command text: JSON values of secret-looking keys and --token/--secret options. */
export function redactCommand(text: string): string {
  return redactText(text)
    .replace(/("[^"]*(?:token|secret|password|passwd|authorization|api[-_]?key|cookie)[^"]*"\s*:\s*)"(?:[^"\\]|\\.)*"/gi, '$1"[redacted]"')
    .replace(/(--(?:token|secret|password|api-key)[= ])\S+/gi, '$1[redacted]');
}

export class AuditLog {
  private readonly col: Collection<AuditDoc>;

  constructor(db: Db) {
    this.col = db.collection<AuditDoc>('auditLog');
  }

  /** Writes one entry; `command` text is redacted. */
  async record(entry: Omit<AuditDoc, 'at' | '_id'> & { at?: Date }): Promise<void> {
    const doc: AuditDoc = { ...entry, at: entry.at ?? new Date() };
    if (doc.command) doc.command = redactCommand(doc.command);
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
