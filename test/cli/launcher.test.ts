/**
 * The `switchboard` command as a user on an older Node runs it: bin/switchboard.js started by the
 * machine's Node hands over to the pinned Node 24, and the first `npx switchboard` (which installs
 * the project's own bin into a fresh npx cache and checks `engines`) prints no npm warning.
 * Skipped where the first Node on the PATH is already 24 or newer: there is nothing to hand over.
 */
import { describe, it, expect, beforeAll } from 'vitest';
import { execFile, execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { startTestApp, type TestApp } from '../support/app.ts';
import { onCleanup } from '../support/mongo.ts';

/** The PATH of a shell outside npm: npm scripts put node_modules/.bin (the pinned Node) first. */
const userPath = (process.env.PATH ?? '').split(path.delimiter).filter((d) => d && !d.includes('node_modules')).join(path.delimiter);

/** The Node a user's shell finds, if it is older than 24. */
function olderNode(): string | undefined {
  for (const dir of userPath.split(path.delimiter)) {
    const node = path.join(dir, 'node');
    if (!existsSync(node)) continue;
    const major = Number(execFileSync(node, ['-p', 'process.versions.node.split(".")[0]'], { encoding: 'utf8' }).trim());
    return major < 24 ? node : undefined;
  }
  return undefined;
}

const machineNode = olderNode();
let app: TestApp;

/** Runs `file args` with a user's environment: no npm_* variables, the user's PATH, a fresh npm cache. */
async function asUser(file: string, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined && !/^npm_/i.test(k)) env[k] = v;
  const cache = await mkdtemp(path.join(os.tmpdir(), 'sb-npm-cache-'));
  onCleanup(() => rm(cache, { recursive: true, force: true }));
  Object.assign(env, { PATH: userPath, npm_config_cache: cache, MONGODB_URL: `${app.t.url}${app.t.dbName}`, LOG_LEVEL: 'error' });
  return new Promise((resolve) => {
    execFile(file, args, { env, timeout: 150_000 }, (err, stdout, stderr) => resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }));
  });
}

beforeAll(async () => {
  if (machineNode) app = await startTestApp({ work: false });
});

describe.skipIf(!machineNode)('switchboard on an older Node', { timeout: 180_000 }, () => {
  it('bin/switchboard.js hands the command to the pinned Node 24 and passes its exit status on', async () => {
    const ok = await asUser(machineNode!, ['bin/switchboard.js', '--json', 'status']);
    expect(ok.stderr).toBe('');
    expect(ok.code).toBe(0);
    expect(JSON.parse(ok.stdout).killSwitch).toMatchObject({ active: false });
    const usage = await asUser(machineNode!, ['bin/switchboard.js', 'frobnicate']);
    expect(usage.code).toBe(2);
    expect(usage.stderr).toContain('Unknown command `frobnicate`');
  });

  it('the first `npx switchboard` prints only the answer: no npm warning', async () => {
    const r = await asUser(path.join(path.dirname(machineNode!), 'npx'), ['switchboard', '--json', 'status']);
    expect(r.stderr).not.toMatch(/npm warn/i);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout).killSwitch).toMatchObject({ active: false });
  });
});
