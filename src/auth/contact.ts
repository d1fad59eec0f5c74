/** Signup contacts name the chat identity that gets the role: `telegram:123456`, `slack:U0123`, or bare Telegram digits. */
import type { Platform } from './identities.ts';

export interface ParsedContact {
  platform: Platform;
  userId: string;
  /** Normalised form, e.g. "telegram:123456". */
  contact: string;
}

/** Parses a contact, or returns why it cannot be used. */
export function parseContact(raw: unknown): ParsedContact | { error: string } {
  const text = typeof raw === 'string' ? raw.trim() : '';
  const m = /^(?:(telegram|tg|slack):)?\s*@?([A-Za-z0-9_-]{1,64})$/i.exec(text);
  const platform = m?.[1]?.toLowerCase();
  if (m && (platform === 'telegram' || platform === 'tg' || !platform) && /^\d{1,20}$/.test(m[2])) {
    return { platform: 'telegram', userId: m[2], contact: `telegram:${m[2]}` };
  }
  if (m && platform === 'slack' && /^[UW][A-Z0-9]{2,}$/.test(m[2])) return { platform: 'slack', userId: m[2], contact: `slack:${m[2]}` };
  return { error: 'contact must name a chat user: telegram:<numeric user id> or slack:<user id, e.g. U0123ABC>' };
}
