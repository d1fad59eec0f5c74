/**
 * `serve` on a terminal (a pseudo-terminal from util-linux `script`): the console opens, the logs
 * go to DATA_DIR/switchboard.log, and a running job's retry warning shows as one line above the
 * prompt, the line being typed redrawn under it, instead of pino's multi-line object.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { onCleanup, useTestDb, type TestDb } from '../support/mongo.ts';
import { eventually } from '../support/engine.ts';

const SCRIPT = '/usr/bin/script';
let t: TestDb;
let server: http.Server;
let target: string;

beforeAll(async () => {
  t = await useTestDb('consolelogs');
  server = http.createServer((_req, res) => {
    res.writeHead(500);
    res.end('broken');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  target = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));

/**
 * The screen as text: a line keeps what follows its last "column 1, clear below" (readline's
 * redraw, and the console's clearing before a line above the prompt); other escapes are dropped.
 */
const plain = (s: string) =>
  s
    .split('\n')
    .map((line) => line.split('\x1b[1G\x1b[0J').at(-1)!.replace(/\x1b\[[0-9;?]*[A-Za-z]/g, '').replace(/\r/g, ''))
    .join('\n');

describe.skipIf(!existsSync(SCRIPT))('console beside serve', { timeout: 180_000 }, () => {
  it('shows a warning as one line above the prompt and keeps the full entry in the log file', async () => {
    const dataDir = await mkdtemp(path.join(os.tmpdir(), 'sb-console-logs-'));
    onCleanup(() => rm(dataDir, { recursive: true, force: true }));
    const env: Record<string, string> = {};
    for (const [k, v] of Object.entries(process.env)) if (v !== undefined && !/^(SLACK|TELEGRAM)_/.test(k)) env[k] = v;
    Object.assign(env, { MONGODB_URL: `${t.url}${t.dbName}`, DATA_DIR: dataDir, PORT: '0', HTTP_HOST: '127.0.0.1', LOG_LEVEL: 'info', ENGINE_PROCESS_EVERY_MS: '500' });
    const command = `${process.execPath} src/cli.ts serve`;
    const child: ChildProcess = spawn(SCRIPT, ['-q', '-e', '-c', command, '/dev/null'], { env, stdio: ['pipe', 'pipe', 'pipe'] });
    let screen = '';
    child.stdout!.on('data', (b: Buffer) => (screen += b.toString()));
    child.stderr!.on('data', (b: Buffer) => (screen += b.toString()));
    const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
    const seen = (text: string | RegExp, timeoutMs = 60_000) =>
      eventually(async () => (typeof text === 'string' ? plain(screen).includes(text) : text.test(plain(screen))), `the terminal to show ${text}`, timeoutMs);
    try {
      const logFile = path.join(dataDir, 'switchboard.log');
      await seen(`Logs go to ${logFile}`, 120_000); // serve starts: connect, indexes, engine
      await seen('switchboard> ');
      // Logged before the console opened: held, then shown as one line.
      await seen('⚠ warning: http.invoke may call any host');
      child.stdin!.write(`jobs run http.invoke {"url":"${target}/fail"}\r`);
      await seen('⚠ warning [http.invoke]: job failed, retry scheduled (HTTP 500');
      const warnings = () => plain(screen).split('\n').filter((l) => l.includes('job failed, retry scheduled')).length;
      const before = warnings();
      child.stdin!.write('killsw'); // typed, not sent: the next warning goes above it
      await eventually(async () => warnings() > before, 'the retry to fail again', 60_000);
      await seen(/job failed, retry scheduled[^\n]*\nswitchboard> killsw/);
      const text = plain(screen);
      expect(text).not.toMatch(/retryAt|maxAttempts|"level"|err: \{/); // no log object on the terminal
      for (const line of text.split('\n')) if (line.includes('⚠')) expect(line.length).toBeLessThanOrEqual(80);
      child.stdin!.write('\x15exit\r'); // clear the typed word, then leave
      expect(await exited).toBe(0);
      const entries = (await readFile(logFile, 'utf8')).trim().split('\n').map((l) => JSON.parse(l));
      const retry = entries.find((e) => e.msg === 'job failed, retry scheduled');
      expect(retry).toMatchObject({ level: 'warn', job: 'http.invoke', attempt: 1, maxAttempts: 5, err: { message: expect.stringContaining('HTTP 500') } });
      expect(retry.retryAt).toBeTruthy();
      expect(entries.some((e) => /^Switchboard serving on/.test(e.msg))).toBe(true); // info entries too
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  });
});
