/** A local HTTP stand-in for OpenAI's `POST /v1/chat/completions`, driven by the real `openai` client. */
import type { ServerResponse } from 'node:http';
import { parseBody, sendJson, startHttpServer, type RecordedHeaders } from './fakeHttp.ts';
import { Recorder } from './waitFor.ts';

/** One request as received. */
export interface OpenAIRequest {
  method: string;
  path: string;
  body: Record<string, unknown>;
  headers: RecordedHeaders;
}

/** The running fake. */
export interface FakeOpenAI {
  /** For the client's `baseURL`; ends in `/v1`. */
  baseURL: string;
  /** Every request, oldest first (live array). */
  requests: OpenAIRequest[];
  /** Queues a successful completion with this content; it also becomes the answer once the queue is empty. */
  respondWith(content: string): void;
  /** Queues one error reply (default body is OpenAI's `{ error: { message, type, code } }` shape). */
  respondWithStatus(status: number, body?: unknown, headers?: Record<string, string>): void;
  /** Delays the next `count` replies by `ms` (a pending delay never blocks `close()`). */
  respondAfter(ms: number, count?: number): void;
  /** Queues one HTTP 200 reply that is not valid JSON ('invalid-json') or is JSON without `choices` ('no-choices'). */
  respondMalformed(kind?: 'invalid-json' | 'no-choices'): void;
  /** Resolves with the first request matching `predicate`, waiting if none yet. */
  waitForRequest(predicate?: (r: OpenAIRequest) => boolean, timeoutMs?: number): Promise<OpenAIRequest>;
  /** Clears requests, queued replies and delays; the default answer goes back to 'Fake reply.'. */
  reset(): void;
  /** Stops the server at once, dropping any delayed replies. */
  close(): Promise<void>;
}

type Planned =
  | { kind: 'content'; content: string }
  | { kind: 'status'; status: number; body?: unknown; headers: Record<string, string> }
  | { kind: 'invalid-json' }
  | { kind: 'no-choices' };

const DEFAULT_CONTENT = 'Fake reply.';
const ERROR_TYPES: Record<number, [type: string, code: string | null]> = {
  400: ['invalid_request_error', null],
  401: ['invalid_request_error', 'invalid_api_key'],
  404: ['invalid_request_error', 'model_not_found'],
  429: ['requests', 'rate_limit_exceeded'],
};

/** Starts a fake OpenAI API on 127.0.0.1 (random port). */
export async function startFakeOpenAI(): Promise<FakeOpenAI> {
  const requests = new Recorder<OpenAIRequest>();
  let planned: Planned[] = [];
  let fallback = DEFAULT_CONTENT;
  let delays: number[] = [];
  const timers = new Set<NodeJS.Timeout>();
  let completionCounter = 0;

  const reply = (res: ServerResponse, plan: Planned, body: Record<string, unknown>): void => {
    if (res.destroyed || res.writableEnded) return;
    const model = typeof body.model === 'string' ? body.model : 'gpt-4o-mini';
    const id = `chatcmpl-fake${++completionCounter}`;
    const created = Math.floor(Date.now() / 1000);
    if (plan.kind === 'status') {
      const [type, code] = ERROR_TYPES[plan.status] ?? ['server_error', null];
      const errorBody = plan.body ?? { error: { message: `Fake error ${plan.status}`, type, param: null, code } };
      if (typeof errorBody === 'string') {
        res.writeHead(plan.status, { 'content-type': 'text/plain', ...plan.headers });
        res.end(errorBody);
      } else sendJson(res, plan.status, errorBody, plan.headers);
      return;
    }
    if (plan.kind === 'invalid-json') {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{"id": "chatcmpl-broken", "choices": [');
      return;
    }
    if (plan.kind === 'no-choices') {
      sendJson(res, 200, { id, object: 'chat.completion', created, model });
      return;
    }
    const promptChars = JSON.stringify(body.messages ?? []).length;
    const usage = {
      prompt_tokens: Math.ceil(promptChars / 4),
      completion_tokens: Math.ceil(plan.content.length / 4),
      total_tokens: Math.ceil(promptChars / 4) + Math.ceil(plan.content.length / 4),
    };
    if (body.stream === true) {
      const chunk = (delta: Record<string, unknown>, finish: string | null): string =>
        `data: ${JSON.stringify({ id, object: 'chat.completion.chunk', created, model, choices: [{ index: 0, delta, finish_reason: finish }] })}\n\n`;
      res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
      res.end(`${chunk({ role: 'assistant', content: plan.content }, null)}${chunk({}, 'stop')}data: [DONE]\n\n`);
      return;
    }
    sendJson(res, 200, {
      id,
      object: 'chat.completion',
      created,
      model,
      choices: [
        { index: 0, message: { role: 'assistant', content: plan.content, refusal: null }, logprobs: null, finish_reason: 'stop' },
      ],
      usage,
      system_fingerprint: 'fp_fake',
    });
  };

  const fake = await startHttpServer(async (req, res, raw) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const body = await parseBody(raw, req.headers['content-type']);
    requests.record({ method: req.method ?? 'GET', path: url.pathname, body, headers: { ...req.headers } });
    if (req.method !== 'POST' || url.pathname !== '/v1/chat/completions') {
      const message = `Unknown request URL: ${req.method} ${url.pathname}.`;
      sendJson(res, 404, { error: { message, type: 'invalid_request_error', param: null, code: 'unknown_url' } });
      return;
    }
    const plan: Planned = planned.shift() ?? { kind: 'content', content: fallback };
    const delay = delays.shift() ?? 0;
    if (delay <= 0) {
      reply(res, plan, body);
      return;
    }
    const timer = setTimeout(() => {
      timers.delete(timer);
      reply(res, plan, body);
    }, delay);
    timers.add(timer);
    res.on('close', () => {
      clearTimeout(timer);
      timers.delete(timer);
    });
  });

  return {
    baseURL: `${fake.origin}/v1`,
    requests: requests.items,
    respondWith(content) {
      planned.push({ kind: 'content', content });
      fallback = content;
    },
    respondWithStatus(status, body, headers = {}) {
      planned.push({ kind: 'status', status, body, headers });
    },
    respondAfter(ms, count = 1) {
      for (let i = 0; i < Math.min(count, 10_000); i++) delays.push(ms);
    },
    respondMalformed(kind = 'invalid-json') {
      planned.push(kind === 'no-choices' ? { kind } : { kind: 'invalid-json' });
    },
    waitForRequest(predicate = () => true, timeoutMs) {
      return requests.waitFor(predicate, 'OpenAI request', timeoutMs);
    },
    reset() {
      requests.clear();
      planned = [];
      delays = [];
      fallback = DEFAULT_CONTENT;
    },
    async close() {
      for (const timer of timers) clearTimeout(timer);
      timers.clear();
      await fake.close();
    },
  };
}
