/**
 * Dashboard sessions (collection `dashboardSessions`, written only here): a signed-in chat
 * identity, its CSRF token and its expiry. The cookie holds a random id; the database holds only
 * its SHA-256, so a copy of the collection signs nobody in.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Collection, Db } from 'mongodb';
import type { Actor, IndexPlan } from '../db/collections.ts';

export interface DashboardSessionDoc {
  /** SHA-256 (base64url) of the cookie's session id. */
  _id: string;
  actor: Actor;
  csrf: string;
  createdAt: Date;
  expiresAt: Date;
}

/** The sessions' index plan, for the composition root to collect (src/app/schema.ts). */
export const dashboardSessionIndexes: IndexPlan = { dashboardSessions: [{ key: { expiresAt: 1 }, name: 'expiresAt' }] };

export interface DashboardSession {
  actor: Actor;
  csrf: string;
  expiresAt: Date;
}

const hash = (id: string) => createHash('sha256').update(id).digest('base64url');

export class DashboardSessions {
  private readonly col: Collection<DashboardSessionDoc>;
  private readonly ttlMs: number;

  constructor(db: Db, ttlHours: number) {
    this.col = db.collection<DashboardSessionDoc>('dashboardSessions');
    this.ttlMs = ttlHours * 3600_000;
  }

  /** Opens a session for `actor`; returns the cookie's id (shown once) and the session. */
  async open(actor: Actor): Promise<{ id: string; session: DashboardSession }> {
    const id = randomBytes(32).toString('base64url');
    const now = new Date();
    const session = { actor, csrf: randomBytes(24).toString('base64url'), expiresAt: new Date(now.getTime() + this.ttlMs) };
    await this.col.insertOne({ _id: hash(id), ...session, createdAt: now });
    // Expired sessions go when new ones come: the collection stays as small as the live sessions.
    await this.col.deleteMany({ expiresAt: { $lt: now } });
    return { id, session };
  }

  /** The live session for a cookie's id, if any. */
  async find(id: string | undefined): Promise<DashboardSession | undefined> {
    if (!id || id.length > 100) return undefined;
    const doc = await this.col.findOne({ _id: hash(id) });
    if (!doc || doc.expiresAt.getTime() <= Date.now()) return undefined;
    return { actor: doc.actor, csrf: doc.csrf, expiresAt: doc.expiresAt };
  }

  /** Ends a session (sign out). */
  async close(id: string): Promise<void> {
    await this.col.deleteOne({ _id: hash(id) });
  }
}

/** True when a form's CSRF token is the session's (constant time). */
export function csrfMatches(session: DashboardSession, given: unknown): boolean {
  if (typeof given !== 'string' || given.length !== session.csrf.length) return false;
  return timingSafeEqual(Buffer.from(given), Buffer.from(session.csrf));
}
