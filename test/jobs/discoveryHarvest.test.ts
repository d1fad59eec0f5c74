/** The example `discovery.harvest` job: per-item upsert, and its provider's breaker opening. */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { startTestApp, asUser, type TestApp } from '../support/app.ts';
import { eventually, nextEvent } from '../support/engine.ts';
import { startFakeDiscovery, type FakeDiscovery } from '../backfill/provider.ts';
import type { DiscoveryDoc } from '../../jobs/discoveryHarvest.ts';
import type { JobRunDoc } from '../../src/db/collections.ts';

let provider: FakeDiscovery;
let app: TestApp;

beforeAll(async () => {
  provider = await startFakeDiscovery();
  app = await startTestApp({ env: { DISCOVERY_URL: provider.origin } });
});
afterAll(async () => {
  await provider?.close();
});

const harvested = (id: string) => app.t.db.collection<DiscoveryDoc>('discoveries').findOne({ _id: id });

describe('discovery.harvest', () => {
  it('upserts one item by its id; running it again changes nothing but the time', async () => {
    const first = nextEvent<JobRunDoc>(app.engine, 'run', (r) => r.jobName === 'discovery.harvest');
    await app.ops.jobs.run('discovery.harvest', { item: 'a1' });
    expect(await first).toMatchObject({ outcome: 'success', counts: { upserted: 1 } });
    const doc = await harvested('a1');
    expect(doc).toMatchObject({ _id: 'a1', data: { id: 'a1', title: 'Item a1' } });
    expect((await first).telemetry[0]).toMatchObject({ tool: 'discovery', data: { status: 200, path: '/items/a1' } });

    const second = nextEvent<JobRunDoc>(app.engine, 'run', (r) => r.jobName === 'discovery.harvest');
    await app.ops.jobs.run('discovery.harvest', { item: 'a1' });
    expect((await second).outcome).toBe('success');
    const again = await harvested('a1');
    expect(again?.firstSeenAt).toEqual(doc?.firstSeenAt);
    expect(await app.t.db.collection('discoveries').countDocuments({ _id: 'a1' as never })).toBe(1);
    expect(provider.requests.items.filter((r) => r.item === 'a1')).toHaveLength(2);
  });

  it('opens the discovery breaker after the threshold and then holds the job', async () => {
    expect((await app.dispatcher.run('config set breaker.discovery.threshold 2', asUser('admin'))).status).toBe('ok');
    expect((await app.dispatcher.run('config set discovery.harvest.backoff_ms 50', asUser('admin'))).status).toBe('ok');
    await app.engine.settings.refresh();
    provider.failing = true;
    const before = provider.requests.items.length;
    const { id } = await app.ops.jobs.run('discovery.harvest', { item: 'b1' });
    await eventually(async () => (await app.flow.breakers.list()).find((b) => b.provider === 'discovery' && b.state === 'open'), 'the discovery breaker to open', 30_000);
    // The guard now refuses anything of this provider, and the job is deferred, not failed for good.
    const gate = await app.engine.admit(app.engine.jobs.get('discovery.harvest')!, 'probe');
    expect(gate).toMatchObject({ ok: false, reason: 'breaker of discovery open' });
    expect(provider.requests.items.length - before).toBe(2);
    const runs = await app.t.db.collection<JobRunDoc>('jobRuns').find({ jobId: id }).toArray();
    expect(runs.map((r) => r.outcome)).toEqual(['failed', 'failed']);
    expect(await app.t.db.collection('deadLetters').countDocuments({ jobId: id })).toBe(0);
    const status = await app.dispatcher.run('breakers', asUser('viewer'));
    expect((status.reply.data as { items: Array<{ provider: string; state: string }> }).items).toContainEqual(expect.objectContaining({ provider: 'discovery', state: 'open' }));
  });
});
