/** `jobs run --dedupe-key --dedupe-window`: one enqueue per key and window, even when simultaneous. */
import { describe, it, expect, beforeAll } from 'vitest';
import { startTestApp, asUser, type TestApp } from '../support/app.ts';
import { TestClock } from '../support/clock.ts';

let app: TestApp;
const clock = new TestClock();
beforeAll(async () => {
  app = await startTestApp({ work: false, clock });
});

const run = (extra: string) => app.dispatcher.run(`jobs run http.invoke {"url":"https://example.com/a"} --dedupe-key order-42 ${extra}`, asUser('operator'));

describe('dedupe window', () => {
  it('skips a second enqueue with the same key inside the window and says so', async () => {
    const first = await run('--dedupe-window 1h');
    expect(first.status).toBe('ok');
    const firstData = first.reply.data as { id: string; status: string };
    expect(firstData.status).toBe('queued');
    const second = await run('--dedupe-window 1h');
    expect(second.reply.data).toMatchObject({ status: 'skipped', duplicateOf: { id: firstData.id } });
    expect(second.reply.text).toMatch(/^Skipped: http\.invoke with dedupe key "order-42" was enqueued at /);
    expect(await app.t.db.collection('agendaJobs').countDocuments({ name: 'http.invoke' })).toBe(1);
  });

  it('enqueues again once the window has passed', async () => {
    clock.advance(2 * 3600_000);
    const again = await run('--dedupe-window 1h');
    expect((again.reply.data as { status: string }).status).toBe('queued');
    expect(await app.t.db.collection('agendaJobs').countDocuments({ name: 'http.invoke' })).toBe(2);
  });

  it('ten simultaneous enqueues with one fresh key make one job', async () => {
    const results = await Promise.all(
      Array.from({ length: 10 }, () => app.dispatcher.run('jobs run http.invoke {"url":"https://example.com/b"} --dedupe-key burst --dedupe-window 10m', asUser('operator'))),
    );
    const statuses = results.map((r) => (r.reply.data as { status: string }).status);
    expect(statuses.filter((s) => s === 'queued')).toHaveLength(1);
    expect(statuses.filter((s) => s === 'skipped')).toHaveLength(9);
  });

  it('refuses a window without a key', async () => {
    const r = await app.dispatcher.run('jobs run http.invoke {"url":"https://example.com/c"} --dedupe-window 1h', asUser('operator'));
    expect(r.status).toBe('usage');
    expect(r.reply.text).toContain('--dedupe-window needs --dedupe-key');
  });
});
