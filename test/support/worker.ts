/**
 * A worker in its own process, for tests that kill one: starts an Engine with the shared test
 * jobs (test/support/testJobs.ts) and runs until it is signalled.
 *
 *   SB_TEST_MONGO_URL=mongodb://… SB_TEST_DB=locks_ab12 SB_TEST_WORKER=child-1 \
 *   SB_TEST_LOCK_MS=1000 node test/support/worker.ts
 *
 * Writes one line, "ready", to stdout once the engine takes jobs.
 */
import { MongoClient } from 'mongodb';
import { loadConfig } from '../../src/config.ts';
import { JobRegistry } from '../../src/engine/defineJob.ts';
import { Engine } from '../../src/engine/engine.ts';
import { createLogger, silentLogger } from '../../src/log.ts';
import { testJobs } from './testJobs.ts';

function required(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`worker: ${name} is not set`);
  return value;
}

const client = await MongoClient.connect(required('SB_TEST_MONGO_URL'));
const engine = new Engine({
  db: client.db(required('SB_TEST_DB')),
  config: {
    ...loadConfig({}),
    WORKER_NAME: required('SB_TEST_WORKER'),
    ENGINE_PROCESS_EVERY_MS: 100,
    GUARD_REFRESH_MS: 100,
    ENGINE_LOCK_LIFETIME_MS: Number(process.env.SB_TEST_LOCK_MS ?? 1000),
    SHUTDOWN_GRACE_MS: 500,
  },
  log: process.env.TEST_LOG ? createLogger({ level: 'debug', destination: 2 }) : silentLogger(),
  jobs: new JobRegistry(testJobs),
});
await engine.start({ work: true });
process.stdout.write('ready\n');

const shutdown = async () => {
  await engine.stop();
  await client.close();
  process.exit(0);
};
process.once('SIGTERM', () => void shutdown());
process.once('SIGINT', () => void shutdown());
