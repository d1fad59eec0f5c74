/**
 * Who may do what: chat users and their roles (collection `identities`, key platform:userId).
 * Adapters resolve an Invoker from here; `roles grant/revoke` and signups write here.
 */
import type { Collection, Db } from 'mongodb';
import type { Actor } from '../db/collections.ts';
import type { IndexPlan } from '../db/collections.ts';
import type { Role } from './roles.ts';

export type Platform = 'slack' | 'telegram';

export interface IdentityDoc {
  _id: string;
  platform: Platform;
  userId: string;
  name?: string;
  role: Role;
  grantedBy?: Actor;
  grantedAt: Date;
}

/** The indexes of the collections this module owns (collected by src/app/schema.ts). */
export const identityIndexes: IndexPlan = {
  identities: [{ key: { platform: 1, userId: 1 }, name: 'platform_user' }],
};

export const identityKey = (platform: Platform, userId: string) => `${platform}:${userId}`;

export class Identities {
  readonly col: Collection<IdentityDoc>;

  constructor(db: Db) {
    this.col = db.collection<IdentityDoc>('identities');
  }

  /** The stored role of a user, if any. */
  async roleOf(platform: Platform, userId: string): Promise<Role | undefined> {
    const doc = await this.col.findOne({ _id: identityKey(platform, userId) });
    return doc?.role;
  }

  /** Gives a user a role (replacing any other); returns the role it had. */
  async grant(platform: Platform, userId: string, role: Role, by: Actor, name?: string): Promise<Role | undefined> {
    const before = await this.col.findOneAndReplace(
      { _id: identityKey(platform, userId) },
      { platform, userId, role, grantedBy: by, grantedAt: new Date(), ...(name ? { name } : {}) },
      { upsert: true },
    );
    return before?.role;
  }

  /** Removes a user's role; returns the role it had. */
  async revoke(platform: Platform, userId: string): Promise<Role | undefined> {
    const before = await this.col.findOneAndDelete({ _id: identityKey(platform, userId) });
    return before?.role;
  }

  async list(platform?: Platform): Promise<IdentityDoc[]> {
    return this.col.find(platform ? { platform } : {}).sort({ platform: 1, userId: 1 }).limit(500).toArray();
  }
}
