/**
 * The PostgreSQL side of a local FerretDB on PostgreSQL storage (see src/db/localMongo.ts): check
 * that the server answers, create the database FerretDB is given if it is missing, and drop a
 * temporary one. FerretDB v1 keeps each MongoDB database as a schema inside that one PostgreSQL
 * database, and caches that layout in memory, so every FerretDB process needs a database of its own.
 *
 * Done with `psql` (PostgreSQL's client: it knows every way of authenticating, .pgpass, sslmode…)
 * rather than a driver dependency.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import os from 'node:os';
import { promisify } from 'node:util';
import { findExecutable } from './processes.ts';

const run = promisify(execFile);

/** The database the server always has, from which others are created and dropped. */
const MAINTENANCE_DB = 'postgres';

/** `url` with another database name (and without pgx-only query parameters when `forPsql`). */
export function withDatabase(url: string, database: string, forPsql = false): string {
  const u = new URL(url);
  u.pathname = `/${encodeURIComponent(database)}`;
  if (forPsql) {
    // pgx's pool settings (FerretDB reads them) make libpq refuse the URL.
    for (const key of [...u.searchParams.keys()]) if (key.startsWith('pool_')) u.searchParams.delete(key);
  }
  return u.toString();
}

/** The database a PostgreSQL URL names. */
export function databaseOf(url: string): string {
  const name = decodeURIComponent(new URL(url).pathname.replace(/^\//, ''));
  if (!name) throw new Error(`the PostgreSQL URL ${redactUrl(url)} names no database`);
  return name;
}

/** A fresh database name derived from the URL's: `<name>_tmp_<random>`, within PostgreSQL's 63 bytes. */
export function temporaryDatabaseName(url: string): string {
  return `${databaseOf(url).slice(0, 45)}_tmp_${randomBytes(5).toString('hex')}`;
}

/** The URL without its password, for messages. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return '(an unparsable URL)';
  }
}

/**
 * Makes sure the URL's database exists, creating it when missing. Throws one sentence when
 * PostgreSQL cannot be reached, refuses us, or `psql` is missing.
 */
export async function ensureDatabase(url: string): Promise<void> {
  const database = databaseOf(url);
  const first = await psql(withDatabase(url, database, true), 'SELECT 1');
  if (first.ok) return;
  if (!/database ".*" does not exist/.test(first.error)) throw unreachable(url, first.error);
  await createDatabase(url);
}

/** Creates the URL's database (one that exists already is fine). Throws one sentence. */
export async function createDatabase(url: string): Promise<void> {
  const database = databaseOf(url);
  const created = await psql(withDatabase(url, MAINTENANCE_DB, true), `CREATE DATABASE ${quoteIdent(database)}`);
  if (created.ok || /already exists/.test(created.error)) return;
  if (/connection to server|could not connect|timeout/i.test(created.error)) throw unreachable(url, created.error);
  throw new Error(`Could not create the PostgreSQL database ${database} at ${where(url)} (${created.error}); create it or fix LOCAL_MONGO_POSTGRESQL_URL.`);
}

/**
 * Creates a temporary database for this process, marked with its host and pid, after dropping the
 * temporary databases of processes of this host that are gone (a test run killed before its
 * teardown). Throws one sentence.
 */
export async function createTemporaryDatabase(url: string): Promise<void> {
  await dropOrphans(url).catch(() => {});
  await createDatabase(url);
  await psql(withDatabase(url, MAINTENANCE_DB, true), `COMMENT ON DATABASE ${quoteIdent(databaseOf(url))} IS ${quoteLiteral(`${TEMP_MARK} host=${os.hostname()} pid=${process.pid}`)}`);
}

const TEMP_MARK = 'switchboard temporary database:';

async function dropOrphans(url: string): Promise<void> {
  const listed = await psql(
    withDatabase(url, MAINTENANCE_DB, true),
    `SELECT datname || ' ' || description FROM pg_database JOIN pg_shdescription ON objoid = pg_database.oid AND classoid = 'pg_database'::regclass WHERE description LIKE ${quoteLiteral(`${TEMP_MARK}%`)}`,
  );
  for (const line of listed.stdout.split('\n')) {
    const m = /^(\S+) .* host=(\S+) pid=(\d+)$/.exec(line.trim());
    if (!m || m[2] !== os.hostname() || alive(Number(m[3]))) continue;
    await dropDatabase(withDatabase(url, m[1]));
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Drops the URL's database, even with sessions still open on it (PostgreSQL 13+). Never throws. */
export async function dropDatabase(url: string): Promise<void> {
  const database = databaseOf(url);
  await psql(withDatabase(url, MAINTENANCE_DB, true), `DROP DATABASE IF EXISTS ${quoteIdent(database)} WITH (FORCE)`);
}

interface PsqlResult {
  ok: boolean;
  stdout: string;
  /** psql's message, first line, without its "psql: error: " prefix. */
  error: string;
}

async function psql(url: string, sql: string): Promise<PsqlResult> {
  const psqlPath = findExecutable('psql');
  if (!psqlPath) {
    throw new Error(
      'LOCAL_MONGO_STORAGE=postgresql needs `psql` (PostgreSQL\'s client) on the PATH to check and create its database.',
    );
  }
  try {
    const { stdout } = await run(psqlPath, ['-X', '-q', '-A', '-t', '-v', 'ON_ERROR_STOP=1', '-d', url, '-c', sql], {
      env: { ...process.env, PGCONNECT_TIMEOUT: process.env.PGCONNECT_TIMEOUT ?? '5' },
      timeout: 30_000,
    });
    return { ok: true, stdout, error: '' };
  } catch (err) {
    const e = err as { stderr?: string; message: string };
    const text = (e.stderr || e.message).trim().split('\n')[0] ?? '';
    return { ok: false, stdout: '', error: text.replace(/^psql: error: /, '').replace(/^ERROR: /, '').replace(/\s+/g, ' ') };
  }
}

function unreachable(url: string, reason: string): Error {
  return new Error(
    `Cannot use PostgreSQL at ${where(url)} for LOCAL_MONGO_STORAGE=postgresql (${reason}); start it or fix LOCAL_MONGO_POSTGRESQL_URL.`,
  );
}

/** host:port, or the URL without its password when it has no host (a Unix socket). */
function where(url: string): string {
  const u = new URL(url);
  return u.hostname ? `${u.hostname}:${u.port || 5432}` : redactUrl(url);
}

const quoteIdent = (name: string) => `"${name.replace(/"/g, '""')}"`;
const quoteLiteral = (text: string) => `'${text.replace(/'/g, "''")}'`;
