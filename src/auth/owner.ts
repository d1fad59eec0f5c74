/**
 * The Telegram owner: the one user (and private chat) that alerts and signup PINs go to. Auth
 * state, not Telegram delivery: kept as the setting `telegram:owner` through the settings store
 * (the one writer of `settings`); binding also grants that user the admin role in `identities`
 * (platform 'telegram').
 */
import type { Actor } from '../db/collections.ts';
import type { SettingsStore } from '../engine/settings.ts';
import type { Identities } from './identities.ts';

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
  private readonly identities: Identities;

  constructor(settings: SettingsStore, identities: Identities) {
    this.settings = settings;
    this.identities = identities;
  }

  /** The bound owner, as stored now: the settings are re-read first (binding must be exact, another process may have bound). */
  async get(): Promise<TelegramOwner | undefined> {
    await this.settings.refresh();
    const v = this.settings.get<TelegramOwner>(OWNER_KEY);
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
