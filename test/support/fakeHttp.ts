/** Shared node:http plumbing for the local fakes (Slack, Telegram, OpenAI): start, parse bodies, reply, close. */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** Request headers as recorded by the fakes. */
export type RecordedHeaders = Record<string, string | string[] | undefined>;

/** Handles one request whose body has already been read. */
export type FakeHandler = (req: IncomingMessage, res: ServerResponse, rawBody: Buffer) => void | Promise<void>;

/** A started local server. */
export interface FakeServer {
  server: Server;
  /** `http://127.0.0.1:<port>` without a trailing slash. */
  origin: string;
  /** Stops listening and destroys every open (keep-alive or held) connection at once. */
  close(): Promise<void>;
}

/** Starts a node:http server on 127.0.0.1, port 0. Handler errors become HTTP 500. */
export async function startHttpServer(handler: FakeHandler): Promise<FakeServer> {
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('error', () => {});
    req.on('end', () => {
      Promise.resolve()
        .then(() => handler(req, res, Buffer.concat(chunks)))
        .catch((err: unknown) => {
          if (res.headersSent || res.destroyed) return;
          sendJson(res, 500, { ok: false, error: `fake server error: ${String(err)}` });
        });
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  let closing: Promise<void> | undefined;
  return {
    server,
    origin: `http://127.0.0.1:${port}`,
    close() {
      closing ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      return closing;
    },
  };
}

/** Writes a JSON reply (no-op if the client already went away). */
export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  if (res.destroyed || res.writableEnded) return;
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': String(Buffer.byteLength(text)),
    ...headers,
  });
  res.end(text);
}

/**
 * Parses a JSON, x-www-form-urlencoded or multipart body into an object.
 * Form values named in `jsonFields` that hold JSON text are decoded (SDKs send nested objects that way).
 */
export async function parseBody(
  raw: Buffer,
  contentType: string | undefined,
  jsonFields: readonly string[] = [],
): Promise<Record<string, unknown>> {
  if (raw.length === 0) return {};
  const type = (contentType ?? '').split(';')[0].trim().toLowerCase();
  if (type === 'application/json' || (type === '' && /^\s*[{[]/.test(raw.toString('utf8')))) {
    const parsed: unknown = JSON.parse(raw.toString('utf8'));
    return isRecord(parsed) ? parsed : { _json: parsed };
  }
  let out: Record<string, unknown>;
  if (type === 'application/x-www-form-urlencoded') {
    out = Object.fromEntries(new URLSearchParams(raw.toString('utf8')));
  } else if (type === 'multipart/form-data') {
    const form = await new Response(new Uint8Array(raw), { headers: { 'content-type': contentType ?? '' } }).formData();
    out = {};
    for (const [key, value] of form.entries()) {
      out[key] = typeof value === 'string' ? value : { filename: value.name, type: value.type, size: value.size };
    }
  } else {
    return { _raw: raw.toString('utf8') };
  }
  for (const key of jsonFields) {
    const value = out[key];
    if (typeof value !== 'string' || !/^\s*[{[]/.test(value)) continue;
    try {
      out[key] = JSON.parse(value);
    } catch {
      // leave as sent
    }
  }
  return out;
}

/** True for plain (non-array) objects. */
export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
