/** An app with the engine working and the health routes on our HttpServer (port 0), as `serve` mounts them. */
import { registerHealthRoutes, type Health, type HealthOptions } from '../../src/http/health.ts';
import { HttpServer } from '../../src/http/server.ts';
import { startTestApp, type TestApp, type TestAppOptions } from '../support/app.ts';
import { onCleanup } from '../support/mongo.ts';

export interface Serving {
  app: TestApp;
  health: Health;
  /** http://127.0.0.1:PORT */
  base: string;
  /** GET a path; the JSON body parsed when there is one, and how long the answer took. */
  get(path: string): Promise<{ status: number; body: any; text: string; ms: number }>;
}

/** Starts it; everything stops when the test file ends. */
export async function startServing(opts: TestAppOptions & { health?: HealthOptions } = {}): Promise<Serving> {
  const app = await startTestApp(opts);
  const http = new HttpServer(app.log);
  const health = registerHealthRoutes(app, http, opts.health);
  const port = await http.listen(0, '127.0.0.1');
  onCleanup(async () => {
    health.stop();
    await http.close();
  });
  const base = `http://127.0.0.1:${port}`;
  return {
    app,
    health,
    base,
    async get(path) {
      const t0 = performance.now();
      const res = await fetch(`${base}${path}`);
      const text = await res.text();
      const ms = performance.now() - t0;
      let body: unknown;
      try {
        body = JSON.parse(text);
      } catch {
        body = undefined;
      }
      return { status: res.status, body, text, ms };
    },
  };
}
