/**
 * A local stand-in for Slack's Socket Mode, so the real SocketModeClient inside Bolt runs against
 * it. The fake Web API answers `apps.connections.open` (app-level token only) with a one-use
 * `ws://127.0.0.1:PORT/link/?ticket=N`; the WebSocket there speaks Slack's envelope protocol:
 * `hello` on connect, envelopes `{ envelope_id, type, payload, accepts_response_payload,
 * retry_attempt, retry_reason }` pushed by the test, the client's acks `{ envelope_id, payload }`
 * recorded, and on demand a `disconnect` message or a dropped socket. The client's pings are
 * answered by `ws` itself, as Slack's servers answer them.
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import { sendJson, startHttpServer } from './fakeHttp.ts';
import { startFakeSlack, SLACK_BOT, type FakeSlack } from './fakeSlack.ts';
import { Recorder } from './waitFor.ts';

/** The envelope types Slack sends over Socket Mode. */
export type EnvelopeType = 'slash_commands' | 'interactive' | 'events_api';

/** How an envelope is delivered: a re-delivery carries `retryAttempt` ≥ 1 and a reason. */
export interface EnvelopeOptions {
  retryAttempt?: number;
  retryReason?: string;
  /** Default: true for slash commands, false otherwise (as Slack sends them). */
  acceptsResponsePayload?: boolean;
}

/** One WebSocket connection the client opened with a valid ticket (live: `closed` flips when it ends). */
export interface SocketConnection {
  /** 1 for the first connection, 2 after the first reconnect, ... */
  number: number;
  ticket: string;
  closed: boolean;
  /** Close code the server saw (1006 when the socket was dropped without a close frame). */
  closeCode?: number;
}

/** One message the client sent: an ack `{ envelope_id, payload? }`, with the connection it came on. */
export interface SocketAck {
  envelope_id: string;
  payload?: Record<string, unknown>;
  connection: number;
}

/** The running fake. */
export interface FakeSlackSocket {
  /** The Web API fake (SLACK_API_URL): `apps.connections.open` calls and response_url POSTs are recorded there. */
  slack: FakeSlack;
  /** Every accepted connection, oldest first (live array). */
  connections: SocketConnection[];
  /** Every ack the client sent, oldest first (live array). */
  acks: SocketAck[];
  /** Upgrades refused for a missing, unknown or already-used ticket. */
  refused(): number;
  /** Resolves once connection `number` (1-based) is open and has been sent its `hello`. */
  waitForConnection(number: number, timeoutMs?: number): Promise<SocketConnection>;
  /** Sends an envelope on the newest open connection; returns its envelope_id. Throws when none is open. */
  deliver(type: EnvelopeType, payload: Record<string, unknown>, opts?: EnvelopeOptions): string;
  /** Resolves with the client's ack of `envelopeId`. */
  waitForAck(envelopeId: string, timeoutMs?: number): Promise<SocketAck>;
  /** Sends `{ type: 'disconnect', reason }` on the newest open connection (Slack's way of asking for a reconnect). */
  requestDisconnect(reason?: 'refresh_requested' | 'warning' | 'link_disabled'): void;
  /** Holds every `apps.connections.open` answer (a slow Slack) until the returned function is called. */
  holdOpens(): () => void;
  /** Drops the newest open connection without a close frame, as a network failure would. */
  dropConnection(): void;
  /** Stops the WebSocket server, drops its connections and stops the Web API fake. */
  close(): Promise<void>;
}

const LINK_PATH = '/link/';

/** Starts the Socket Mode fake and the Web API fake that hands out its URL. */
export async function startFakeSlackSocket(): Promise<FakeSlackSocket> {
  const connections = new Recorder<SocketConnection>();
  const acks = new Recorder<SocketAck>();
  const sockets = new Map<SocketConnection, WebSocket>();
  const tickets = new Set<string>();
  let refused = 0;
  let ticketCounter = 0;
  let held: Promise<void> | undefined;

  const wss = new WebSocketServer({ noServer: true });
  const server = await startHttpServer((_req, res) => sendJson(res, 404, { ok: false, error: 'websocket_only' }));
  const origin = server.origin.replace(/^http:/, 'ws:');

  server.server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const ticket = url.searchParams.get('ticket') ?? '';
    // A ticket opens one connection, once: a client must call apps.connections.open for each.
    if (url.pathname !== LINK_PATH || !tickets.delete(ticket)) {
      refused++;
      socket.end('HTTP/1.1 401 Unauthorized\r\nconnection: close\r\n\r\n');
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => accept(ws, ticket));
  });

  const accept = (ws: WebSocket, ticket: string): void => {
    const conn: SocketConnection = { number: connections.items.length + 1, ticket, closed: false };
    sockets.set(conn, ws);
    ws.on('message', (data, isBinary) => {
      if (isBinary) return;
      const msg = JSON.parse(data.toString()) as { envelope_id?: unknown; payload?: Record<string, unknown> };
      acks.record({ envelope_id: String(msg.envelope_id), ...(msg.payload ? { payload: msg.payload } : {}), connection: conn.number });
    });
    ws.on('close', (code) => {
      sockets.delete(conn);
      conn.closed = true;
      conn.closeCode = code;
      connections.emit('change');
    });
    ws.on('error', () => {});
    ws.send(
      JSON.stringify({
        type: 'hello',
        num_connections: sockets.size,
        debug_info: { host: 'applink-fake', approximate_connection_time: 18060 },
        connection_info: { app_id: SLACK_BOT.appId },
      }),
    );
    connections.record(conn);
  };

  const newest = (): WebSocket => {
    const open = [...sockets.entries()].filter(([c]) => !c.closed).sort(([a], [b]) => b.number - a.number);
    if (!open.length) throw new Error('the fake Socket Mode server has no open connection');
    return open[0][1];
  };

  const slack = await startFakeSlack({
    async socketModeUrl() {
      await held;
      const ticket = `fake-ticket-${++ticketCounter}`;
      tickets.add(ticket);
      return `${origin}${LINK_PATH}?ticket=${ticket}&app_id=${SLACK_BOT.appId}`;
    },
  });

  return {
    slack,
    connections: connections.items,
    acks: acks.items,
    refused: () => refused,
    waitForConnection(number, timeoutMs) {
      return connections.waitFor((c) => c.number === number && !c.closed, `Socket Mode connection ${number}`, timeoutMs);
    },
    deliver(type, payload, opts = {}) {
      const envelopeId = randomUUID();
      const envelope: Record<string, unknown> = {
        envelope_id: envelopeId,
        type,
        payload,
        accepts_response_payload: opts.acceptsResponsePayload ?? type === 'slash_commands',
        ...(opts.retryAttempt !== undefined ? { retry_attempt: opts.retryAttempt, retry_reason: opts.retryReason ?? 'timeout' } : {}),
      };
      newest().send(JSON.stringify(envelope));
      return envelopeId;
    },
    waitForAck(envelopeId, timeoutMs) {
      return acks.waitFor((a) => a.envelope_id === envelopeId, `ack of envelope ${envelopeId}`, timeoutMs);
    },
    requestDisconnect(reason = 'refresh_requested') {
      newest().send(JSON.stringify({ type: 'disconnect', reason, debug_info: { host: 'applink-fake' } }));
    },
    holdOpens() {
      let release = () => {};
      held = new Promise<void>((resolve) => (release = resolve));
      return release;
    },
    dropConnection() {
      newest().terminate();
    },
    async close() {
      for (const ws of sockets.values()) ws.terminate();
      await new Promise<void>((resolve) => wss.close(() => resolve()));
      await server.close();
      await slack.close();
    },
  };
}
