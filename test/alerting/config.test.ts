/** Alert rule parameters are runtime config keys: listed by `config get`, validated by `config set`. */
import { describe, it, expect, beforeAll } from 'vitest';
import { startTestApp, asUser, type TestApp } from '../support/app.ts';

let app: TestApp;
beforeAll(async () => {
  app = await startTestApp({ work: false });
});

describe('alert parameters in config', () => {
  it('lists each rule parameter with its default and meaning', async () => {
    const r = await app.dispatcher.run('config get alerts.failure-rate', asUser('viewer'));
    const items = (r.reply.data as { items: Array<{ key: string; value: unknown; default: unknown }> }).items;
    expect(items.find((i) => i.key === 'alerts.failure-rate.threshold')).toMatchObject({ value: 0.05, default: 0.05 });
    expect(items.map((i) => i.key)).toContain('alerts.failure-rate.enabled');
  });

  it('sets a parameter from text, refuses a bad value, and the evaluator reads it', async () => {
    const ok = await app.dispatcher.run('config set alerts.failure-rate.threshold 0.2', asUser('admin'));
    expect(ok.reply.data).toEqual({ key: 'alerts.failure-rate.threshold', old: 0.05, value: 0.2 });
    expect(app.engine.settings.config('alerts.failure-rate.threshold')).toBe(0.2);
    const bad = await app.dispatcher.run('config set alerts.failure-rate.threshold lots', asUser('admin'));
    expect(bad.status).toBe('usage');
    const unknown = await app.dispatcher.run('config set alerts.failure-rate.nope 1', asUser('admin'));
    expect(unknown.status).toBe('usage');
  });
});
