/**
 * The Telegram owner: the one user (and private chat) that alerts and signup PINs go to. Stored
 * in `settings` under `telegram:owner`; binding also grants that user the admin role in
 * `identities` (platform 'telegram').
 */
import type { Collection, Db } from 'mongodb';
import type { Actor, SettingDoc } from '../../../db/collections.ts';
import type { SettingsStore } from '../../../engine/settings.ts';
import type { Identities } from '../../../auth/identities.ts';

export const OWNER_KEY = 'telegram:owner';

export interface TelegramOwner {
  userId: number;
  chatId: number;
  name: string;
  username?: string;
  boundAt: Date;
  via: 'code' | 'owner-id';
}

export class OwnerStore {
  private readonly settings: SettingsStore;
  private readonly col: Collection<SettingDoc>;
  private readonly identities: Identities;

  constructor(db: Db, settings: SettingsStore, identities: Identities) {
    this.col = db.collection<SettingDoc>('settings');
    this.settings = settings;
    this.identities = identities;
  }

  /** The bound owner, read from the database (not the settings cache: binding must be exact). */
  async get(): Promise<TelegramOwner | undefined> {
    const doc = await this.col.findOne({ _id: OWNER_KEY });
    const v = doc?.value as TelegramOwner | undefined;
    return v && typeof v.userId === 'number' ? v : undefined;
  }

  /** Binds `owner` (replacing any previous one) and grants them admin; returns the previous owner. */
  async bind(owner: TelegramOwner, by: Actor): Promise<TelegramOwner | undefined> {
    const previous = await this.get();
    await this.identities.grant('telegram', String(owner.userId), 'admin', by, owner.name);
    await this.settings.set(OWNER_KEY, owner, by, previous ? `rebound from ${previous.userId}` : 'bound');
    return previous;
  }
}

/** A Telegram user as an Actor. */
export function telegramActor(user: { id: number; first_name: string; last_name?: string; username?: string }): Actor {
  const name = [user.first_name, user.last_name].filter(Boolean).join(' ') || (user.username ? `@${user.username}` : String(user.id));
  return { platform: 'telegram', id: String(user.id), name };
}
