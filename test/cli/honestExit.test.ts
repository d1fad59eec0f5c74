/**
 * The cases as real CLI processes: exit codes that say whether anything was done, checked
 * arguments (exit 2 with what is accepted), durations shown as 10m, and `jobs run --wait`
 * progress on stderr. Eight processes; the dispatcher-level cases are test/commands/honestOutcomes.test.ts.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { startTestApp, type TestApp } from '../support/app.ts';
import { localAdmin } from '../../src/chat/localAdmin.ts';
import { cliAgainst } from './spawn.ts';

let app: TestApp;
let server: http.Server;
let target: string;
const cli = cliAgainst(() => app);

beforeAll(async () => {
  app = await startTestApp();
  let flaky = 0;
  // `/flaky` fails its first request and answers the next ones.
  server = http.createServer((req, res) => {
    const ok = req.url === '/flaky' && flaky++ > 0;
    res.writeHead(ok ? 200 : 500);
    res.end(ok ? 'fine' : 'broken');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  target = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));

describe('switchboard CLI: honest exit codes', { timeout: 180_000 }, () => {
  it('exits 1 when none of the named targets was acted on, naming why', async () => {
    const none = await cli(['dlq', 'retry', '000000000000000000000000']);
    expect(none.code).toBe(1);
    expect(none.stderr).toContain('Retried 0 dead letters; skipped 1 (000000000000000000000000: not found).');
    const nobody = await cli(['roles', 'revoke', 'slack:UNOBODY']);
    expect(nobody.code).toBe(1);
    expect(nobody.stderr).toContain('slack:UNOBODY: has no role to revoke');
  });

  it('exits 2 with suggestions for unknown jobs, subcommands and help topics', async () => {
    const job = await cli(['dlq', 'retry', '--all', '--job', 'http.invok']);
    expect(job.code).toBe(2);
    expect(job.stderr).toContain('Unknown job `http.invok`. Did you mean: `http.invoke`?');
    const sub = await cli(['jobs', 'explode']);
    expect(sub.code).toBe(2);
    expect(sub.stderr).toContain('`jobs` has: cancel, list, pause, resume, retry-failed, run, show.');
    const help = await cli(['--json', 'help', 'nosuchcommand']);
    expect(help.code).toBe(2);
    expect(help.json).toMatchObject({ status: 'usage', error: expect.stringContaining('No command `nosuchcommand`.') });
  });

  it('refuses a time it cannot read (exit 2, with the accepted forms)', async () => {
    const r = await cli(['jobs', 'run', 'maintenance.cleanup', '--at', '2999-13-45T99:99']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--at: expected an ISO date like 2025-06-01T09:30Z');
  });

  it('shows duration keys as 10m', async () => {
    const r = await cli(['config', 'get', 'alerts.backlog']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/alerts\.backlog\.max_age\s+10m\s+10m\s/);
    expect(r.stdout).not.toContain('600000');
  });

  it('jobs run --wait shows each attempt on stderr and how it ended on stdout', async () => {
    await app.dispatcher.run('config set http.invoke.backoff_ms 1s', localAdmin('cli'));
    const r = await cli(['--json', 'jobs', 'run', 'http.invoke', JSON.stringify({ url: `${target}/flaky` }), '--wait', '--timeout', '2m']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.json).toMatchObject({ job: 'http.invoke', outcome: 'success' });
    const lines = r.stderr.trim().split('\n');
    expect(lines[0]).toMatch(/^Enqueued http\.invoke as [0-9a-f]{24}; waiting up to 2m/);
    expect(lines).toEqual(expect.arrayContaining([expect.stringMatching(/^Attempt 1 started at /), expect.stringMatching(/^Attempt 1 failed after .*; it will be retried\.$/), expect.stringMatching(/^Attempt 2 started at /), expect.stringMatching(/^Attempt 2 ended: success in /)]));
  });
});
