/**
 * The Switchboard HTTP server (PORT): health, and the routes adapters mount (Slack events,
 * Telegram webhook, signup endpoints). Handlers get the raw body so signatures can be checked.
 */
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from '../log.ts';

export type RouteHandler = (req: IncomingMessage, res: ServerResponse, rawBody: Buffer) => void | Promise<void>;

const MAX_BODY = 1024 * 1024;

export class HttpServer {
  private readonly routes = new Map<string, RouteHandler>();
  private readonly server: http.Server;
  private readonly log: Logger;

  constructor(log: Logger) {
    this.log = log.child({ component: 'http' });
    this.server = http.createServer((req, res) => void this.handle(req, res));
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
    const handler = this.routes.get(`${req.method} ${path}`);
    if (!handler) return sendJson(res, 404, { error: 'not found' });
    try {
      const chunks: Buffer[] = [];
      let size = 0;
      for await (const chunk of req) {
        size += (chunk as Buffer).length;
        if (size > MAX_BODY) return sendJson(res, 413, { error: 'body too large' });
        chunks.push(chunk as Buffer);
      }
      await handler(req, res, Buffer.concat(chunks));
    } catch (err) {
      this.log.error({ err, path }, 'request failed');
      if (!res.headersSent) sendJson(res, 500, { error: 'internal error' });
      else res.end();
    }
  }
}

/** Answers with a JSON body. */
export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8' });
  res.end(JSON.stringify(body));
}
