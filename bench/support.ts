/**
 * What every benchmark needs: a database on MONGODB_URL or on a local server in a temp dir
 * (FerretDB on PostgreSQL storage with LOCAL_MONGO_STORAGE=postgresql, in a database of its own).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { MongoClient, type Collection, type Db } from 'mongodb';
import { findOrStartMongo, localStorageFromEnv, type FindMongoOptions } from '../src/db/localMongo.ts';

export interface BenchDb {
  db: Db;
  /** 'MONGODB_URL', 'mongod', 'ferretdb/sqlite' or 'ferretdb/postgresql': printed with the figures. */
  source: string;
  close(): Promise<void>;
}

/**
 * A fresh database named `<prefix>_<time>`; `close()` drops it and stops what was started.
 * `storage` overrides LOCAL_MONGO_STORAGE (a bench comparing both storages).
 */
export async function benchDb(prefix: string, storage?: FindMongoOptions['storage']): Promise<BenchDb> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'sb-bench-'));
  const server = await findOrStartMongo({
    url: process.env.MONGODB_URL,
    dataDir: dir,
    ...localStorageFromEnv(),
    ...(storage ? { storage } : {}),
    temporaryDatabase: true,
  });
  const client = await MongoClient.connect(server.url);
  const db = client.db(`${prefix}_${Date.now()}`);
  return {
    db,
    source: server.storage ? `${server.source}/${server.storage}` : server.source,
    async close() {
      await db.dropDatabase().catch(() => {});
      await client.close();
      await server.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** Inserts `n` generated documents, 1000 per round trip. */
export async function insertInBatches(col: Collection, n: number, make: (i: number) => Record<string, unknown>): Promise<void> {
  for (let i = 0; i < n; i += 1000) {
    await col.insertMany(Array.from({ length: Math.min(1000, n - i) }, (_, k) => make(i + k)), { ordered: false });
  }
}
