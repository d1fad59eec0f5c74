/**
 * Builds FerretDB v1 from the Go module proxy once per machine and reuses the binary.
 *
 * `go install github.com/FerretDB/FerretDB/cmd/ferretdb@v1.24.2` alone gives a binary that
 * panics at start: the published module lacks `build/version/version.txt`, which FerretDB's own
 * build generates. So we download the module, add that file to a copy, and `go build` it.
 */
import { execFile } from 'node:child_process';
import { cp, mkdir, rename, rm, stat, writeFile, chmod, mkdtemp } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export const FERRETDB_MODULE = 'github.com/FerretDB/FerretDB';
export const FERRETDB_VERSION = 'v1.24.2';

/** Where built tools are cached: SWITCHBOARD_CACHE_DIR, else $XDG_CACHE_HOME/switchboard, else ~/.cache/switchboard. */
export function cacheDir(): string {
  if (process.env.SWITCHBOARD_CACHE_DIR) return path.resolve(process.env.SWITCHBOARD_CACHE_DIR);
  const base = process.env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache');
  return path.join(base, 'switchboard');
}

/** Path of a working FerretDB binary, building it first if this machine has none. */
export async function ensureFerretDb(go: string, log: (msg: string) => void): Promise<string> {
  const dir = path.join(cacheDir(), `ferretdb-${FERRETDB_VERSION}`);
  const binary = path.join(dir, 'ferretdb');
  if (await works(binary)) return binary;
  await mkdir(dir, { recursive: true });
  const release = await acquireLock(path.join(dir, 'build.lock'));
  try {
    if (await works(binary)) return binary; // built by another process while we waited
    log(`building FerretDB ${FERRETDB_VERSION} with Go into ${dir} (once per machine, about a minute)`);
    await build(go, binary);
    log('FerretDB built');
    return binary;
  } finally {
    await release();
  }
}

/** A binary that exists and answers --version (an unusable one is rebuilt). */
async function works(binary: string): Promise<boolean> {
  if (!existsSync(binary)) return false;
  try {
    const { stdout } = await run(binary, ['--version'], { timeout: 10_000 });
    return stdout.includes(FERRETDB_VERSION);
  } catch {
    return false;
  }
}

async function build(go: string, binary: string): Promise<void> {
  const env = { ...process.env, GOTOOLCHAIN: 'local', GOFLAGS: '-mod=mod', CGO_ENABLED: '0' };
  const opts = { env, maxBuffer: 16 * 1024 * 1024, timeout: 20 * 60_000 };
  const { stdout } = await run(go, ['mod', 'download', '-json', `${FERRETDB_MODULE}@${FERRETDB_VERSION}`], opts);
  const moduleDir = (JSON.parse(stdout) as { Dir?: string }).Dir;
  if (!moduleDir) throw new Error(`go mod download gave no directory for ${FERRETDB_MODULE}`);
  const work = await mkdtemp(path.join(os.tmpdir(), 'ferretdb-src-'));
  try {
    await cp(moduleDir, work, { recursive: true });
    await makeWritable(work);
    await writeFile(path.join(work, 'build', 'version', 'version.txt'), `${FERRETDB_VERSION}\n`);
    const tmpBinary = `${binary}.${process.pid}.tmp`;
    await run(go, ['build', '-o', tmpBinary, './cmd/ferretdb'], { ...opts, cwd: work });
    await rename(tmpBinary, binary);
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

async function makeWritable(dir: string): Promise<void> {
  // The module cache is read-only; the copy keeps those modes.
  await run('chmod', ['-R', 'u+w', dir]);
  await chmod(dir, 0o755);
}

/** A lock directory shared by concurrent test runs; a lock older than 15 minutes is stale. */
async function acquireLock(lockDir: string): Promise<() => Promise<void>> {
  for (;;) {
    try {
      await mkdir(lockDir);
      return () => rm(lockDir, { recursive: true, force: true });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const age = Date.now() - (await stat(lockDir).catch(() => ({ mtimeMs: Date.now() }))).mtimeMs;
      if (age > 15 * 60_000) await rm(lockDir, { recursive: true, force: true });
      else await new Promise((r) => setTimeout(r, 500));
    }
  }
}
