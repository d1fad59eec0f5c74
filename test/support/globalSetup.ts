/**
 * Starts one real MongoDB-protocol server for the whole run (see src/db/localMongo.ts).
 * `LOCAL_MONGO_STORAGE=postgresql npm test` runs it on FerretDB's PostgreSQL storage, in a
 * database of the run's own that teardown drops.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { TestProject } from 'vitest/node';
import { findOrStartMongo, localStorageFromEnv, type MongoServer } from '../../src/db/localMongo.ts';

let server: MongoServer | undefined;
let dataDir: string | undefined;

export async function setup(project: TestProject): Promise<void> {
  dataDir = await mkdtemp(path.join(os.tmpdir(), 'switchboard-test-'));
  server = await findOrStartMongo({
    url: process.env.MONGODB_URL,
    dataDir,
    ...localStorageFromEnv(),
    temporaryDatabase: true,
    log: (msg) => process.stderr.write(`[test mongo] ${msg}\n`),
  });
  project.provide('mongoUrl', server.url);
}

export async function teardown(): Promise<void> {
  await server?.stop();
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
}

declare module 'vitest' {
  export interface ProvidedContext {
    mongoUrl: string;
  }
}
