/** `/healthz` (database and engine) and `/metrics` (Prometheus) on the Switchboard HTTP port. */
import client from 'prom-client';
import type { App } from '../app.ts';
import type { JobRunDoc } from '../db/collections.ts';
import { sendJson, type HttpServer } from './server.ts';

/** Mounts the health and metrics routes and starts counting runs. */
export function registerHealthRoutes(app: App, http: HttpServer): void {
  const registry = new client.Registry();
  client.collectDefaultMetrics({ register: registry });
  const runs = new client.Counter({ name: 'switchboard_job_runs_total', help: 'Finished attempts by job and outcome', labelNames: ['job', 'outcome'], registers: [registry] });
  const deadLetters = new client.Counter({ name: 'switchboard_dead_letters_total', help: 'Jobs moved to the DLQ', labelNames: ['job'], registers: [registry] });
  new client.Gauge({
    name: 'switchboard_running_attempts',
    help: 'Attempts running in this process',
    registers: [registry],
    collect() {
      this.set(app.engine.runningHere());
    },
  });
  app.ops.on('run', (r: JobRunDoc | null) => r && runs.inc({ job: r.jobName, outcome: r.outcome }));
  app.ops.on('dead-letter', (d: { jobName: string }) => deadLetters.inc({ job: d.jobName }));

  http.route('GET', '/healthz', async (_req, res) => {
    try {
      await app.db.command({ ping: 1 });
      sendJson(res, 200, { ok: true, killSwitch: app.ops.killSwitch().active, running: app.engine.runningHere() });
    } catch (err) {
      sendJson(res, 503, { ok: false, error: `database unreachable: ${(err as Error).message}` });
    }
  });
  http.route('GET', '/metrics', async (_req, res) => {
    res.writeHead(200, { 'content-type': registry.contentType });
    res.end(await registry.metrics());
  });
}
