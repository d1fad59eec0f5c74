/**
 * The dashboard's static files, from our own origin: uPlot read from node_modules at start-up
 * (no CDN, no build step) and our stylesheet and chart script from ./assets.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { HttpServer } from '../http/server.ts';
import { sendBody } from './respond.ts';

const require = createRequire(import.meta.url);

const FILES: [string, () => string, string][] = [
  ['uPlot.iife.min.js', () => require.resolve('uplot/dist/uPlot.iife.min.js'), 'text/javascript; charset=utf-8'],
  ['uPlot.min.css', () => require.resolve('uplot/dist/uPlot.min.css'), 'text/css; charset=utf-8'],
  ['dashboard.js', () => new URL('./assets/dashboard.js', import.meta.url).pathname, 'text/javascript; charset=utf-8'],
  ['dashboard.css', () => new URL('./assets/dashboard.css', import.meta.url).pathname, 'text/css; charset=utf-8'],
];

/** Mounts GET /ui/static/<file> for each file, read once. */
export function mountStaticFiles(http: HttpServer): void {
  for (const [name, path, type] of FILES) {
    const body = readFileSync(path());
    http.route('GET', `/ui/static/${name}`, (_req, res) => sendBody(res, 200, body, { 'content-type': type, 'cache-control': 'public, max-age=3600' }));
  }
}
