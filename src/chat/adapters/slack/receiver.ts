/**
 * A Bolt Receiver mounted as a route of our HttpServer (`POST /slack/events`): slash commands,
 * interactivity and events. Every request is verified with the signing secret first (bad
 * signature, or a timestamp more than 5 minutes off: 401 and nothing runs); the HTTP answer is
 * sent as soon as a listener acks, while the listener goes on working after it.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { parse as parseQuery } from 'node:querystring';
import { verifySlackRequest, type App as BoltApp, type Receiver, type ReceiverEvent } from '@slack/bolt';
import type { Logger } from '../../../log.ts';

export interface SlackRouteReceiverOptions {
  signingSecret: string;
  log: Logger;
  /** Answer 200 anyway when no listener acked by then (Slack gives 3 s). */
  ackTimeoutMs?: number;
  /** False until Bolt is initialised (auth.test answered): requests are refused meanwhile. */
  ready?: () => boolean;
}

const STARTING = 'Switchboard is still connecting to Slack; try again in a minute.';

const MAX_SKEW_SEC = 5 * 60;

/** Throws unless the request carries a valid, fresh v0 signature of `rawBody`. */
export function verifyRequest(signingSecret: string, headers: IncomingMessage['headers'], rawBody: string, nowMs = Date.now()): void {
  const signature = headers['x-slack-signature'];
  const timestamp = Number(headers['x-slack-request-timestamp']);
  if (typeof signature !== 'string' || !Number.isFinite(timestamp)) throw new Error('missing signature headers');
  if (timestamp > nowMs / 1000 + MAX_SKEW_SEC) throw new Error('timestamp is in the future');
  verifySlackRequest({ signingSecret, body: rawBody, headers: { 'x-slack-signature': signature, 'x-slack-request-timestamp': timestamp }, nowMilliseconds: nowMs });
}

/** Decodes a Slack request body: form fields, a form `payload` JSON, or JSON; throws unless it is an object. */
export function parseSlackBody(rawBody: string, contentType: string | undefined): Record<string, unknown> {
  let body: unknown;
  if ((contentType ?? '').startsWith('application/x-www-form-urlencoded')) {
    const form = parseQuery(rawBody);
    body = typeof form.payload === 'string' ? JSON.parse(form.payload) : form;
  } else {
    body = JSON.parse(rawBody);
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new Error('not an object');
  return body as Record<string, unknown>;
}

/** Slash commands carry `command`; interactivity payloads and Events API bodies carry `type`. */
function isSlackRequest(body: Record<string, unknown>): boolean {
  return body.ssl_check === '1' || typeof body.command === 'string' || typeof body.type === 'string';
}

export class SlackRouteReceiver implements Receiver {
  private bolt: BoltApp | undefined;
  private readonly opts: SlackRouteReceiverOptions;

  constructor(opts: SlackRouteReceiverOptions) {
    this.opts = opts;
  }

  init(app: BoltApp): void {
    this.bolt = app;
  }

  async start(): Promise<void> {}

  /** After stop, requests are answered 503 (the route stays mounted on the HttpServer). */
  async stop(): Promise<void> {
    this.bolt = undefined;
  }

  /** The route handler for our HttpServer. */
  readonly handle = async (req: IncomingMessage, res: ServerResponse, raw: Buffer): Promise<void> => {
    const { log } = this.opts;
    const rawBody = raw.toString('utf8');
    try {
      verifyRequest(this.opts.signingSecret, req.headers, rawBody);
    } catch (err) {
      log.warn({ reason: (err as Error).message }, 'slack request refused');
      return reply(res, 401, 'invalid request signature');
    }
    let body: Record<string, unknown>;
    try {
      body = parseSlackBody(rawBody, req.headers['content-type']);
    } catch {
      return reply(res, 400, 'The body is not a JSON object or a form with a JSON payload.');
    }
    if (!isSlackRequest(body)) return reply(res, 400, 'The body is not a Slack command, interaction or event.');
    if (body.ssl_check === '1') return reply(res, 200, '');
    if (body.type === 'url_verification') return reply(res, 200, { challenge: body.challenge });
    if (!this.bolt) return reply(res, 503, 'Switchboard is not serving Slack right now.');
    // A slash command gets a sentence the user can read; Slack retries events and clicks on a 503.
    if (this.opts.ready && !this.opts.ready()) {
      return typeof body.command === 'string' ? reply(res, 200, { response_type: 'ephemeral', text: STARTING }) : reply(res, 503, STARTING);
    }

    let acked = false;
    let onAck = () => {};
    const ackDone = new Promise<void>((resolve) => (onAck = resolve));
    const ack = async (response?: unknown): Promise<void> => {
      if (acked) return;
      acked = true;
      reply(res, 200, response ?? '');
      onAck();
    };
    const retryNum = Number(req.headers['x-slack-retry-num']);
    const event: ReceiverEvent = {
      body,
      ack,
      ...(Number.isFinite(retryNum) ? { retryNum } : {}),
      ...(typeof req.headers['x-slack-retry-reason'] === 'string' ? { retryReason: req.headers['x-slack-retry-reason'] } : {}),
      customProperties: {},
    };
    const processing = this.bolt.processEvent(event).catch((err: unknown) => log.error({ err }, 'slack event failed'));
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<void>((resolve) => (timer = setTimeout(resolve, this.opts.ackTimeoutMs ?? 2500)));
    await Promise.race([ackDone, processing, timeout]);
    clearTimeout(timer);
    if (!acked) {
      if (!res.headersSent) log.debug({ type: body.type ?? body.command }, 'slack request not acked by a listener; answered 200');
      await ack();
    }
  };
}

function reply(res: ServerResponse, status: number, body: unknown): void {
  if (res.headersSent) return;
  if (body === '' || body === undefined) {
    res.writeHead(status);
    res.end();
  } else if (typeof body === 'string') {
    res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8' });
    res.end(body);
  } else {
    res.writeHead(status, { 'content-type': 'application/json; charset=utf-8' });
    res.end(JSON.stringify(body));
  }
}
