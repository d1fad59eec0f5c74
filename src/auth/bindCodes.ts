/**
 * One-time owner-binding codes (collection `telegramBindCodes`): made by `telegram bind-code`,
 * valid 10 minutes, usable once. Only a SHA-256 of the code is stored. Use is recorded by a unique
 * insert of `used:<hash>`, which is atomic even on FerretDB v1, so two `/bind CODE` race safely.
 */
import { createHash, randomInt } from 'node:crypto';
import { type Collection, type Db } from 'mongodb';
import type { Actor } from '../db/collections.ts';
import type { IndexPlan } from '../db/collections.ts';
import { insertOnce } from '../db/insertOnce.ts';

export const BIND_CODE_TTL_MS = 10 * 60_000;
const ALPHABET = 'ABCDEFGHJKMNPQRSTVWXYZ23456789'; // no 0/O, 1/I/L, U
const LENGTH = 10;

interface BindCodeDoc {
  _id: string;
  kind: 'code' | 'use';
  createdAt: Date;
  expiresAt: Date;
  by: Actor;
}

/** The indexes of the collections this module owns (collected by src/app/schema.ts). */
export const bindCodeIndexes: IndexPlan = {
  telegramBindCodes: [{ key: { expiresAt: 1 }, name: 'expiresAt' }],
};

export type ConsumeCode = 'ok' | 'wrong' | 'expired' | 'used';

const hash = (code: string) => createHash('sha256').update(normalize(code)).digest('hex');
const normalize = (code: string) => code.toUpperCase().replace(/[^A-Z0-9]/g, '');

export class BindCodes {
  private readonly col: Collection<BindCodeDoc>;
  private readonly now: () => number;

  constructor(db: Db, now: () => number = Date.now) {
    this.col = db.collection<BindCodeDoc>('telegramBindCodes');
    this.now = now;
  }

  /** A fresh code and when it expires. */
  async create(by: Actor): Promise<{ code: string; expiresAt: Date }> {
    let code = '';
    for (let i = 0; i < LENGTH; i++) code += ALPHABET[randomInt(ALPHABET.length)];
    const createdAt = new Date(this.now());
    const expiresAt = new Date(createdAt.getTime() + BIND_CODE_TTL_MS);
    await this.col.deleteMany({ expiresAt: { $lt: new Date(createdAt.getTime() - 24 * 3600_000) } });
    await this.col.insertOne({ _id: `code:${hash(code)}`, kind: 'code', createdAt, expiresAt, by });
    return { code, expiresAt };
  }

  /** Uses a code once: 'ok' for the first caller, else why not. */
  async consume(code: string, by: Actor): Promise<ConsumeCode> {
    const h = hash(code);
    if (normalize(code).length !== LENGTH) return 'wrong';
    const doc = await this.col.findOne({ _id: `code:${h}` });
    if (!doc) return 'wrong';
    if (doc.expiresAt.getTime() <= this.now()) return 'expired';
    const at = new Date(this.now());
    return (await insertOnce(this.col, { _id: `used:${h}`, kind: 'use' as const, createdAt: at, expiresAt: doc.expiresAt, by })) ? 'ok' : 'used';
  }
}
