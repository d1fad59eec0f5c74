import { beforeAll, describe, expect, it } from 'vitest';
import type { Db } from 'mongodb';
import { Lease } from '../../src/chat/adapters/telegram/lease.ts';
import { useTestDb } from '../support/mongo.ts';

let db: Db;
beforeAll(async () => {
  db = (await useTestDb('lease')).db;
});

describe('Lease (generation in _id, unique inserts)', () => {
  it('one holder at a time; renewal keeps it; another takes over once it expires; the old holder steps down', async () => {
    let now = 1_000_000;
    const clock = () => now;
    const a = new Lease(db, { name: 'poller-a', holder: 'A', ttlMs: 30_000, now: clock });
    const b = new Lease(db, { name: 'poller-a', holder: 'B', ttlMs: 30_000, now: clock });
    expect(await a.acquire()).toBe(true);
    expect(await b.acquire()).toBe(false);
    now += 20_000;
    expect(await a.renew()).toBe(true);
    now += 20_000; // 40 s after start, 20 s after the renewal: still A's
    expect(await b.acquire()).toBe(false);
    now += 11_000; // A stopped renewing (it died): expired
    expect(a.held).toBe(false);
    expect(await b.acquire()).toBe(true);
    expect(await a.renew()).toBe(false);
    expect(await a.acquire()).toBe(false);
    const docs = await db.collection('leases').find({ name: 'poller-a' }).sort({ gen: 1 }).toArray();
    expect(docs.map((d) => [d._id, d.holder])).toEqual([
      ['poller-a:1', 'A'],
      ['poller-a:2', 'B'],
    ]);
  });

  it('release lets another process take over at once', async () => {
    const a = new Lease(db, { name: 'poller-b', holder: 'A', ttlMs: 60_000 });
    const b = new Lease(db, { name: 'poller-b', holder: 'B', ttlMs: 60_000 });
    expect(await a.acquire()).toBe(true);
    expect(await b.acquire()).toBe(false);
    await a.release();
    expect(await b.acquire()).toBe(true);
    expect(b.held).toBe(true);
  });

  it('exactly one of many concurrent takers wins', async () => {
    const leases = Array.from({ length: 8 }, (_, i) => new Lease(db, { name: 'poller-c', holder: `P${i}`, ttlMs: 60_000 }));
    const won = await Promise.all(leases.map((l) => l.acquire()));
    expect(won.filter(Boolean)).toHaveLength(1);
  });
});
