/**
 * The Switchboard HTTP server (PORT): health, and the routes adapters mount (Slack events,
 * Telegram webhook, signup endpoints). Handlers get the raw body so signatures can be checked.
 * No request can take the process down: a handler that throws is answered 500 with a reference
 * that is logged once, and a client that goes away mid-request is only noted at debug level.
 */
import { randomBytes } from 'node:crypto';
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from '../log.ts';

export type RouteHandler = (req: IncomingMessage, res: ServerResponse, rawBody: Buffer) => void | Promise<void>;

const MAX_BODY = 1024 * 1024;

/** A short reference that ties what a user sees to one log line, e.g. "a3f09c". */
export function errorRef(): string {
  return randomBytes(3).toString('hex');
}

export class HttpServer {
  private readonly routes = new Map<string, RouteHandler>();
  private readonly server: http.Server;
  private readonly log: Logger;

  constructor(log: Logger) {
    this.log = log.child({ component: 'http' });
    // handle() catches everything it can; the catch here is for a logger that throws.
    this.server = http.createServer((req, res) => void this.handle(req, res).catch(() => res.destroy()));
  }

  /** Mounts a handler for METHOD + exact path (query strings are ignored for matching). */
  route(method: string, path: string, handler: RouteHandler): void {
    this.routes.set(`${method.toUpperCase()} ${path}`, handler);
  }

  async listen(port: number, host: string): Promise<number> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, host, () => resolve());
    });
    return (this.server.address() as AddressInfo).port;
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = (req.url ?? '/').split('?')[0];
    // A socket error after we answered (the client reset the connection) must not be unhandled.
    res.on('error', (err) => this.log.debug({ err, path }, 'response failed: the client went away'));
    const handler = this.routes.get(`${req.method} ${path}`);
    if (!handler) return sendJson(res, 404, { error: `Nothing is served at ${req.method} ${path}.` });
    try {
      const body = await readBody(req);
      if (!body) return sendJson(res, 413, { error: `The request body is larger than ${MAX_BODY / 1024} KiB.` });
      await handler(req, res, body);
    } catch (err) {
      if (req.destroyed && !req.complete) return void this.log.debug({ path }, 'the client went away before its request was read');
      const ref = errorRef();
      this.log.error({ err, ref, method: req.method, path }, 'request failed');
      if (!res.headersSent) sendJson(res, 500, { error: `That failed on our side (ref ${ref}); the details are in the server log.`, ref });
      else res.end();
    }
  }
}

/** The whole body, or undefined once it passes MAX_BODY; rejects when the client aborts. */
async function readBody(req: IncomingMessage): Promise<Buffer | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY) return undefined;
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

/** Answers with a JSON body (a no-op when the client has gone or an answer was already sent). */
export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  if (res.headersSent || res.destroyed) return;
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8' });
  res.end(JSON.stringify(body));
}
