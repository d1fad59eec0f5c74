/**
 * Connecting a process to its database: the configured MongoDB, or the local one (started if
 * needed, see src/db/localMongo.ts). Used by `serve`, the CLI and the console.
 */
import path from 'node:path';
import { MongoClient, type Db } from 'mongodb';
import type { Config } from './config.ts';
import { findOrStartMongo, type MongoServer } from './db/localMongo.ts';
import { redactText, type Logger } from './log.ts';

export interface Connection {
  client: MongoClient;
  db: Db;
  server: MongoServer;
  close(): Promise<void>;
}

/** Connects to MONGODB_URL, or to the local server on LOCAL_MONGO_PORT (started if absent). */
export async function connect(config: Config, log: Logger): Promise<Connection> {
  const dataDir = path.resolve(config.DATA_DIR);
  const server = await findOrStartMongo({
    url: config.MONGODB_URL,
    dataDir,
    port: config.LOCAL_MONGO_PORT,
    storage: config.LOCAL_MONGO_STORAGE,
    postgresqlUrl: config.LOCAL_MONGO_POSTGRESQL_URL,
    log: (msg) => log.info(msg),
  });
  const client = await MongoClient.connect(server.url, { serverSelectionTimeoutMS: 15_000 });
  // A database named in the URL wins over MONGODB_DB.
  const db = config.MONGODB_URL && new URL(config.MONGODB_URL.replace(/^mongodb\+srv/, 'http')).pathname.length > 1 ? client.db() : client.db(config.MONGODB_DB);
  const where = server.source === 'MONGODB_URL' ? redactText(server.url) : `${server.source} at ${server.url}${server.dataDir ? `, data in ${server.dataDir}` : ''}`;
  log.info({ database: db.databaseName }, `MongoDB: ${where}`);
  return {
    client,
    db,
    server,
    async close() {
      await client.close();
      await server.stop();
    },
  };
}
