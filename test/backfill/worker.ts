/**
 * A whole Switchboard process (createApp, so the built-in jobs and guards) in a child process, for
 * the backfill crash test; runs until it is killed.
 *
 *   SB_TEST_MONGO_URL=mongodb://… SB_TEST_DB=bf_crash SB_TEST_WORKER=child-1 \
 *   SB_TEST_LOCK_MS=1000 DISCOVERY_URL=http://127.0.0.1:1234 node test/backfill/worker.ts
 *
 * Writes "ready" to stdout once the engine takes jobs.
 */
import { MongoClient } from 'mongodb';
import { createApp } from '../../src/app/index.ts';
import { loadConfig } from '../../src/config.ts';
import { createLogger, silentLogger } from '../../src/log.ts';

function required(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`worker: ${name} is not set`);
  return value;
}

const client = await MongoClient.connect(required('SB_TEST_MONGO_URL'));
const config = Object.freeze({
  ...loadConfig({ DISCOVERY_URL: required('DISCOVERY_URL') }),
  WORKER_NAME: required('SB_TEST_WORKER'),
  ENGINE_PROCESS_EVERY_MS: 100,
  GUARD_REFRESH_MS: 100,
  ENGINE_LOCK_LIFETIME_MS: Number(process.env.SB_TEST_LOCK_MS ?? 1000),
  SHUTDOWN_GRACE_MS: 500,
});
const log = process.env.TEST_LOG ? createLogger({ level: 'debug', destination: 2 }) : silentLogger();
const app = createApp({ config, db: client.db(required('SB_TEST_DB')), log });
await app.engine.start({ work: true });
process.stdout.write('ready\n');

const shutdown = async () => {
  await app.stop();
  await client.close();
  process.exit(0);
};
process.once('SIGTERM', () => void shutdown());
process.once('SIGINT', () => void shutdown());
