/**
 * A MongoDB-protocol server of a test's own that the test can kill and start again on the same
 * port and data directory (a database outage). It is the server src/db/localMongo.ts starts
 * (`mongod`, else FerretDB v1), on a fixed port. No vitest here: bench/ uses it too.
 *
 *   const db = await startRestartableMongo(dir);
 *   await db.kill();    // SIGKILL: clients see connection refused
 *   await db.start();   // same port, same data
 *   await db.stop();    // for good
 */
import { readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { findOrStartMongo, type MongoServer } from '../../src/db/localMongo.ts';
import { freePort } from '../../src/db/processes.ts';

export interface RestartableMongo {
  /** `mongodb://127.0.0.1:<port>/`, stable across restarts. */
  url: string;
  port: number;
  /** 'mongod' or 'ferretdb'. */
  kind: string;
  /** True between start() and kill()/stop(). */
  running(): boolean;
  /** Starts the server again (no-op when running); resolves once it answers a ping. */
  start(): Promise<void>;
  /** SIGKILLs the server and resolves once it is gone (no-op when stopped). */
  kill(): Promise<void>;
  /** Stops the server for good. Safe to call twice. */
  stop(): Promise<void>;
}

/** Starts a server with its data under `baseDir`; `log` hears about a first FerretDB build. */
export async function startRestartableMongo(baseDir: string, log: (msg: string) => void = () => {}): Promise<RestartableMongo> {
  const port = await freePort();
  // No `url`: always a server of our own, never MONGODB_URL (that one we could not kill).
  const launch = () => findOrStartMongo({ dataDir: baseDir, port, log });
  let server: MongoServer | undefined = await launch();
  if (server.source !== 'mongod' && server.source !== 'ferretdb') throw new Error(`port ${port} was taken by another server`);
  const kind = server.source;
  return {
    url: server.url,
    port,
    kind,
    running: () => server !== undefined,
    async start() {
      server ??= await launch();
    },
    async kill() {
      const s = server;
      if (!s?.dataDir) return;
      server = undefined;
      // localMongo keeps the server's pid next to its data (to end a stale one at the next start).
      const pidFile = path.join(s.dataDir, 'server.pid');
      const pid = Number(await readFile(pidFile, 'utf8'));
      await rm(pidFile, { force: true });
      process.kill(pid, 'SIGKILL');
      await gone(pid);
      await s.stop(); // forgets the exited child
    },
    async stop() {
      const s = server;
      server = undefined;
      await s?.stop();
    },
  };
}

/** Resolves once `pid` no longer exists (our child: Node reaps it as soon as it exits). */
async function gone(pid: number): Promise<void> {
  for (let i = 0; i < 500; i++) {
    try {
      process.kill(pid, 0);
    } catch {
      return;
    }
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`the database server (pid ${pid}) did not exit after SIGKILL`);
}
