/**
 * `http.invoke`: the operator's "invoke" tool and the engine's test subject. Sends a JSON body
 * (POST by default) with Node's fetch; a non-2xx answer is a failure naming the status and the
 * start of the body. Hosts can be restricted with HTTP_INVOKE_ALLOWED_HOSTS.
 */
import { z } from 'zod';
import { defineJob } from '../src/engine/defineJob.ts';
import { NotProviderFaultError, PayloadError } from '../src/engine/errors.ts';

export const httpInvokePayload = z.object({
  url: z.url({ protocol: /^https?$/ }),
  method: z.enum(['GET', 'POST', 'PUT', 'PATCH', 'DELETE']).default('POST'),
  headers: z.record(z.string(), z.string()).default({}),
  body: z.unknown().optional(),
  timeoutMs: z.number().int().positive().max(300_000).default(30_000),
});

/** An HTTP answer that is not 2xx. `status` lets the triage classify it. */
export class HttpStatusError extends Error {
  readonly code = 'http_status';
  readonly status: number;
  constructor(status: number, bodyStart: string) {
    super(`HTTP ${status}${bodyStart ? `: ${bodyStart}` : ''}`);
    this.name = 'HttpStatusError';
    this.status = status;
  }
}

/** The job, restricted to `allowedHosts` when that list is not empty. */
export function httpInvokeJob(opts: { allowedHosts: readonly string[] }) {
  const allowed = new Set(opts.allowedHosts.map((h) => h.toLowerCase()));
  return defineJob({
    name: 'http.invoke',
    description: 'Calls an HTTP endpoint with a JSON body; non-2xx fails.',
    payload: httpInvokePayload,
    retry: { maxAttempts: 5, backoffMs: 5_000 },
    concurrency: 10,
    timeoutMs: 330_000,
    async handler({ payload, signal, count, telemetry }) {
      const url = new URL(payload.url);
      if (allowed.size > 0 && !allowed.has(url.hostname.toLowerCase())) {
        throw new PayloadError(`host ${url.hostname} is not in HTTP_INVOKE_ALLOWED_HOSTS`);
      }
      const started = Date.now();
      const hasBody = payload.body !== undefined && payload.method !== 'GET';
      const res = await fetch(url, {
        method: payload.method,
        headers: { ...(hasBody ? { 'content-type': 'application/json' } : {}), ...payload.headers },
        body: hasBody ? JSON.stringify(payload.body) : undefined,
        signal: AbortSignal.any([signal, AbortSignal.timeout(payload.timeoutMs)]),
      });
      const text = await res.text();
      telemetry('http', { status: res.status, ms: Date.now() - started, bytes: text.length, host: url.hostname });
      if (!res.ok) {
        const err = new HttpStatusError(res.status, text.slice(0, 200).replace(/\s+/g, ' ').trim());
        // 4xx other than 408/429 is about our request, not the provider's health.
        if (res.status >= 400 && res.status < 500 && res.status !== 408 && res.status !== 429) {
          throw new NotProviderFaultError(err.message, { cause: err });
        }
        throw err;
      }
      count('requests');
    },
  });
}
