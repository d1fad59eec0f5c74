/**
 * Signup with a PIN: a person asks (HTTP or Telegram `/signup`), the owner gets a 6-digit PIN and
 * Approve/Deny buttons on Telegram, the person enters the PIN (`/verify PIN` or HTTP) and gets
 * SIGNUP_DEFAULT_ROLE. Everything lives in collection `signups`:
 *   `signup:<id>`           the request (PIN as HMAC only, expiry, status)
 *   `attempt:<id>:<n>`      one per PIN attempt, n = 1..5: unique inserts, so attempts are
 *                           counted exactly even on FerretDB v1 (no atomic filtered updates)
 *   `decision:<id>`         the first verify/approve/deny wins (unique insert)
 *   `rate:<contact>:<n>`    the n-th signup of a contact, for "3 an hour" (unique ordinal)
 */
import { createHash, randomBytes } from 'node:crypto';
import type { EventEmitter } from 'node:events';
import { type Collection, type Db } from 'mongodb';
import type { Actor } from '../db/collections.ts';
import type { IndexPlan } from '../db/collections.ts';
import type { AuditLog } from '../ops/audit.ts';
import type { Identities, Platform } from './identities.ts';
import type { ReplyAction } from '../chat/reply.ts';
import type { Role } from './roles.ts';
import { parseContact } from './contact.ts';
import type { OwnerStore } from './owner.ts';
import { generatePin, hashPin, pinMatches, type PinSecret } from './pin.ts';
import { SignupError, type SignupChannel, type SignupDoc, type SignupView } from './types.ts';
import { isDuplicateKey } from '../db/insertOnce.ts';

export { SignupError, type SignupChannel, type SignupView } from './types.ts';

export const PIN_TTL_MS = 10 * 60_000;
const MAX_ATTEMPTS = 5;
const PER_HOUR = 3;

/** The indexes of the collections this module owns (collected by src/app/schema.ts). */
export const signupIndexes: IndexPlan = {
  signups: [
    { key: { kind: 1, contact: 1, createdAt: -1 }, name: 'kind_contact_createdAt' },
    { key: { kind: 1, contactKey: 1, n: -1 }, name: 'kind_contactKey_n' },
    { key: { kind: 1, status: 1, createdAt: -1 }, name: 'kind_status_createdAt' },
  ],
};

export interface SignupsOptions {
  db: Db;
  audit: AuditLog;
  identities: Identities;
  /** Who gets the PINs: signups need a bound owner. */
  owner: OwnerStore;
  /** Where 'signup' events go ({ kind: 'verified' | 'approved' | 'denied', signup, by }). */
  events?: EventEmitter;
  /** Needed to start and verify; not to approve or deny. */
  secret?: PinSecret;
  /** How the owner is reached; none without a Telegram bot token. */
  channel?: SignupChannel;
  defaultRole?: Role;
  now?: () => Date;
}

const dup = isDuplicateKey;
const view = (d: SignupDoc): SignupView => ({ id: d.id, name: d.name, contact: d.contact, role: d.role, via: d.via, status: d.status, createdAt: d.createdAt, expiresAt: d.expiresAt, ...(d.chatId ? { chatId: d.chatId } : {}) });

export class Signups {
  private readonly col: Collection<SignupDoc>;
  private readonly opts: SignupsOptions;
  private readonly now: () => Date;

  constructor(opts: SignupsOptions) {
    this.opts = opts;
    this.col = opts.db.collection<SignupDoc>('signups');
    this.now = opts.now ?? (() => new Date());
  }

  /** Whether signups can be sent: a token is configured and an owner is bound. */
  async availability(): Promise<{ hasToken: boolean; ownerBound: boolean }> {
    return { hasToken: Boolean(this.opts.channel), ownerBound: Boolean(await this.opts.owner.get()) };
  }

  /** Starts a signup and sends the owner its PIN; audited whether it works or not. */
  async start(input: { name: unknown; contact: unknown; via: 'http' | 'telegram'; chatId?: number }, actor: Actor): Promise<SignupView> {
    try {
      const s = await this.startUnaudited(input);
      await this.audit('signup_start', actor, 'ok', s.id, { contact: s.contact, name: s.name, via: s.via });
      return s;
    } catch (err) {
      if (err instanceof SignupError) await this.audit('signup_start', actor, 'denied', String(input.contact ?? ''), { code: err.code }, err.message);
      throw err;
    }
  }

  /** Checks a PIN (counts the attempt) and grants the role on a match. */
  async verify(signupId: string, pin: string, actor: Actor): Promise<SignupView> {
    try {
      const s = await this.verifyUnaudited(signupId, String(pin ?? '').trim(), actor);
      await this.audit('signup_verify', actor, 'ok', signupId, { contact: s.contact, role: s.role });
      return s;
    } catch (err) {
      if (err instanceof SignupError) await this.audit('signup_verify', actor, 'denied', signupId, { code: err.code }, err.message);
      throw err;
    }
  }

  /** `/verify PIN` from a chat user: the newest signup of that contact. */
  async verifyLatest(contact: string, pin: string, actor: Actor): Promise<SignupView> {
    const latest = await this.col.find({ kind: 'signup', contact }).sort({ createdAt: -1 }).limit(1).next();
    if (!latest) throw new SignupError('not_found', 'You have no signup to verify: send /signup first.');
    return this.verify(latest.id, pin, actor);
  }

  /** The owner's Approve (grants the role without the PIN) or Deny (ends the signup). Audited by the command. */
  async decide(signupId: string, decision: 'approve' | 'deny', by: Actor): Promise<SignupView> {
    const doc = await this.open(signupId);
    await this.claimDecision(doc, decision, by);
    if (decision === 'approve') await this.grant(doc, by);
    const status = decision === 'approve' ? 'approved' : 'denied';
    await this.col.updateOne({ _id: doc._id }, { $set: { status, decidedBy: by, decidedAt: this.now() } });
    const s = { ...view(doc), status } as SignupView;
    this.opts.events?.emit('signup', { kind: status, signup: s, by });
    return s;
  }

  /** One signup by id. */
  async get(signupId: string): Promise<SignupView | undefined> {
    const doc = await this.col.findOne({ _id: `signup:${signupId}` });
    return doc ? view(doc) : undefined;
  }

  /** Newest signups, pending ones only unless `all`. */
  async list(all = false, limit = 20): Promise<SignupView[]> {
    const docs = await this.col.find(all ? { kind: 'signup' } : { kind: 'signup', status: 'pending' }).sort({ createdAt: -1 }).limit(limit).toArray();
    return docs.map(view);
  }

  private async startUnaudited(input: { name: unknown; contact: unknown; via: 'http' | 'telegram'; chatId?: number }): Promise<SignupView> {
    const name = typeof input.name === 'string' ? input.name.replace(/[\u0000-\u001f\u007f]/g, ' ').trim() : '';
    if (!name || name.length > 64) throw new SignupError('invalid', 'A name of 1 to 64 characters is required.');
    const contact = parseContact(input.contact);
    if ('error' in contact) throw new SignupError('invalid', `The ${contact.error}.`);
    const { channel, secret } = this.opts;
    if (!channel || !secret) throw new SignupError('no_token', 'Signup is unavailable: TELEGRAM_BOT_TOKEN is not configured, so no PIN can be sent.');
    const owner = await this.opts.owner.get();
    if (!owner) throw new SignupError('no_owner', 'Signup is unavailable: no Telegram owner is bound yet (the owner sends /bind to the bot first).');
    const has = await this.opts.identities.roleOf(contact.platform, contact.userId);
    if (has) throw new SignupError('has_role', `${contact.contact} already has the ${has} role.`);
    if (!(await this.takeRateSlot(contact.contact))) throw new SignupError('rate_limited', `Too many signups for ${contact.contact}: at most ${PER_HOUR} an hour.`);
    const id = randomBytes(9).toString('base64url');
    const pin = generatePin();
    const createdAt = this.now();
    const chatId = input.chatId ?? (contact.platform === 'telegram' ? Number(contact.userId) : undefined);
    const doc: SignupDoc = {
      _id: `signup:${id}`, kind: 'signup', id, name, contact: contact.contact, platform: contact.platform, userId: contact.userId,
      via: input.via, role: this.opts.defaultRole ?? 'viewer', pinHash: hashPin(await secret.get(), id, pin), status: 'pending',
      createdAt, expiresAt: new Date(createdAt.getTime() + PIN_TTL_MS), ...(chatId ? { chatId } : {}),
    };
    await this.col.insertOne(doc);
    const actions: ReplyAction[] = [
      { label: 'Approve', command: `signup approve ${id}`, style: 'primary' },
      { label: 'Deny', command: `signup deny ${id}`, style: 'danger' },
    ];
    try {
      await channel.askOwner(owner.chatId, view(doc), pin, actions);
    } catch (err) {
      await this.col.updateOne({ _id: doc._id }, { $set: { status: 'denied' } });
      throw new SignupError('owner_unreachable', `Could not send the PIN to the owner on Telegram (${err instanceof Error ? err.message : String(err)}).`);
    }
    return view(doc);
  }

  private async verifyUnaudited(signupId: string, pin: string, actor: Actor): Promise<SignupView> {
    const doc = await this.open(signupId);
    const attempt = await this.claimAttempt(doc.id);
    if (attempt === 0) {
      await this.col.updateOne({ _id: doc._id }, { $set: { status: 'locked' } });
      throw new SignupError('locked', `This signup is locked after ${MAX_ATTEMPTS} wrong PINs; start a new one.`);
    }
    const { secret } = this.opts;
    if (!secret) throw new SignupError('no_token', 'Signup verification is not available in this process.');
    if (!pinMatches(await secret.get(), doc.id, pin, doc.pinHash)) {
      const left = MAX_ATTEMPTS - attempt;
      if (left === 0) {
        await this.col.updateOne({ _id: doc._id }, { $set: { status: 'locked' } });
        throw new SignupError('locked', `Wrong PIN; that was the last attempt, so this signup is now locked.`, { attemptsLeft: 0 });
      }
      throw new SignupError('wrong_pin', `Wrong PIN; ${left} attempt${left === 1 ? '' : 's'} left.`, { attemptsLeft: left });
    }
    await this.claimDecision(doc, 'verify', actor);
    await this.grant(doc, actor);
    await this.col.updateOne({ _id: doc._id }, { $set: { status: 'verified', decidedBy: actor, decidedAt: this.now() } });
    const s = { ...view(doc), status: 'verified' } as SignupView;
    this.opts.events?.emit('signup', { kind: 'verified', signup: s, by: actor });
    return s;
  }

  /** A signup that can still be decided, or the reason it cannot. */
  private async open(signupId: string): Promise<SignupDoc> {
    const doc = typeof signupId === 'string' && signupId ? await this.col.findOne({ _id: `signup:${signupId}` }) : null;
    if (!doc) throw new SignupError('not_found', 'Unknown signup.');
    if (doc.status === 'denied') throw new SignupError('denied', 'The owner denied this signup.');
    if (doc.status === 'verified' || doc.status === 'approved') throw new SignupError('already_done', `This signup is already ${doc.status}.`);
    if (doc.status === 'locked') throw new SignupError('locked', `This signup is locked after ${MAX_ATTEMPTS} wrong PINs; start a new one.`);
    if (doc.expiresAt.getTime() <= this.now().getTime()) throw new SignupError('expired', 'This PIN has expired (PINs last 10 minutes); start a new signup.');
    return doc;
  }

  /** Takes the next of the 5 attempt slots; 0 when none is left. */
  private async claimAttempt(id: string): Promise<number> {
    for (let n = 1; n <= MAX_ATTEMPTS; n++) {
      try {
        await this.col.insertOne({ _id: `attempt:${id}:${n}`, kind: 'attempt', createdAt: this.now() } as SignupDoc);
        return n;
      } catch (err) {
        if (!dup(err)) throw err;
      }
    }
    return 0;
  }

  private async claimDecision(doc: SignupDoc, decision: string, by: Actor): Promise<void> {
    try {
      await this.col.insertOne({ _id: `decision:${doc.id}`, kind: 'decision', decision, by, createdAt: this.now() } as unknown as SignupDoc);
    } catch (err) {
      if (!dup(err)) throw err;
      const again = await this.col.findOne({ _id: doc._id });
      throw new SignupError(again?.status === 'denied' ? 'denied' : 'already_done', again?.status === 'denied' ? 'The owner denied this signup.' : 'This signup was already decided.');
    }
  }

  private async grant(doc: SignupDoc, by: Actor): Promise<void> {
    await this.opts.identities.grant(doc.platform as Platform, doc.userId, doc.role, by, doc.name);
  }

  /** Claims the contact's next signup ordinal unless its last 3 fall within the hour. */
  private async takeRateSlot(contact: string): Promise<boolean> {
    const contactKey = createHash('sha256').update(contact).digest('hex').slice(0, 24);
    const hourAgo = this.now().getTime() - 3600_000;
    for (let tries = 0; tries < 5; tries++) {
      const last = await this.col.find({ kind: 'rate', contactKey }).sort({ n: -1 }).limit(PER_HOUR).toArray();
      if (last.length >= PER_HOUR && last[PER_HOUR - 1].createdAt.getTime() > hourAgo) return false;
      const n = (last[0]?.n ?? 0) + 1;
      try {
        await this.col.insertOne({ _id: `rate:${contactKey}:${n}`, kind: 'rate', contactKey, n, createdAt: this.now() } as SignupDoc);
        return true;
      } catch (err) {
        if (!dup(err)) throw err;
      }
    }
    return false;
  }

  private async audit(action: string, actor: Actor, outcome: 'ok' | 'denied', target: string, detail: Record<string, unknown>, error?: string): Promise<void> {
    await this.opts.audit.record({ action, actor, outcome, target, detail, ...(error ? { error } : {}) });
  }
}
