/** The console: commands, numbered actions, live events, history; piped into the real CLI process. */
import { describe, it, expect, beforeAll } from 'vitest';
import { execFile } from 'node:child_process';
import { PassThrough } from 'node:stream';
import { mkdtemp, readFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { z } from 'zod';
import { startTestApp, type TestApp } from '../support/app.ts';
import { eventually } from '../support/engine.ts';
import { defineJob } from '../../src/engine/defineJob.ts';
import { runConsole } from '../../src/chat/adapters/console.ts';

let app: TestApp;
const broken = defineJob({ name: 'test.broken', payload: z.object({}), retry: { maxAttempts: 1 }, async handler() { throw new Error('boom'); } });

beforeAll(async () => {
  app = await startTestApp({ extraJobs: [broken] });
});

describe('console', () => {
  it('runs commands, offers actions as numbers, prints live events, keeps history', async () => {
    const input = new PassThrough();
    const output = new PassThrough();
    let screen = '';
    output.on('data', (b: Buffer) => (screen += b.toString()));
    const historyFile = path.join(await mkdtemp(path.join(os.tmpdir(), 'sb-console-')), 'history');
    const done = runConsole(app.frontEnd, { input, output, historyFile });
    const type = (line: string) => input.write(`${line}\n`);
    const seen = (text: string) => eventually(async () => screen.includes(text), `console to show "${text}"`);

    type('status');
    await seen('Switchboard status');
    type('killswitch on --reason "console test"');
    await seen('Kill switch ON: no new attempt starts');
    await seen('⚠ kill switch ON');
    await seen('[1] Turn off');
    type('1');
    await seen('Kill switch off: held jobs resume.');
    await app.ops.jobs.run('test.broken', {});
    await seen('⚠ DLQ: test.broken');
    const dl = await eventually(async () => (await app.t.db.collection('deadLetters').findOne({ jobName: 'test.broken' })) ?? undefined, 'a dead letter');
    type(`dlq show ${dl._id}`);
    await seen('[2] Delete (!)');
    type('2');
    await seen('Delete this dead letter? It is kept as deleted in the audit trail and will not run. Type y to confirm');
    type('n');
    await seen('Cancelled.');
    expect((await app.ops.deadLetters.show(String(dl._id))).status).toBe('pending');
    type(`dlq show ${dl._id}`);
    await eventually(async () => screen.split('[2] Delete (!)').length === 3, 'the actions again');
    type('2');
    type('y');
    await seen('Deleted 1 dead letter.');
    expect((await app.ops.deadLetters.show(String(dl._id))).status).toBe('deleted');
    type('frobnicate');
    await seen('Unknown command `frobnicate`');
    type('exit');
    await done;
    const history = (await readFile(historyFile, 'utf8')).split('\n').filter(Boolean);
    expect(history.slice(0, 3)).toEqual(['status', 'killswitch on --reason "console test"', '1']);
    expect(history.at(-1)).toBe('frobnicate');
    const audit = await app.t.db.collection('auditLog').findOne({ action: 'killswitch_off', 'actor.platform': 'console' });
    expect(audit?.outcome).toBe('ok');
  });
});

/** `switchboard console` as a real process, `lines` piped into its standard input. */
function pipedConsole(lines: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = execFile(
      process.execPath,
      ['src/cli.ts', 'console'],
      { env: { ...process.env, MONGODB_URL: `${app.t.url}${app.t.dbName}`, LOG_LEVEL: 'error' }, timeout: 60_000 },
      (err, stdout, stderr) => resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
    child.stdin!.end(lines.map((l) => `${l}\n`).join(''));
  });
}

describe('console reading a pipe', { timeout: 120_000 }, () => {
  it('runs every line in order and exits 0 at the end of the input', async () => {
    const r = await pipedConsole(['killswitch on --reason piped', 'killswitch status', 'killswitch off --reason done', 'killswitch status']);
    expect(r.stderr).toBe('');
    expect(r.code, r.stdout).toBe(0);
    const on = r.stdout.indexOf('Kill switch ON');
    const statusOn = r.stdout.indexOf('Kill switch is ON', on + 1);
    const off = r.stdout.indexOf('Kill switch off', statusOn);
    const statusOff = r.stdout.indexOf('Kill switch is off', off);
    expect([on, statusOn, off, statusOff].every((i) => i >= 0)).toBe(true);
    expect(r.stdout).not.toContain('switchboard>'); // no prompt without a terminal
  });

  it('exits 1 when a line failed, after running the lines that follow it', async () => {
    const r = await pipedConsole(['frobnicate', 'killswitch status']);
    expect(r.code, r.stdout).toBe(1);
    expect(r.stdout).toContain('Unknown command `frobnicate`');
    expect(r.stdout).toContain('Kill switch is off');
    expect(r.stderr).not.toContain('readline was closed');
  });
});
