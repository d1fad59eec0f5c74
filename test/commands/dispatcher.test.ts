import { describe, it, expect, beforeAll } from 'vitest';
import { z } from 'zod';
import fc from 'fast-check';
import { startTestApp, asUser, type TestApp } from '../support/app.ts';
import { defineJob } from '../../src/engine/defineJob.ts';
import { eventually } from '../support/engine.ts';

let app: TestApp;
const broken = defineJob({ name: 'test.broken', payload: z.object({ n: z.number() }), retry: { maxAttempts: 1 }, async handler() { throw new Error('boom'); } });

beforeAll(async () => {
  app = await startTestApp({ extraJobs: [broken] });
});

async function deadLetterIds(count: number): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < count; i++) ids.push((await app.ops.jobs.run('test.broken', { n: i })).id);
  const docs = await eventually(async () => {
    const d = await app.t.db.collection('deadLetters').find({ jobId: { $in: ids } }).toArray();
    return d.length === count && d;
  }, `${count} dead letters`);
  return docs.map((d) => String(d._id));
}

describe('dispatcher', () => {
  it('answers unknown commands with suggestions and usage status', async () => {
    const r = await app.dispatcher.run('dlqq list', asUser('admin'));
    expect(r.status).toBe('usage');
    expect(r.reply.text).toContain('Did you mean: `dlq list`');
  });

  it('refuses a viewer a destructive command and audits the denial', async () => {
    const [id] = await deadLetterIds(1);
    const r = await app.dispatcher.run(`dlq delete ${id}`, asUser('viewer', 'U_VIEW'));
    expect(r.status).toBe('denied');
    expect(r.reply.text).toContain('admin');
    const audit = await app.t.db.collection('auditLog').findOne({ action: 'dlq_delete', 'actor.id': 'U_VIEW' });
    expect(audit?.outcome).toBe('denied');
    const dl = await app.ops.deadLetters.show(id);
    expect(dl.status).toBe('pending');
  });

  it('binds options, validates them and reports the option by name', async () => {
    const r = await app.dispatcher.run('dlq list --limit nope', asUser('viewer'));
    expect(r.status).toBe('usage');
    expect(r.reply.text).toMatch(/^--limit: /);
    expect(r.reply.text).toContain('Usage: dlq list');
    const unknown = await app.dispatcher.run('status --verbose', asUser('viewer'));
    expect(unknown.reply.text).toContain('Unknown option `--verbose`');
  });

  it('runs a button once under 10 concurrent clicks; the others learn who did it', async () => {
    const [id] = await deadLetterIds(1);
    const shown = await app.dispatcher.run(`dlq show ${id}`, asUser('admin'));
    const retry = shown.reply.actions?.find((a) => a.label === 'Retry');
    expect(retry?.token).toBeTruthy();
    const clicks = await Promise.all(Array.from({ length: 10 }, (_, i) => app.dispatcher.click(retry!.token!, asUser('admin', `U_${i}`))));
    const ran = clicks.filter((c) => !c.alreadyDone);
    expect(ran).toHaveLength(1);
    expect(ran[0].reply.text).toContain('Retried 1');
    expect(clicks.filter((c) => c.alreadyDone).every((c) => /Already done by admin-user at/.test(c.reply.text))).toBe(true);
    const audits = await app.t.db.collection('auditLog').countDocuments({ action: 'dlq_retry', target: id });
    expect(audits).toBe(1);
  });

  it('a click by a user without the role is refused and leaves the token usable', async () => {
    const [id] = await deadLetterIds(1);
    const shown = await app.dispatcher.run(`dlq show ${id}`, asUser('admin'));
    const del = shown.reply.actions!.find((a) => a.label === 'Delete')!;
    const denied = await app.dispatcher.click(del.token!, asUser('viewer', 'U_V2'));
    expect(denied.status).toBe('denied');
    expect((await app.ops.deadLetters.show(id)).status).toBe('pending');
    const ok = await app.dispatcher.click(del.token!, asUser('admin', 'U_A2'));
    expect(ok.status).toBe('ok');
    expect((await app.ops.deadLetters.show(id)).status).toBe('deleted');
  });

  it('never throws, whatever is typed', async () => {
    await fc.assert(
      fc.asyncProperty(fc.string({ maxLength: 60 }), async (text) => {
        const r = await app.dispatcher.run(text, asUser('viewer'));
        expect(['ok', 'usage', 'denied', 'error']).toContain(r.status);
        expect(typeof r.reply.text).toBe('string');
      }),
      { numRuns: 60 },
    );
  });
});
