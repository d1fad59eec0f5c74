/** Shapes shared by the signup service, its HTTP routes and the channel that reaches the owner. */
import type { Actor } from '../db/collections.ts';
import type { ReplyAction } from '../chat/reply.ts';
import type { Role } from './roles.ts';

export type SignupStatus = 'pending' | 'verified' | 'approved' | 'denied' | 'locked';

/** A signup as shown to the owner and the routes (never the PIN or its hash). */
export interface SignupView {
  id: string;
  name: string;
  contact: string;
  role: Role;
  via: 'http' | 'telegram';
  status: SignupStatus;
  createdAt: Date;
  expiresAt: Date;
  /** Telegram chat of the person asking, to tell them the outcome. */
  chatId?: number;
}

/** Every document kind of the `signups` collection (see signup.ts). */
export interface SignupDoc {
  _id: string;
  kind: 'signup' | 'attempt' | 'decision' | 'rate';
  id: string;
  name: string;
  contact: string;
  platform: string;
  userId: string;
  via: 'http' | 'telegram';
  chatId?: number;
  role: Role;
  pinHash: string;
  status: SignupStatus;
  createdAt: Date;
  expiresAt: Date;
  decidedBy?: Actor;
  decidedAt?: Date;
  contactKey?: string;
  n?: number;
}

/** How the owner is reached (Telegram, when a bot token is configured). */
export interface SignupChannel {
  /** Sends the owner's chat the PIN, who is asking, and Approve/Deny buttons. */
  askOwner(ownerChatId: number, signup: SignupView, pin: string, actions: ReplyAction[]): Promise<void>;
}

export type SignupErrorCode =
  | 'invalid'
  | 'no_token'
  | 'no_owner'
  | 'has_role'
  | 'rate_limited'
  | 'owner_unreachable'
  | 'not_found'
  | 'wrong_pin'
  | 'expired'
  | 'locked'
  | 'denied'
  | 'already_done';

const HTTP_STATUS: Record<SignupErrorCode, number> = {
  invalid: 400,
  no_token: 503,
  no_owner: 503,
  has_role: 409,
  rate_limited: 429,
  owner_unreachable: 502,
  not_found: 404,
  wrong_pin: 401,
  expired: 410,
  locked: 423,
  denied: 403,
  already_done: 409,
};

/** A signup step that did not work, with a sentence for the user and an HTTP status. */
export class SignupError extends Error {
  readonly code: SignupErrorCode;
  readonly httpStatus: number;
  readonly extra: Record<string, unknown>;
  constructor(code: SignupErrorCode, message: string, extra: Record<string, unknown> = {}) {
    super(message);
    this.name = 'SignupError';
    this.code = code;
    this.httpStatus = HTTP_STATUS[code];
    this.extra = extra;
  }
}
