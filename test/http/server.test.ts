/** The HTTP server never lets a request take the process down. */
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HttpServer } from '../../src/http/server.ts';
import { captureLogs } from './logCapture.ts';

const { log, lines } = captureLogs();
const http = new HttpServer(log);
let base: string;
let port: number;

beforeAll(async () => {
  http.route('GET', '/boom', () => {
    throw new TypeError("Cannot read properties of undefined (reading 'id')");
  });
  http.route('POST', '/async-boom', async () => {
    await Promise.resolve();
    throw new Error('rejected later');
  });
  http.route('POST', '/echo', (_req, res, raw) => {
    res.writeHead(200);
    res.end(raw);
  });
  port = await http.listen(0, '127.0.0.1');
  base = `http://127.0.0.1:${port}`;
});
afterAll(() => http.close());

describe('HttpServer', () => {
  it.each([
    ['GET', '/boom'],
    ['POST', '/async-boom'],
  ])('answers a throwing handler (%s %s) 500 with a reference logged once', async (method, path) => {
    lines.clear();
    const res = await fetch(`${base}${path}`, { method, ...(method === 'POST' ? { body: '{}' } : {}) });
    expect(res.status).toBe(500);
    const body = (await res.json()) as { error: string; ref: string };
    expect(body.ref).toMatch(/^[0-9a-f]{6}$/);
    expect(body.error).toBe(`That failed on our side (ref ${body.ref}); the details are in the server log.`);
    const errors = lines.items.filter((l) => l.level === 'error');
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatchObject({ ref: body.ref, path, msg: 'request failed' });
  });

  it('notes a client that aborts mid-body at debug level, and keeps serving', async () => {
    lines.clear();
    const socket = net.connect(port, '127.0.0.1');
    await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
    // Expect: 100-continue makes the server say when it has the request and waits for its body.
    const continued = new Promise<void>((resolve) => socket.once('data', () => resolve()));
    socket.write('POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\nExpect: 100-continue\r\n\r\n');
    await continued;
    socket.write('{"half":');
    socket.destroy();
    await lines.waitFor((l) => l.msg === 'the client went away before its request was read', 'the abort to be noted');
    expect(lines.items.filter((l) => l.level === 'error')).toHaveLength(0);
    const res = await fetch(`${base}/echo`, { method: 'POST', body: 'still here' });
    expect(await res.text()).toBe('still here');
  });

  it('answers unknown routes 404 and oversized bodies 413, each with a sentence', async () => {
    const missing = await fetch(`${base}/nope`);
    expect(missing.status).toBe(404);
    expect(await missing.json()).toEqual({ error: 'Nothing is served at GET /nope.' });
    const big = await fetch(`${base}/echo`, { method: 'POST', body: 'x'.repeat(1024 * 1024 + 1) });
    expect(big.status).toBe(413);
    expect(await big.json()).toEqual({ error: 'The request body is larger than 1024 KiB.' });
  });
});
