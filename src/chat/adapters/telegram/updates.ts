/**
 * Remembers which Telegram updates were taken (collection `telegramUpdates`, `_id` =
 * "<bot id>:<update_id>"): the first delivery inserts, a duplicate (webhook retry, a second
 * poller after a takeover) hits the unique `_id` and is dropped. Atomic on every MongoDB-protocol
 * server, FerretDB v1 included.
 */
import { type Collection, type Db } from 'mongodb';
import type { IndexPlan } from '../../../db/collections.ts';
import { insertOnce } from '../../../db/insertOnce.ts';

interface UpdateDoc {
  _id: string;
  at: Date;
}

/** The indexes of the collections this module owns (collected by src/app/schema.ts). */
export const telegramUpdateIndexes: IndexPlan = {
  telegramUpdates: [{ key: { at: 1 }, name: 'at' }],
};

export class UpdateLog {
  private readonly col: Collection<UpdateDoc>;
  private readonly botId: string;

  constructor(db: Db, token: string) {
    this.col = db.collection<UpdateDoc>('telegramUpdates');
    this.botId = token.split(':')[0] ?? 'bot';
  }

  /** True the first time an update id is seen, false for every later delivery. */
  firstDelivery(updateId: number): Promise<boolean> {
    return insertOnce(this.col, { _id: `${this.botId}:${updateId}`, at: new Date() });
  }

  /** Forgets ids older than `before` (Telegram never redelivers after a day). */
  async prune(before: Date): Promise<void> {
    await this.col.deleteMany({ at: { $lt: before } });
  }
}
