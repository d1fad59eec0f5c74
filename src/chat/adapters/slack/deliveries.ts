/**
 * Slack re-deliveries (HTTP `X-Slack-Retry-Num`, Socket Mode `retry_attempt`) carry the same body,
 * so each delivery is remembered by a hash of its identity (team + trigger_id, action ts, event
 * id) inserted as a unique `_id` into `slackDeliveries`: the insert is atomic on every
 * MongoDB-protocol server, so only the first copy runs. Old ids are pruned in batches.
 */
import { createHash } from 'node:crypto';
import { type Collection, type Db } from 'mongodb';
import type { IndexPlan } from '../../../db/collections.ts';
import { insertOnce } from '../../../db/insertOnce.ts';

export interface DeliveryDoc {
  _id: string;
  kind: string;
  at: Date;
}

/** The indexes of the collections this module owns (collected by src/app/schema.ts). */
export const slackDeliveryIndexes: IndexPlan = {
  slackDeliveries: [{ key: { at: 1 }, name: 'at' }],
};

/** How long a delivery id is remembered (Slack retries within minutes). */
export const DELIVERY_RETENTION_MS = 24 * 3600_000;

type Body = Record<string, unknown>;
const str = (x: unknown): string => (typeof x === 'string' || typeof x === 'number' ? String(x) : '');
const obj = (x: unknown): Body => (typeof x === 'object' && x !== null ? (x as Body) : {});

/** The identity of one inbound Slack payload, the same for every re-delivery of it; undefined if it has none. */
export function deliveryKey(body: Body): string | undefined {
  let raw: string | undefined;
  if (typeof body.command === 'string') {
    raw = `command:${str(body.team_id)}:${str(body.trigger_id)}`;
  } else if (body.type === 'block_actions') {
    const action = obj(Array.isArray(body.actions) ? body.actions[0] : undefined);
    raw = `action:${str(obj(body.team).id)}:${str(body.trigger_id)}:${str(action.action_id)}:${str(action.action_ts)}`;
  } else if (body.type === 'event_callback') {
    raw = `event:${str(body.event_id)}`;
  }
  if (!raw || raw.endsWith(':')) return undefined;
  return createHash('sha256').update(raw).digest('hex').slice(0, 40);
}

export class SlackDeliveries {
  private readonly col: Collection<DeliveryDoc>;

  constructor(db: Db) {
    this.col = db.collection<DeliveryDoc>('slackDeliveries');
  }

  /** True for the first copy of a delivery, false for every re-delivery (and for concurrent duplicates). */
  async first(body: Body): Promise<boolean> {
    const key = deliveryKey(body);
    if (!key) return true;
    return insertOnce(this.col, { _id: key, kind: str(body.command) || str(body.type), at: new Date() });
  }

  /** Forgets delivery ids older than the retention, in batches; returns how many went. */
  async prune(olderThan = new Date(Date.now() - DELIVERY_RETENTION_MS), batch = 1000): Promise<number> {
    let removed = 0;
    for (;;) {
      const ids = (await this.col.find({ at: { $lt: olderThan } }, { projection: { _id: 1 } }).limit(batch).toArray()).map((d) => d._id);
      if (!ids.length) return removed;
      removed += (await this.col.deleteMany({ _id: { $in: ids } })).deletedCount;
    }
  }
}
