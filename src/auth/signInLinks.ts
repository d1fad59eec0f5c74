/**
 * Sign-in links for the web dashboard (`ops.signInLinks`). A chat user asks for one
 * (`dashboard`); it carries a single-use token from the same store as chat buttons
 * (ActionTokens, `chatActions`), valid 10 minutes, whose command text names the chat identity.
 * Opening the link only looks at the token; the page's Sign in button (a POST, which link
 * previews never send) uses it up.
 */
import type { Config } from '../config.ts';
import type { Actor } from '../db/collections.ts';
import type { Clock } from '../util/clock.ts';

/** What sign-in links need of the button token store (src/chat/actions.ts ActionTokens). */
export interface SingleUseTokens {
  create(command: string, label: string, ttlMs: number): Promise<string>;
  peek(token: string): Promise<{ status: 'ok'; command: string } | { status: 'used' } | { status: 'unknown' } | { status: 'expired' }>;
  markUsed(token: string, by: Actor): Promise<{ status: 'ok' } | { status: 'used' }>;
}

export const SIGNIN_TTL_MS = 10 * 60_000;
export const SIGNIN_PATH = '/ui/signin';
/** The first word of a sign-in token's command: no command of the registry is named so. */
const SIGNIN_WORD = 'dashboard-signin';

/** The public base of links: DASHBOARD_URL, or http://localhost:PORT; without a trailing slash. */
export function dashboardBase(config: Pick<Config, 'DASHBOARD_URL' | 'PORT'>): string {
  return (config.DASHBOARD_URL ?? `http://localhost:${config.PORT}`).replace(/\/+$/, '');
}

export type SignInCheck = { status: 'ok'; actor: Actor } | { status: 'refused'; reason: string };

const USED = 'This sign-in link was already used; ask for a new one with `dashboard` in chat.';

export class SignInLinks {
  /** The public base the links use (DASHBOARD_URL, or http://localhost:PORT). */
  readonly base: string;
  private readonly tokens: SingleUseTokens;
  private readonly clock: Clock;

  constructor(tokens: SingleUseTokens, base: string, clock: Clock) {
    this.tokens = tokens;
    this.base = base;
    this.clock = clock;
  }

  /** Makes a sign-in link for `actor`; it works once, for SIGNIN_TTL_MS. */
  async create(actor: Actor): Promise<{ url: string; expiresAt: Date }> {
    const identity = JSON.stringify({ platform: actor.platform, id: actor.id, name: actor.name });
    const token = await this.tokens.create(`${SIGNIN_WORD} ${identity}`, 'dashboard sign-in', SIGNIN_TTL_MS);
    return { url: `${this.base}${SIGNIN_PATH}?t=${encodeURIComponent(token)}`, expiresAt: new Date(this.clock.now().getTime() + SIGNIN_TTL_MS) };
  }

  /** What a sign-in token stands for, without using it. */
  async peek(token: string): Promise<SignInCheck> {
    const peeked = await this.tokens.peek(token);
    if (peeked.status === 'used') return { status: 'refused', reason: USED };
    if (peeked.status === 'expired') return { status: 'refused', reason: 'This sign-in link has expired; ask for a new one with `dashboard` in chat.' };
    const actor = peeked.status === 'ok' ? identityOf(peeked.command) : undefined;
    if (!actor) return { status: 'refused', reason: 'This sign-in link is not valid; ask for a new one with `dashboard` in chat.' };
    return { status: 'ok', actor };
  }

  /** Uses a sign-in token once: the first caller gets the identity, every later one is refused. */
  async redeem(token: string): Promise<SignInCheck> {
    const checked = await this.peek(token);
    if (checked.status !== 'ok') return checked;
    const used = await this.tokens.markUsed(token, checked.actor);
    if (used.status === 'used') return { status: 'refused', reason: USED };
    return checked;
  }
}

function identityOf(command: string): Actor | undefined {
  if (!command.startsWith(`${SIGNIN_WORD} `)) return undefined;
  try {
    const v = JSON.parse(command.slice(SIGNIN_WORD.length + 1)) as Partial<Actor>;
    if (typeof v.platform === 'string' && typeof v.id === 'string' && typeof v.name === 'string') return { platform: v.platform, id: v.id, name: v.name } as Actor;
  } catch {
    // not ours
  }
  return undefined;
}
