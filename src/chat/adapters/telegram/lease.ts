/**
 * A lease in MongoDB (collection `leases`) so only one process does something, e.g. long-polls
 * Telegram. Each holding is a document `<name>:<generation>`; taking over an expired lease is a
 * unique insert of the next generation, so two would-be holders cannot both win, even on FerretDB
 * v1 where filtered updates are not atomic. The holder renews its own generation and steps down
 * when a newer one exists.
 */
import { type Collection, type Db } from 'mongodb';
import type { IndexPlan } from '../../../db/collections.ts';
import { insertOnce } from '../../../db/insertOnce.ts';

export interface LeaseDoc {
  _id: string;
  name: string;
  gen: number;
  holder: string;
  acquiredAt: Date;
  expiresAt: Date;
}

/** The indexes of the collections this module owns (collected by src/app/schema.ts). */
export const leaseIndexes: IndexPlan = {
  leases: [{ key: { name: 1, gen: -1 }, name: 'name_gen' }],
};

export class Lease {
  private readonly col: Collection<LeaseDoc>;
  private readonly name: string;
  private readonly holder: string;
  private readonly ttlMs: number;
  private readonly now: () => number;
  private gen = 0;
  private validUntil = 0;

  constructor(db: Db, opts: { name: string; holder: string; ttlMs: number; now?: () => number }) {
    this.col = db.collection<LeaseDoc>('leases');
    this.name = opts.name;
    this.holder = opts.holder;
    this.ttlMs = opts.ttlMs;
    this.now = opts.now ?? Date.now;
  }

  /** True while this process holds the lease (by its own clock). */
  get held(): boolean {
    return this.gen > 0 && this.now() < this.validUntil;
  }

  /** Takes the lease if it is free or expired, or renews it if held; true when held afterwards. */
  async acquire(): Promise<boolean> {
    const latest = await this.col.find({ name: this.name }).sort({ gen: -1 }).limit(1).next();
    if (latest && latest.holder === this.holder && latest.gen === this.gen) return this.renew();
    if (latest && latest.expiresAt.getTime() > this.now()) return false;
    const gen = (latest?.gen ?? 0) + 1;
    const at = this.now();
    const won = await insertOnce(this.col, { _id: `${this.name}:${gen}`, name: this.name, gen, holder: this.holder, acquiredAt: new Date(at), expiresAt: new Date(at + this.ttlMs) });
    if (!won) return false;
    this.gen = gen;
    this.validUntil = at + this.ttlMs;
    await this.col.deleteMany({ name: this.name, gen: { $lt: gen - 1 } });
    return true;
  }

  /** Extends the lease; false (and no longer held) if another process took a newer generation. */
  async renew(): Promise<boolean> {
    if (this.gen === 0) return false;
    const at = this.now();
    const res = await this.col.updateOne({ _id: `${this.name}:${this.gen}`, holder: this.holder }, { $set: { expiresAt: new Date(at + this.ttlMs) } });
    const newer = await this.col.findOne({ name: this.name, gen: { $gt: this.gen } });
    if (res.matchedCount === 0 || newer) {
      this.gen = 0;
      this.validUntil = 0;
      return false;
    }
    this.validUntil = at + this.ttlMs;
    return true;
  }

  /** Gives the lease up at once so another process can take it without waiting for expiry. */
  async release(): Promise<void> {
    if (this.gen === 0) return;
    const id = `${this.name}:${this.gen}`;
    this.gen = 0;
    this.validUntil = 0;
    await this.col.updateOne({ _id: id, holder: this.holder }, { $set: { expiresAt: new Date(0) } });
  }
}
