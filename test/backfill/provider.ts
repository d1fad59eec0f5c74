/**
 * A local discovery provider for the backfill and discovery tests: `GET /items?day=D&limit=N` lists
 * N items of day D, `GET /items/ID` answers one item. Every request is recorded (per day), a day can
 * be held until the test releases it, and the provider can be made to fail (503).
 */
import { startHttpServer, sendJson, type FakeServer } from '../support/fakeHttp.ts';
import { Recorder } from '../support/waitFor.ts';

/** One request as the provider saw it. */
export interface ProviderRequest {
  day?: string;
  item?: string;
  at: number;
}

/** The running provider. */
export interface FakeDiscovery {
  origin: string;
  requests: Recorder<ProviderRequest>;
  /** Requests per day, for the given days (0 when none). */
  perDay(days: string[]): Record<string, number>;
  /** Holds every list request for `day` until `release()`. */
  hold(day: string): void;
  release(): void;
  /** Answers 503 to everything while true. */
  failing: boolean;
  /** Answers 503 to list requests of these days. */
  failingDays: Set<string>;
  close(): Promise<void>;
}

/** Starts the provider on 127.0.0.1. */
export async function startFakeDiscovery(): Promise<FakeDiscovery> {
  const requests = new Recorder<ProviderRequest>();
  let held: { day: string; promise: Promise<void>; release: () => void } | undefined;
  const state = { failing: false };
  const failingDays = new Set<string>();
  const server: FakeServer = await startHttpServer(async (req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    const item = url.pathname.startsWith('/items/') ? decodeURIComponent(url.pathname.slice('/items/'.length)) : undefined;
    const day = url.searchParams.get('day') ?? undefined;
    requests.record({ day, item, at: Date.now() });
    if (state.failing || (day && failingDays.has(day))) return sendJson(res, 503, { error: 'down' });
    if (item) return sendJson(res, 200, { id: item, title: `Item ${item}` });
    if (url.pathname !== '/items' || !day) return sendJson(res, 404, { error: 'unknown' });
    if (held && held.day === day) await held.promise;
    const limit = Number(url.searchParams.get('limit') ?? 10);
    sendJson(res, 200, { items: Array.from({ length: limit }, (_, k) => ({ id: `${day}-${k}`, day, k })) });
  });
  return {
    origin: server.origin,
    requests,
    failingDays,
    perDay(days) {
      return Object.fromEntries(days.map((d) => [d, requests.items.filter((r) => r.day === d).length]));
    },
    hold(day) {
      let release!: () => void;
      const promise = new Promise<void>((r) => (release = r));
      held = { day, promise, release };
    },
    release() {
      held?.release();
      held = undefined;
    },
    get failing() {
      return state.failing;
    },
    set failing(v: boolean) {
      state.failing = v;
    },
    close: () => server.close(),
  };
}
