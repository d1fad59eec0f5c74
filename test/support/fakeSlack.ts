/** A local HTTP stand-in for Slack's Web API and response_url endpoints, driven by the real WebClient/Bolt. */
import { parseBody, sendJson, startHttpServer, type RecordedHeaders } from './fakeHttp.ts';
import { Recorder } from './waitFor.ts';

export { blockActionBody, signSlackRequest, slashCommandBody } from './slackPayloads.ts';

/** One Web API call as received (form or JSON body decoded; blocks/attachments/view JSON strings parsed). */
export interface SlackCall {
  method: string;
  body: Record<string, unknown>;
  headers: RecordedHeaders;
  /** HTTP status the fake answered with (429 for injected rate limits). */
  status: number;
}

/** One POST to a response_url (what Bolt's `respond()` sends). */
export interface SlackResponse {
  id: string;
  body: Record<string, unknown>;
  headers: RecordedHeaders;
}

/** An injected failure for the next call of a method. */
export type SlackFailure = { status: 429; retryAfterSec?: number } | { error: string };

/** The running fake. */
export interface FakeSlack {
  /** Base URL for `WebClient`/Bolt `clientOptions.slackApiUrl`; ends in `/api/`. */
  apiUrl: string;
  /** Every Web API call, oldest first (live array). */
  calls: SlackCall[];
  /** Every response_url POST, oldest first (live array). */
  responses: SlackResponse[];
  /** A response_url on this fake; POSTs to it are recorded in `responses` under `id`. */
  responseUrl(id?: string): string;
  /** Calls of one method, oldest first. */
  callsOf(method: string): SlackCall[];
  /** Resolves with the first call of `method` matching `predicate`, waiting if none yet. */
  waitForCall(method: string, predicate?: (call: SlackCall) => boolean, timeoutMs?: number): Promise<SlackCall>;
  /** Resolves with the first response_url POST matching `predicate`, waiting if none yet. */
  waitForResponse(predicate?: (r: SlackResponse) => boolean, timeoutMs?: number): Promise<SlackResponse>;
  /** Makes the next call of `method` answer HTTP 429 (Retry-After, default 1 s) or `{ ok: false, error }`. */
  failNext(method: string, failure: SlackFailure): void;
  /** Clears recorded calls, responses and pending failures. */
  reset(): void;
  /** Stops the server and drops open connections. */
  close(): Promise<void>;
}

/** Identity the fake reports from auth.test. */
export const SLACK_BOT = { userId: 'UBOT', teamId: 'T1', botId: 'B1', appId: 'A1' } as const;

const JSON_FIELDS = ['blocks', 'attachments', 'view', 'metadata', 'unfurls', 'user_auth_blocks'];

/** Options of {@link startFakeSlack}. */
export interface FakeSlackOptions {
  /** Socket Mode: the WebSocket URL `apps.connections.open` hands out (one per call, maybe late); unset, the method answers `socket_mode_not_enabled`. */
  socketModeUrl?: () => string | Promise<string>;
}

/** Starts a fake Slack on 127.0.0.1 (random port). */
export async function startFakeSlack(opts: FakeSlackOptions = {}): Promise<FakeSlack> {
  const calls = new Recorder<SlackCall>();
  const responses = new Recorder<SlackResponse>();
  const failures = new Map<string, SlackFailure[]>();
  let tsCounter = 0;
  let responseCounter = 0;
  let viewCounter = 0;
  const nextTs = (): string => {
    tsCounter += 100;
    return `${1_700_000_000 + Math.floor(tsCounter / 1e6)}.${String(tsCounter % 1e6).padStart(6, '0')}`;
  };

  const answer = (method: string, body: Record<string, unknown>, headers: RecordedHeaders): Record<string, unknown> | Promise<Record<string, unknown>> => {
    const str = (key: string): string => (typeof body[key] === 'string' ? (body[key] as string) : '');
    switch (method) {
      case 'apps.connections.open': {
        // Only an app-level token (xapp-) may open a Socket Mode connection; Slack refuses a bot token so.
        if (!/^Bearer xapp-/.test(String(headers.authorization ?? ''))) return { ok: false, error: 'not_allowed_token_type' };
        if (!opts.socketModeUrl) return { ok: false, error: 'socket_mode_not_enabled' };
        return Promise.resolve(opts.socketModeUrl()).then((url) => ({ ok: true, url }));
      }
      case 'auth.test':
        return {
          ok: true,
          url: 'https://switchboard-test.slack.com/',
          team: 'Switchboard Test',
          user: 'switchboard',
          team_id: SLACK_BOT.teamId,
          user_id: SLACK_BOT.userId,
          bot_id: SLACK_BOT.botId,
          is_enterprise_install: false,
        };
      case 'chat.postMessage': {
        if (!str('channel')) return { ok: false, error: 'channel_not_found' };
        if (!str('text') && body.blocks === undefined && body.attachments === undefined) return { ok: false, error: 'no_text' };
        const ts = nextTs();
        const message: Record<string, unknown> = {
          type: 'message',
          text: str('text'),
          user: SLACK_BOT.userId,
          bot_id: SLACK_BOT.botId,
          app_id: SLACK_BOT.appId,
          team: SLACK_BOT.teamId,
          ts,
        };
        for (const key of ['blocks', 'attachments', 'thread_ts', 'metadata']) if (body[key] !== undefined) message[key] = body[key];
        return { ok: true, channel: str('channel'), ts, message };
      }
      case 'chat.update':
        if (!str('channel') || !str('ts')) return { ok: false, error: 'invalid_arguments' };
        return {
          ok: true,
          channel: str('channel'),
          ts: str('ts'),
          text: str('text'),
          message: { type: 'message', text: str('text'), blocks: body.blocks, user: SLACK_BOT.userId, bot_id: SLACK_BOT.botId },
        };
      case 'chat.postEphemeral':
        if (!str('channel') || !str('user')) return { ok: false, error: 'invalid_arguments' };
        return { ok: true, message_ts: nextTs() };
      case 'chat.delete':
        return { ok: true, channel: str('channel'), ts: str('ts') };
      case 'users.info': {
        const id = str('user') || 'U0';
        const name = id.toLowerCase();
        const realName = `User ${id}`;
        return {
          ok: true,
          user: {
            id,
            team_id: SLACK_BOT.teamId,
            name,
            real_name: realName,
            deleted: false,
            is_bot: false,
            tz: 'UTC',
            profile: { real_name: realName, display_name: name, email: `${name}@example.com` },
          },
        };
      }
      case 'conversations.info': {
        const id = str('channel') || 'C0';
        const isIm = id.startsWith('D');
        return {
          ok: true,
          channel: {
            id,
            name: isIm ? undefined : `channel-${id.toLowerCase()}`,
            is_channel: !isIm && !id.startsWith('G'),
            is_private: id.startsWith('G'),
            is_im: isIm,
            is_member: true,
            created: 1_700_000_000,
          },
        };
      }
      case 'views.open':
      case 'views.push':
      case 'views.update': {
        const view = typeof body.view === 'object' && body.view !== null ? body.view : {};
        return { ok: true, view: { id: str('view_id') || `V${++viewCounter}`, team_id: SLACK_BOT.teamId, ...view } };
      }
      default:
        return { ok: true };
    }
  };

  const fake = await startHttpServer(async (req, res, raw) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const body = await parseBody(raw, req.headers['content-type'], JSON_FIELDS);
    const headers: RecordedHeaders = { ...req.headers };
    if (url.pathname.startsWith('/response/')) {
      const id = decodeURIComponent(url.pathname.slice('/response/'.length));
      responses.record({ id, body, headers });
      sendJson(res, 200, { ok: true });
      return;
    }
    if (!url.pathname.startsWith('/api/')) {
      sendJson(res, 404, { ok: false, error: 'unknown_method' });
      return;
    }
    const method = url.pathname.slice('/api/'.length);
    for (const [k, v] of url.searchParams) if (!(k in body)) body[k] = v;
    const failure = failures.get(method)?.shift();
    if (failure && 'status' in failure) {
      const retryAfter = failure.retryAfterSec ?? 1;
      calls.record({ method, body, headers, status: 429 });
      sendJson(res, 429, { ok: false, error: 'ratelimited' }, { 'retry-after': String(retryAfter) });
      return;
    }
    calls.record({ method, body, headers, status: 200 });
    sendJson(res, 200, failure ? { ok: false, error: failure.error } : await answer(method, body, headers));
  });

  return {
    apiUrl: `${fake.origin}/api/`,
    calls: calls.items,
    responses: responses.items,
    responseUrl(id?: string) {
      return `${fake.origin}/response/${encodeURIComponent(id ?? `R${++responseCounter}`)}`;
    },
    callsOf(method) {
      return calls.items.filter((c) => c.method === method);
    },
    waitForCall(method, predicate = () => true, timeoutMs) {
      return calls.waitFor((c) => c.method === method && predicate(c), `Slack ${method} call`, timeoutMs);
    },
    waitForResponse(predicate = () => true, timeoutMs) {
      return responses.waitFor(predicate, 'Slack response_url POST', timeoutMs);
    },
    failNext(method, failure) {
      const queue = failures.get(method) ?? [];
      queue.push(failure);
      failures.set(method, queue);
    },
    reset() {
      calls.clear();
      responses.clear();
      failures.clear();
    },
    close: () => fake.close(),
  };
}

