/**
 * `/healthz` (liveness: the process answers; no database call, so it is always fast),
 * `/readyz` (readiness: database, engine, adapters; 503 with one sentence per reason) and
 * `/metrics` (Prometheus) on the Switchboard HTTP port.
 */
import type { Db } from 'mongodb';
import type { Config } from '../config.ts';
import type { ConnectionStatus } from './connections.ts';
import { Metrics, type MetricsSources } from './metrics.ts';
import { Readiness } from './readiness.ts';
import { sendJson, type HttpServer } from './server.ts';

/** What health and metrics read: the database (ping), the engine, and the metrics' sources. */
export interface HealthSources extends MetricsSources {
  db: Db;
  config: Pick<Config, 'ENGINE_PROCESS_EVERY_MS'>;
}

export interface HealthOptions {
  /** Database-backed metrics refresh period (default 15 s; tests shorten it). */
  metricsRefreshMs?: number;
  /** How long /readyz waits for a database ping (default 750 ms). */
  pingTimeoutMs?: number;
}

export interface Health {
  readiness: Readiness;
  metrics: Metrics;
  /** Adds adapters' connections to /readyz and the metrics. */
  watch(...statuses: ConnectionStatus[]): void;
  stop(): void;
}

/** Mounts the health, readiness and metrics routes and starts counting. */
export function registerHealthRoutes(app: HealthSources, http: HttpServer, opts: HealthOptions = {}): Health {
  const started = Date.now();
  const readiness = new Readiness({ db: app.db, engine: app.engine, processEveryMs: app.config.ENGINE_PROCESS_EVERY_MS, pingTimeoutMs: opts.pingTimeoutMs });
  const metrics = new Metrics(app, { connections: () => readiness.adapters(), refreshMs: opts.metricsRefreshMs });

  http.route('GET', '/healthz', (_req, res) => {
    sendJson(res, 200, { ok: true, uptimeSec: Math.round((Date.now() - started) / 1000) });
  });
  http.route('GET', '/readyz', async (_req, res) => {
    const report = await readiness.check();
    sendJson(res, report.ok ? 200 : 503, report);
  });
  http.route('GET', '/metrics', async (_req, res) => {
    const text = await metrics.scrape();
    res.writeHead(200, { 'content-type': metrics.registry.contentType });
    res.end(text);
  });
  return {
    readiness,
    metrics,
    watch: (...statuses) => readiness.watch(...statuses),
    stop: () => metrics.stop(),
  };
}
