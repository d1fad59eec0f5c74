/**
 * Finds or starts a real MongoDB-protocol server for `serve` and for the tests, in this order:
 * `MONGODB_URL`; `mongod` on the PATH; FerretDB v1 (built once per machine with Go, SQLite
 * storage); otherwise an error naming the three options.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdir, rm, writeFile, readFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { MongoClient } from 'mongodb';
import { findExecutable, freePort, waitForPort } from './processes.ts';
import { ensureFerretDb } from './ferretdbBuild.ts';

export interface MongoServer {
  /** Connection string, including no database name. */
  url: string;
  /** Where it came from, for the start-up log. */
  source: 'MONGODB_URL' | 'mongod' | 'ferretdb' | 'running';
  /** Where a server we started keeps its data. */
  dataDir?: string;
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
  const mongod = findExecutable('mongod');
  if (mongod) return startServer('mongod', mongod, opts.dataDir, log, opts.port);
  const go = findExecutable('go', ['/usr/local/go/bin/go']);
  if (go) {
    const ferretdb = await ensureFerretDb(go, log);
    return startServer('ferretdb', ferretdb, opts.dataDir, log, opts.port);
  }
  throw new Error(NO_MONGO_MESSAGE);
}

async function startServer(
  kind: 'mongod' | 'ferretdb',
  binary: string,
  baseDir: string,
  log: (msg: string) => void,
  fixedPort?: number,
): Promise<MongoServer> {
  const dataDir = path.resolve(baseDir, kind);
  await mkdir(dataDir, { recursive: true });
  await killStale(dataDir);
  const port = fixedPort ?? (await freePort());
  const args =
    kind === 'mongod'
      ? ['--dbpath', dataDir, '--port', String(port), '--bind_ip', '127.0.0.1', '--quiet']
      : [
          '--handler=sqlite',
          `--sqlite-url=file:${dataDir}/`,
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
  log(`started ${kind} on ${url} with its data in ${dataDir}`);
  let stopped = false;
  return {
    url,
    source: kind,
    dataDir,
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
