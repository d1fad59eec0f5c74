/**
 * Who may do what in chat, as admins see and change it (`ops.roles`, `roles list|grant|revoke`):
 * a view over the identities store (src/auth/identities.ts), which the role check reads.
 */
import type { Actor } from '../db/collections.ts';
import type { Identities, Platform } from '../auth/identities.ts';
import type { Role } from '../auth/roles.ts';

/** A chat user: `slack:U123`, `telegram:12345`; `name` as the platform showed it, if known. */
export interface UserRef {
  platform: Platform;
  userId: string;
  name?: string;
}

/** One user with a role, as `roles list` shows it. */
export interface RoleItem {
  platform: Platform;
  userId: string;
  name: string | null;
  role: Role;
  grantedBy: string | null;
  grantedAt: Date;
}

export class Roles {
  private readonly identities: Identities;

  constructor(identities: Identities) {
    this.identities = identities;
  }

  /** Every user with a granted role. */
  async list(): Promise<RoleItem[]> {
    const docs = await this.identities.list();
    return docs.map((d) => ({ platform: d.platform, userId: d.userId, name: d.name ?? null, role: d.role, grantedBy: d.grantedBy?.name ?? null, grantedAt: d.grantedAt }));
  }

  /** Gives `user` a role; returns the role before (undefined: none). */
  grant(user: UserRef, role: Role, by: Actor): Promise<Role | undefined> {
    return this.identities.grant(user.platform, user.userId, role, by, user.name);
  }

  /** Takes `user`'s role away (the default role applies); returns the role before. */
  revoke(user: UserRef): Promise<Role | undefined> {
    return this.identities.revoke(user.platform, user.userId);
  }
}
