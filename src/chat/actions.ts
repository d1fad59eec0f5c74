/**
 * Single-use action tokens behind buttons (collection `chatActions`). A button carries only the
 * token, never authority: a click re-runs the command as the clicker. Use is recorded by
 * inserting `used:<token>` into the same collection, which is atomic on every MongoDB-protocol
 * server (a filtered update is not on FerretDB v1), so ten clicks run the command once.
 */
import { randomBytes } from 'node:crypto';
import { type Collection, type Db } from 'mongodb';
import type { Actor } from '../db/collections.ts';
import type { IndexPlan } from '../db/collections.ts';
import { insertOnce } from '../db/insertOnce.ts';
import { systemClock, type Clock } from '../util/clock.ts';
import { retention, type RetentionRule } from '../db/retention.ts';

export interface ActionDoc {
  _id: string;
  kind: 'action' | 'use';
  command?: string;
  label?: string;
  createdAt: Date;
  expiresAt: Date;
  /** On a use: who clicked and the outcome text. */
  by?: Actor;
  at?: Date;
  /** Where the button lives, so adapters can edit that message. */
  ref?: Record<string, unknown>;
}

/** The indexes of the collections this module owns (collected by src/app/schema.ts). */
export const actionIndexes: IndexPlan = {
  chatActions: [{ key: { expiresAt: 1 }, name: 'expiresAt' }],
};

export const ACTION_TTL_MS = 7 * 24 * 3600_000;

/** Buttons and their uses go a day after they expire (`maintenance.cleanup`). */
export const actionRetention: RetentionRule = retention('chatActions', (c) => ({ expiresAt: { $lt: c.dayAgo } }));

export type PeekResult =
  | { status: 'ok'; command: string }
  | { status: 'used'; by: Actor; at: Date }
  | { status: 'unknown' }
  | { status: 'expired' };

export class ActionTokens {
  private readonly col: Collection<ActionDoc>;
  private readonly clock: Clock;

  constructor(db: Db, clock: Clock = systemClock) {
    this.col = db.collection<ActionDoc>('chatActions');
    this.clock = clock;
  }

  /** Stores a button's command and returns its token (short enough for Telegram's 64 bytes). */
  async create(command: string, label: string, ttlMs = ACTION_TTL_MS): Promise<string> {
    const token = randomBytes(12).toString('base64url');
    const now = this.clock.now();
    await this.col.insertOne({ _id: token, kind: 'action', command, label, createdAt: now, expiresAt: new Date(now.getTime() + ttlMs) });
    return token;
  }

  /** The command behind a token, without using it (for the role check before a click runs). */
  async peek(token: string): Promise<PeekResult> {
    const doc = await this.col.findOne({ _id: token, kind: 'action' });
    if (!doc?.command) return { status: 'unknown' };
    if (doc.expiresAt.getTime() < this.clock.now().getTime()) return { status: 'expired' };
    const used = await this.col.findOne({ _id: `used:${token}` });
    if (used?.by && used.at) return { status: 'used', by: used.by, at: used.at };
    return { status: 'ok', command: doc.command };
  }

  /** The label of a token's button (a confirmation asks "Confirm: <label>?"), if the token exists. */
  async label(token: string): Promise<string | undefined> {
    return (await this.col.findOne({ _id: token, kind: 'action' }))?.label;
  }

  /**
   * Uses a peeked token once: the first caller gets `ok`, every later one who used it and when.
   * The insert of `used:<token>` is the decision, atomic on every server.
   */
  async markUsed(token: string, by: Actor): Promise<{ status: 'ok' } | { status: 'used'; by: Actor; at: Date }> {
    const now = this.clock.now();
    if (await insertOnce(this.col, { _id: `used:${token}`, kind: 'use', by, at: now, createdAt: now, expiresAt: new Date(now.getTime() + ACTION_TTL_MS) })) {
      return { status: 'ok' };
    }
    const used = await this.col.findOne({ _id: `used:${token}` });
    return { status: 'used', by: used?.by ?? by, at: used?.at ?? now };
  }
}
