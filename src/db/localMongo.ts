/**
 * Finds or starts a real MongoDB-protocol server for `serve` and for the tests, in this order:
 * `MONGODB_URL`; `mongod` on the PATH; FerretDB v1 (built once per machine with Go, SQLite
 * storage); otherwise an error naming the three options. Asked for PostgreSQL storage, it starts
 * FerretDB on PostgreSQL (src/db/localPostgres.ts), never `mongod`.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdir, rm, writeFile, readFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { MongoClient } from 'mongodb';
import { findExecutable, freePort, waitForPort } from './processes.ts';
import { ensureFerretDb } from './ferretdbBuild.ts';
import { createTemporaryDatabase, dropDatabase, ensureDatabase, redactUrl, temporaryDatabaseName, withDatabase } from './localPostgres.ts';
import { loadConfig } from '../config.ts';

/** Where a local FerretDB keeps its data (LOCAL_MONGO_STORAGE). */
export type LocalStorage = 'sqlite' | 'postgresql';

export interface MongoServer {
  /** Connection string, including no database name. */
  url: string;
  /** Where it came from, for the start-up log. */
  source: 'MONGODB_URL' | 'mongod' | 'ferretdb' | 'running';
  /** Where a server we started keeps its data (for PostgreSQL storage: its state and pid file). */
  dataDir?: string;
  /** A FerretDB we started: its storage, and for PostgreSQL the database (URL without password). */
  storage?: LocalStorage;
  postgresqlUrl?: string;
  /** Stops a server we started; a no-op for `MONGODB_URL`. Safe to call twice. */
  stop(): Promise<void>;
}

export interface FindMongoOptions {
  /** Value of MONGODB_URL, if any. */
  url?: string;
  /** Directory a started server keeps its data in (created if missing). */
  dataDir: string;
  /** Progress messages (the first FerretDB build takes a minute). */
  log?: (msg: string) => void;
  /**
   * A fixed port for the local server, so `serve`, the CLI and the console find the same one:
   * a server already answering there is reused (and not stopped by us). Random when unset.
   */
  port?: number;
  /** FerretDB's storage: 'sqlite' (the default: files under dataDir) or 'postgresql'. */
  storage?: LocalStorage;
  /** For 'postgresql': the database FerretDB uses, created if missing (LOCAL_MONGO_POSTGRESQL_URL). */
  postgresqlUrl?: string;
  /**
   * For 'postgresql': use a database of this data directory instead, named after the URL's with a
   * random suffix, created here and dropped by stop(), so parallel runs never share one. Tests and
   * benches. A second start on the same data directory reuses it; a server killed from outside
   * keeps it until then (or until this process is gone and another temporary one starts).
   */
  temporaryDatabase?: boolean;
}

/** The storage options LOCAL_MONGO_STORAGE and LOCAL_MONGO_POSTGRESQL_URL give (validated as `serve` does). */
export function localStorageFromEnv(env: NodeJS.ProcessEnv = process.env): Pick<FindMongoOptions, 'storage' | 'postgresqlUrl'> {
  const config = loadConfig({ LOCAL_MONGO_STORAGE: env.LOCAL_MONGO_STORAGE, LOCAL_MONGO_POSTGRESQL_URL: env.LOCAL_MONGO_POSTGRESQL_URL });
  return { storage: config.LOCAL_MONGO_STORAGE, postgresqlUrl: config.LOCAL_MONGO_POSTGRESQL_URL };
}

export const NO_MONGO_MESSAGE =
  'No MongoDB found: set MONGODB_URL to a MongoDB 6+ server, put `mongod` on the PATH, ' +
  'or install Go (to build FerretDB v1 once, used with SQLite storage).';

/** Returns a running server: the configured one, or one started here. */
export async function findOrStartMongo(opts: FindMongoOptions): Promise<MongoServer> {
  if (opts.url) return { url: opts.url, source: 'MONGODB_URL', stop: async () => {} };
  const log = opts.log ?? (() => {});
  if (opts.port && (await answers(opts.port))) {
    return { url: localUrl(opts.port), source: 'running', stop: async () => {} };
  }
  const storage = opts.storage ?? 'sqlite';
  const mongod = storage === 'sqlite' ? findExecutable('mongod') : undefined;
  if (mongod) return startServer('mongod', mongod, opts.dataDir, log, opts.port);
  const go = findExecutable('go', ['/usr/local/go/bin/go']);
  if (!go && storage === 'postgresql') {
    throw new Error('LOCAL_MONGO_STORAGE=postgresql needs Go on the PATH, to build FerretDB v1 once per machine.');
  }
  if (go) {
    const ferretdb = await ensureFerretDb(go, log);
    return storage === 'postgresql'
      ? startFerretDbOnPostgres(ferretdb, opts, log)
      : startServer('ferretdb', ferretdb, opts.dataDir, log, opts.port);
  }
  throw new Error(NO_MONGO_MESSAGE);
}

const TEMPORARY_POOL_MAX_CONNS = 20;

/** FerretDB with the PostgreSQL handler: its database made sure of first, a temporary one dropped at stop(). */
async function startFerretDbOnPostgres(binary: string, opts: FindMongoOptions, log: (msg: string) => void): Promise<MongoServer> {
  if (!opts.postgresqlUrl) throw new Error('LOCAL_MONGO_STORAGE=postgresql needs LOCAL_MONGO_POSTGRESQL_URL.');
  const stateDir = path.resolve(opts.dataDir, 'ferretdb-postgresql');
  await mkdir(stateDir, { recursive: true });
  let url = opts.postgresqlUrl;
  if (opts.temporaryDatabase) {
    // Recorded next to the state, so a restart on the same directory finds the same data.
    const record = path.join(stateDir, 'postgresql-database');
    const known = existsSync(record);
    const name = known ? (await readFile(record, 'utf8')).trim() : temporaryDatabaseName(url);
    await writeFile(record, name);
    url = withDatabase(url, name);
    // FerretDB opens up to 50 connections by default; PostgreSQL allows 100 in all. A test run
    // peaks at about 26, so 20 lets four runs share a server (pool_max_conns in the URL wins).
    const u = new URL(url);
    if (!u.searchParams.has('pool_max_conns')) u.searchParams.set('pool_max_conns', String(TEMPORARY_POOL_MAX_CONNS));
    url = u.toString();
    await (known ? ensureDatabase(url) : createTemporaryDatabase(url));
  } else {
    await ensureDatabase(url);
  }
  let server: MongoServer & { running(): boolean };
  try {
    server = await startServer('ferretdb', binary, opts.dataDir, log, opts.port, url);
  } catch (err) {
    if (opts.temporaryDatabase) await dropDatabase(url);
    throw err;
  }
  if (!opts.temporaryDatabase) return server;
  const { running, stop: stopServer, ...rest } = server;
  let dropped = false;
  return {
    ...rest,
    async stop() {
      // A server killed from outside (a test's database outage) keeps its data for the next
      // start on this directory; the next temporary database's start drops it once we are gone.
      const wasRunning = running();
      await stopServer();
      if (dropped || !wasRunning) return;
      dropped = true;
      await dropDatabase(url);
    },
  };
}

async function startServer(
  kind: 'mongod' | 'ferretdb',
  binary: string,
  baseDir: string,
  log: (msg: string) => void,
  fixedPort?: number,
  /** FerretDB on PostgreSQL storage, in this database; SQLite storage when unset. */
  postgresqlUrl?: string,
): Promise<MongoServer & { running(): boolean }> {
  const dataDir = path.resolve(baseDir, postgresqlUrl ? 'ferretdb-postgresql' : kind);
  await mkdir(dataDir, { recursive: true });
  await killStale(dataDir);
  const port = fixedPort ?? (await freePort());
  const args =
    kind === 'mongod'
      ? ['--dbpath', dataDir, '--port', String(port), '--bind_ip', '127.0.0.1', '--quiet']
      : [
          ...(postgresqlUrl ? ['--handler=postgresql', `--postgresql-url=${postgresqlUrl}`] : ['--handler=sqlite', `--sqlite-url=file:${dataDir}/`]),
          `--state-dir=${dataDir}`,
          `--listen-addr=127.0.0.1:${port}`,
          `--debug-addr=127.0.0.1:${await freePort()}`,
          '--telemetry=disable',
          '--log-level=error',
        ];
  const child = spawn(binary, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (b: Buffer) => {
    stderr = (stderr + b.toString()).slice(-2000);
  });
  const killOnExit = () => child.kill('SIGKILL');
  process.once('exit', killOnExit);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  await writeFile(path.join(dataDir, 'server.pid'), String(child.pid));
  const url = localUrl(port);
  try {
    await waitForPort(port, 30_000, () => child.exitCode !== null);
    await ping(url);
  } catch (err) {
    child.kill('SIGKILL');
    throw new Error(`${kind} did not start (${(err as Error).message}): ${stderr.trim() || 'no output'}`);
  }
  const storage: LocalStorage | undefined = kind === 'ferretdb' ? (postgresqlUrl ? 'postgresql' : 'sqlite') : undefined;
  log(`started ${kind} on ${url} with its data in ${postgresqlUrl ? `PostgreSQL ${redactUrl(postgresqlUrl)}` : dataDir}`);
  let stopped = false;
  return {
    url,
    source: kind,
    dataDir,
    storage,
    ...(postgresqlUrl ? { postgresqlUrl: redactUrl(postgresqlUrl) } : {}),
    running: () => child.exitCode === null && child.signalCode === null,
    async stop() {
      if (stopped) return;
      stopped = true;
      process.off('exit', killOnExit);
      await stopChild(child, exited);
      await rm(path.join(dataDir, 'server.pid'), { force: true });
    },
  };
}

const localUrl = (port: number) => `mongodb://127.0.0.1:${port}/`;

/** True when a MongoDB-protocol server answers a ping on the local port. */
async function answers(port: number): Promise<boolean> {
  try {
    await waitForPort(port, 300, () => false);
    await ping(localUrl(port), 2_000);
    return true;
  } catch {
    return false;
  }
}

async function ping(url: string, timeoutMs = 10_000): Promise<void> {
  const client = new MongoClient(url, { serverSelectionTimeoutMS: timeoutMs });
  try {
    await client.db('admin').command({ ping: 1 });
  } finally {
    await client.close();
  }
}

async function stopChild(child: ChildProcess, exited: Promise<void>): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
  await exited;
  clearTimeout(timer);
}

/** A server left behind by a process that was killed holds the data directory: end it. */
async function killStale(dataDir: string): Promise<void> {
  const pidFile = path.join(dataDir, 'server.pid');
  if (!existsSync(pidFile)) return;
  const pid = Number(await readFile(pidFile, 'utf8'));
  if (Number.isInteger(pid) && pid > 0) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  await rm(pidFile, { force: true });
}
