/** The interactive console: commands, numbered actions, live events, history. */
import { describe, it, expect, beforeAll } from 'vitest';
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
    const done = runConsole(app, { input, output, historyFile });
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
