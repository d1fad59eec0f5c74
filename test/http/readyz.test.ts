/**
 * /healthz and /readyz through a database outage: a server of our own is killed (SIGKILL) and
 * started again on the same port and data directory. /readyz must answer within a second
 * throughout, turn 503 within a second of the outage and 200 within two of the recovery.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.ts';
import { connect } from '../../src/runtime.ts';
import { testLogger } from '../support/engine.ts';
import { onCleanup } from '../support/mongo.ts';
import { startRestartableMongo, type RestartableMongo } from '../support/restartableMongo.ts';
import { startServing, type Serving } from './serving.ts';

let dataDir: string;
let server: RestartableMongo;
let s: Serving;

beforeAll(async () => {
  dataDir = await mkdtemp(path.join(os.tmpdir(), 'switchboard-readyz-'));
  server = await startRestartableMongo(dataDir);
  // The real connection code of `serve` (driver options included), on our own server.
  const conn = await connect(loadConfig({ MONGODB_URL: `${server.url}readyz` }), testLogger());
  onCleanup(async () => {
    await conn.close().catch(() => {});
    await server.stop();
    await rm(dataDir, { recursive: true, force: true });
  });
  s = await startServing({ db: { url: server.url, dbName: 'readyz', client: conn.client, db: conn.db } });
});

/** GETs /readyz until `done` says so; every answer must come within a second. */
async function readyzUntil(done: (status: number) => boolean, what: string, timeoutMs = 10_000) {
  const t0 = performance.now();
  let slowest = 0;
  for (;;) {
    const r = await s.get('/readyz');
    slowest = Math.max(slowest, r.ms);
    expect(r.ms, `/readyz took ${Math.round(r.ms)} ms`).toBeLessThan(1000);
    if (done(r.status)) return { ...r, after: performance.now() - t0, slowest };
    if (performance.now() - t0 > timeoutMs) throw new Error(`timed out waiting for ${what}`);
  }
}

describe('/healthz and /readyz through a database outage', () => {
  it('is ready while everything works', async () => {
    const ready = await readyzUntil((st) => st === 200, 'ready');
    expect(ready.body).toMatchObject({ ok: true, reasons: [], adapters: [] });
    const live = await s.get('/healthz');
    expect(live.status).toBe(200);
    expect(live.body.ok).toBe(true);
  });

  it('turns 503 within 1 s of the outage with the reason, stays live, and 200 within 2 s of recovery', async () => {
    await server.kill();

    const down = await readyzUntil((st) => st === 503, '503');
    expect(down.after, 'first 503 after the outage began').toBeLessThan(1000);
    expect(down.body.ok).toBe(false);
    expect(down.body.reasons).toHaveLength(1);
    expect(down.body.reasons[0]).toMatch(/^The database (is unreachable \(.+\)|did not answer a ping within 750 ms)\.$/);
    const live = await s.get('/healthz');
    expect(live.status).toBe(200);
    expect(live.ms).toBeLessThan(100);
    // Still 503, and still fast, a while into the outage.
    for (let i = 0; i < 3; i++) expect((await readyzUntil(() => true, 'any answer')).status).toBe(503);

    await server.start();
    const back = await readyzUntil((st) => st === 200, '200 after recovery');
    expect(back.after, 'first 200 after the database answered again').toBeLessThan(2000);
    expect(s.app.engine.health().working).toBe(true);
    console.info(`readyz (killed): 503 ${Math.round(down.after)} ms after the kill (answer took ${Math.round(down.ms)} ms); 200 ${Math.round(back.after)} ms after restart; slowest answer ${Math.round(Math.max(down.slowest, back.slowest))} ms`);
  });

  it('does not hang on a database that stops answering (SIGSTOP): 503 within 1 s, 200 once it answers again', async () => {
    // localMongo keeps the server's pid next to its data.
    const pid = Number(await readFile(path.join(dataDir, server.kind, 'server.pid'), 'utf8'));
    await readyzUntil((st) => st === 200, 'ready');
    process.kill(pid, 'SIGSTOP');
    let down: Awaited<ReturnType<typeof readyzUntil>>;
    try {
      down = await readyzUntil((st) => st === 503, '503');
      expect(down.after).toBeLessThan(1000);
      expect(down.body.reasons[0]).toMatch(/^The database (is unreachable \(.+\)|did not answer a ping within 750 ms)\.$/);
      expect((await s.get('/healthz')).status).toBe(200);
    } finally {
      process.kill(pid, 'SIGCONT');
    }
    const back = await readyzUntil((st) => st === 200, '200 after SIGCONT');
    expect(back.after).toBeLessThan(2000);
    console.info(`readyz (stopped): 503 ${Math.round(down.after)} ms after SIGSTOP (answer took ${Math.round(down.ms)} ms); 200 ${Math.round(back.after)} ms after SIGCONT`);
  });
});
