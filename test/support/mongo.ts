/** A fresh database per test file on the run's real server; dropped when the file ends. */
import { randomBytes } from 'node:crypto';
import { MongoClient, type Db } from 'mongodb';
import { afterAll, inject } from 'vitest';

export interface TestDb {
  url: string;
  dbName: string;
  client: MongoClient;
  db: Db;
}

/** Call at the top of a test file (or in beforeAll). */
export async function useTestDb(prefix = 't'): Promise<TestDb> {
  const url = inject('mongoUrl');
  const dbName = `${prefix}_${randomBytes(5).toString('hex')}`;
  const client = await MongoClient.connect(url);
  const db = client.db(dbName);
  afterAll(async () => {
    await db.dropDatabase().catch(() => {});
    await client.close();
  });
  return { url, dbName, client, db };
}
