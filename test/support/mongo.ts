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

const cleanups: Array<() => Promise<unknown>> = [];

// Registered when a test file loads this module: vitest ignores an afterAll registered later,
// inside a beforeAll or a test, which is where helpers like useTestDb are called.
afterAll(async () => {
  for (const fn of cleanups.splice(0).reverse()) await fn().catch(() => {});
});

/** Runs `fn` when the test file ends, after the cleanups registered later (last in, first out). */
export function onCleanup(fn: () => Promise<unknown>): void {
  cleanups.push(fn);
}

/** Call at the top of a test file (or in beforeAll). */
export async function useTestDb(prefix = 't'): Promise<TestDb> {
  const url = inject('mongoUrl');
  const dbName = `${prefix}_${randomBytes(5).toString('hex')}`;
  const client = await MongoClient.connect(url);
  const db = client.db(dbName);
  onCleanup(async () => {
    await db.dropDatabase().catch(() => {});
    await client.close();
  });
  return { url, dbName, client, db };
}
