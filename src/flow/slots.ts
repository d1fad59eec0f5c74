/**
 * Numbered slots taken by inserting a unique `_id`: the one primitive that is atomic on MongoDB
 * and on FerretDB v1 alike (a filtered update or `$inc` is not atomic on FerretDB v1). Rate
 * limits take slot n of a minute window, concurrency takes slot n of a job type.
 */
import { type Collection, type Db } from 'mongodb';
import { insertOnce } from '../db/insertOnce.ts';

export interface SlotDoc {
  _id: string;
  group: string;
  holder: string;
  /** The worker that holds it and renews `expiresAt` while it does (leased slots). */
  worker?: string;
  at: Date;
  expiresAt: Date;
}

export interface TakeOptions {
  /** Reuse a slot whose holder's time ran out (a killed worker); tells `onReclaim` when it does. */
  reclaimExpired?: boolean;
  worker?: string;
  onReclaim?(slot: { id: string; group: string; holder: string }): void;
}

export class Slots {
  readonly col: Collection<SlotDoc>;
  /** Per group, the lowest slot number that may still be free (saves inserts that would fail). */
  private readonly hints = new Map<string, number>();
  /** Slots this process holds (reusable slots) or is inserting right now. */
  private readonly mine = new Set<string>();

  constructor(db: Db, collection: string) {
    this.col = db.collection<SlotDoc>(collection);
  }

  /**
   * Takes the first free slot of `group` below `limit`; returns its id, or undefined when all are
   * taken. With `reclaimExpired`, a slot whose holder's time ran out (a crashed worker) is reused.
   */
  async take(group: string, limit: number, holder: string, ttlMs: number, opts: TakeOptions = {}): Promise<string | undefined> {
    const now = new Date();
    const doc = (id: string): SlotDoc => ({ _id: id, group, holder, ...(opts.worker ? { worker: opts.worker } : {}), at: now, expiresAt: new Date(now.getTime() + ttlMs) });
    // Numbers this process holds or is trying now are skipped: a failed insert is a round trip.
    // Counting slots (rate windows) only grow, so they start from the next unused number.
    for (let n = opts.reclaimExpired ? 0 : (this.hints.get(group) ?? 0); n < limit; n++) {
      const id = `${group}#${n}`;
      if (this.mine.has(id)) continue;
      if (!opts.reclaimExpired) this.hints.set(group, n + 1);
      this.mine.add(id);
      let taken = false;
      try {
        taken = await this.insert(doc(id));
      } finally {
        if (!taken || !opts.reclaimExpired) this.mine.delete(id);
      }
      if (taken) return id;
    }
    if (!opts.reclaimExpired) return undefined;
    const expired = await this.col.find({ group, expiresAt: { $lt: now } }, { projection: { _id: 1, expiresAt: 1, holder: 1 } }).limit(limit).toArray();
    for (const slot of expired) {
      if (Number(slot._id.split('#').pop()) >= limit) continue;
      if (this.mine.has(slot._id)) continue;
      await this.col.deleteOne({ _id: slot._id, expiresAt: slot.expiresAt });
      if (await this.insert(doc(slot._id))) {
        this.mine.add(slot._id);
        opts.onReclaim?.({ id: slot._id, group, holder: slot.holder });
        return slot._id;
      }
    }
    return undefined;
  }

  /** Extends the slots `worker` holds by `ttlMs` from now: its heartbeat. */
  async renew(ids: string[], worker: string, ttlMs: number): Promise<void> {
    if (ids.length) await this.col.updateMany({ _id: { $in: ids }, worker }, { $set: { expiresAt: new Date(Date.now() + ttlMs) } });
  }

  /** Gives a slot back (only if `holder` still holds it). */
  async release(id: string, holder: string): Promise<void> {
    try {
      await this.col.deleteOne({ _id: id, holder });
    } finally {
      // Only now: trying the number while its document still exists costs a failed insert.
      this.mine.delete(id);
    }
  }

  /** Forgets hints of groups that no longer matter (old windows). */
  forget(predicate: (group: string) => boolean): void {
    for (const g of this.hints.keys()) if (predicate(g)) this.hints.delete(g);
  }

  private insert(doc: SlotDoc): Promise<boolean> {
    return insertOnce(this.col, doc);
  }
}
