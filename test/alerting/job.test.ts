/** The built-in `alerts.evaluate` job: scheduled every minute, run by the engine, honouring runtime parameters. */
import { beforeAll, describe, expect, it } from 'vitest';
import type { Alerting } from '../../src/alerting/index.ts';
import type { JobRunDoc } from '../../src/db/collections.ts';
import { startTestApp, type TestApp } from '../support/app.ts';
import { nextEvent } from '../support/engine.ts';
import { recordingNotifier, seedRuns, type RecordingNotifier } from './helpers.ts';

let app: TestApp;
let alerting: Alerting;
let rec: RecordingNotifier;

beforeAll(async () => {
  app = await startTestApp({ work: true });
  alerting = app.alerting;
  rec = recordingNotifier();
  alerting.service.addNotifier(rec);
  alerting.start();
});

describe('alerts.evaluate job', () => {
  it('is scheduled as a recurring job every minute', async () => {
    const doc = await app.t.db.collection('agendaJobs').findOne({ name: 'alerts.evaluate' });
    expect(doc).toMatchObject({ repeatInterval: '1 minute' });
    expect(app.ops.alerts).toBe(alerting.ops);
  });

  it('evaluates through the engine with the parameters set at runtime (config alerts.<rule>.<param>)', async () => {
    await seedRuns(app.t.db, 'job.flaky', 5, 'failed', new Date(Date.now() - 60_000));
    await app.engine.settings.set('config:alerts.failure-count.threshold', 4);
    const ran = nextEvent<JobRunDoc>(app.engine, 'run', (r) => r.jobName === 'alerts.evaluate', 30_000);
    await app.engine.enqueue('alerts.evaluate', {});
    const run = await ran;
    expect(run.outcome).toBe('success');
    expect(run.counts.events).toBeGreaterThanOrEqual(2);
    expect(rec.kinds('failure-count:job.flaky')).toEqual(['opened', 'note']);
    expect(rec.events[0].alert.summary).toContain('fires above 4');
  });
});
